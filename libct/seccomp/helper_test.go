//go:build !cgo && rt_embed_seccomp

package seccomp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The embedded rt-seccomp compiles what rt without cgo is given: a
// program, the warnings, and the compiler's own errors naming the field.
func TestHelperCompile(t *testing.T) {
	errno := uint(1)
	s := &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: &errno,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write", "exit_group", "no_such_syscall_rt"}, Action: specs.ActAllow},
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}}},
		},
	}
	p, warn, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() < 8 || p.check() != nil {
		t.Fatalf("program of %d instructions: %v", p.Len(), p.check())
	}
	if len(warn) != 1 || !strings.Contains(warn[0], "no_such_syscall_rt") {
		t.Errorf("warnings %q, want the unknown system call", warn)
	}

	bad := &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_BOGUS"}
	if _, _, err := Compile(bad); err == nil || !strings.HasPrefix(err.Error(), "linux.seccomp.defaultAction") {
		t.Errorf("bad action: %v, want the compiler's error naming linux.seccomp.defaultAction", err)
	}
}

// Cached keeps what the helper compiled: a second call is a hit on the file.
func TestHelperCached(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mount"}, Action: specs.ActErrno}}}
	p1, _, err := Cached(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("cache holds %d files, want 1", len(ents))
	}
	// A hit must not run the helper: hide it.
	saved := helper
	helper = nil
	defer func() { helper = saved }()
	p2, _, err := Cached(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	if string(p1.BPF) != string(p2.BPF) {
		t.Fatal("cached program differs from the compiled one")
	}
}
