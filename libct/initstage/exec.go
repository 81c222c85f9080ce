package initstage

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/console"
	"github.com/rt-oci/rt/libct/fastjson"
	"github.com/rt-oci/rt/libct/proto"
)

// runExec becomes the process of an `rt exec`. The raw child has already
// joined the container's namespaces (so the root and working directory
// are the container's) and the host has put it in the container's
// cgroups; nothing is mounted here.
func runExec(conn *proto.Conn, b *proto.Bootstrap, fds []int) error {
	p := &specs.Process{}
	if err := fastjson.Unmarshal(b.Process, p); err != nil {
		return fmt.Errorf("init: bootstrap process: %w", err)
	}
	if len(p.Args) == 0 {
		return errors.New("init: bootstrap without process.args")
	}
	if b.Chroot {
		if len(fds) < 1 {
			return errors.New("init: container root missing")
		}
		if err := unix.Fchdir(fds[0]); err != nil {
			return fmt.Errorf("init: enter the container's root: %w", err)
		}
		if err := unix.Chroot("."); err != nil {
			return fmt.Errorf("init: chroot to the container's root: %w", err)
		}
		unix.Close(fds[0])
		fds = fds[1:]
	}
	if b.Console {
		if len(fds) < 1 {
			return errors.New("init: console socket missing")
		}
		// /dev belongs to the container: /dev/console stays as it is.
		if err := console.Setup(fds[0], p.ConsoleSize, false); err != nil {
			return err
		}
		unix.Close(fds[0])
	}
	if err := sessionKeyring(b); err != nil {
		return err
	}
	w, err := becomeProcess(p, b.PreserveFds, b.Seccomp, listenerTo(conn))
	if err != nil {
		return err
	}
	// The socket is close-on-exec: the host reads EOF once the exec worked.
	w.exec(func(err error) { conn.Send(proto.Msg{Type: proto.TypeError, Error: err.Error()}) })
	return nil
}

// listenerTo sends a seccomp notify listener to the host over conn.
func listenerTo(conn *proto.Conn) func(fd int) error {
	return func(fd int) error {
		return conn.Send(proto.Msg{Type: proto.TypeSeccompListener}, fd)
	}
}
