package libct

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/console"
	"github.com/rt-oci/rt/libct/seccomp"
	"github.com/rt-oci/rt/libct/state"
)

// compileSeccomp compiles linux.seccomp, or takes it from the cache of
// compiled profiles under the state root (<root>/@rt-seccomp). Unknown
// syscall names are warnings, as in runc.
func compileSeccomp(root string, s *specs.Spec) (*seccomp.Program, error) {
	if s.Linux == nil || s.Linux.Seccomp == nil {
		return nil, nil
	}
	p, warnings, err := seccomp.Cached(filepath.Join(root, "@rt-seccomp"), s.Linux.Seccomp)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		logrus.Warn(w)
	}
	return p, nil
}

// passListener sends a seccomp notify listener to
// linux.seccomp.listenerPath with the container process state
// (runtime-spec: ContainerProcessState, the descriptor as SCM_RIGHTS).
func passListener(sc *specs.LinuxSeccomp, fd, pid int, st *state.State, status string) error {
	msg, err := json.Marshal(specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      pid,
		Metadata: sc.ListenerMetadata,
		State: specs.State{
			Version: specs.Version, ID: st.ID, Status: specs.ContainerState(status),
			Pid: st.Pid, Bundle: st.Bundle, Annotations: st.Annotations,
		},
	})
	if err != nil {
		return err
	}
	sock, err := console.Dial(sc.ListenerPath)
	if err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath: %w", err)
	}
	defer unix.Close(sock)
	if err := unix.Sendmsg(sock, msg, unix.UnixRights(fd), nil, 0); err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath %s: send the listener: %w", sc.ListenerPath, err)
	}
	return nil
}

func closeFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
