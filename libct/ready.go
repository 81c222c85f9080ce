package libct

import (
	"errors"
	"fmt"
	"io"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-oci/rt/libct/proto"
	"github.com/rt-oci/rt/libct/state"
)

// awaitReady serves the init until it reports ready: the hooks request,
// then "ready" or an error.
func awaitReady(parent *proto.Conn, st *state.State, initPid int, s *specs.Spec) error {
	for {
		var m proto.Msg
		fds, err := parent.Recv(&m)
		if m.Type == proto.TypeSeccompListener && err == nil && len(fds) == 1 {
			err = passListener(s.Linux.Seccomp, fds[0], initPid, st, StatusCreating)
			closeFds(fds)
			if err != nil {
				return err
			}
			continue
		}
		closeFds(fds)
		if err != nil {
			if err == io.EOF {
				return fmt.Errorf("container init exited during setup (%s)%s", exitReason(initPid), memoryHint(s))
			}
			return fmt.Errorf("%w%s", err, memoryHint(s))
		}
		switch m.Type {
		case proto.TypeReady:
			return nil
		case proto.TypeError:
			return errors.New(m.Error)
		case proto.TypeHooks:
			reply := proto.Msg{Type: proto.TypeHooksDone, State: hookState(st, StatusCreating)}
			if err := runCreateHooks(st); err != nil {
				reply.Error = err.Error()
			}
			if err := parent.Send(reply); err != nil {
				return err
			}
			if reply.Error != "" {
				return errors.New(reply.Error)
			}
		default:
			return fmt.Errorf("container init: unexpected message %q", m.Type)
		}
	}
}

// memoryHint names linux.resources.memory.limit when one is set: a limit
// too small for the init stage gets it OOM-killed before it can say so.
func memoryHint(s *specs.Spec) string {
	if s.Linux == nil || s.Linux.Resources == nil || s.Linux.Resources.Memory == nil || s.Linux.Resources.Memory.Limit == nil {
		return ""
	}
	if l := *s.Linux.Resources.Memory.Limit; l > 0 && l < 64<<20 {
		return fmt.Sprintf("; linux.resources.memory.limit %d may be too small for the container's setup (rt's init needs a few MiB)", l)
	}
	return ""
}
