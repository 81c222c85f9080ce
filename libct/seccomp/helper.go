//go:build !cgo && rt_embed_seccomp

package seccomp

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/nsenter"
)

// rt is built without cgo: the cgo runtime costs every command several
// milliseconds of start-up. The compiler, libseccomp, lives in rt-seccomp
// (./rtseccomp, cgo and static), which `make` builds and embeds here; rt
// runs it only when a profile is not in the cache (Cached).

//go:embed rt-seccomp
var helper []byte

// helperID is the first bytes of the helper's sha256 (written by make).
//
//go:embed rt-seccomp.id
var helperID string

// Supported tells whether this build can compile profiles (libseccomp).
const Supported = true

// libVersion identifies the compiler for the cache key: the embedded
// helper, and the kernel, whose API level libseccomp reads.
func libVersion() string {
	var u unix.Utsname
	unix.Uname(&u)
	return "rt-seccomp " + strings.TrimSpace(helperID) + " kernel " + unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Version[:])
}

// Compile compiles a linux.seccomp profile with the embedded rt-seccomp,
// from a sealed copy in memory.
func Compile(s *specs.LinuxSeccomp) (*Program, []string, error) {
	if s == nil {
		return nil, nil, errors.New("linux.seccomp: no profile")
	}
	in, err := json.Marshal(s)
	if err != nil {
		return nil, nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	fd, err := nsenter.SealedBytes("rt-seccomp", helper)
	if err != nil {
		return nil, nil, fmt.Errorf("linux.seccomp: the compiler rt-seccomp: %w", err)
	}
	defer unix.Close(fd)
	var out, stderr bytes.Buffer
	cmd := &exec.Cmd{
		Path:   "/proc/self/fd/" + strconv.Itoa(fd),
		Args:   []string{"rt-seccomp", "compile"},
		Env:    []string{},
		Stdin:  bytes.NewReader(in),
		Stdout: &out,
		Stderr: &stderr,
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 && msg != "" {
			// The compiler's own error, naming the field.
			return nil, nil, errors.New(msg)
		}
		return nil, nil, fmt.Errorf("linux.seccomp: the compiler rt-seccomp failed: %w: %s", err, msg)
	}
	var r HelperResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.Program == nil {
		return nil, nil, fmt.Errorf("linux.seccomp: the compiler rt-seccomp answered %q: %v", out.String(), err)
	}
	if err := r.Program.check(); err != nil {
		return nil, nil, fmt.Errorf("linux.seccomp: the compiler rt-seccomp: %w", err)
	}
	return r.Program, r.Warnings, nil
}
