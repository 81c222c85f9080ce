package initstage

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/console"
	"github.com/rt-oci/rt/libct/fastjson"
	"github.com/rt-oci/rt/libct/hooks"
	"github.com/rt-oci/rt/libct/proto"
	"github.com/rt-oci/rt/libct/rootfs"
)

func run(conn *proto.Conn, b *proto.Bootstrap, fds []int) error {
	switch b.Mode {
	case proto.ModeCreate:
		return runCreate(conn, b, fds)
	case proto.ModeExec:
		return runExec(conn, b, fds)
	}
	return fmt.Errorf("init: unsupported bootstrap mode %q", b.Mode)
}

// runCreate sets up a new container around its init, waits for start,
// then execs process.args.
func runCreate(conn *proto.Conn, b *proto.Bootstrap, fds []int) error {
	s := &specs.Spec{}
	if err := fastjson.Unmarshal(b.Config, s); err != nil {
		return fmt.Errorf("init: bootstrap config: %w", err)
	}
	if s.Process == nil {
		return errors.New("init: bootstrap without a process")
	}
	if len(fds) < 1 {
		return errors.New("init: exec fifo missing")
	}
	fifo := fds[0]
	p := s.Process

	if b.UnshareCgroupNS {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("linux.namespaces: cgroup namespace: %w", err)
		}
	}
	var hookState []byte
	beforePivot := func() error {
		var err error
		hookState, err = createHooks(conn, s)
		return err
	}
	// A joined mount namespace is set up like a new one, as runc and crun
	// do: the rootfs is mounted and pivoted into there (create refused
	// rt's own namespace). Without a mount namespace, if the config mounts
	// anything (spec.SharesHostMounts), the host sent b.SharedRoot: the
	// rootfs is bound there (a directory of rt's state dir, in the shared
	// namespace) and built below it; else the init only chroots.
	created, joined := mountNS(s)
	newMount := created || joined
	shared := !newMount && b.SharedRoot != ""
	switch {
	case newMount || shared:
		if err := rootfs.Setup(&rootfs.Config{
			Spec: s, Rootfs: b.Rootfs, Bundle: b.Bundle, NoPivot: b.NoPivot,
			CgroupPaths: b.CgroupPaths, CgroupV2: b.CgroupV2, BeforePivot: beforePivot,
			IDMapped:  idmapped(b, fds),
			CowRootfs: b.CowRootfs, CowSize: b.CowSize, CowDir: b.CowDir,
			SharedAt: b.SharedRoot,
		}); err != nil {
			return err
		}
	default:
		if err := beforePivot(); err != nil {
			return err
		}
		if err := rootfs.Chroot(b.Rootfs); err != nil {
			return err
		}
	}
	if !newMount && !shared && s.Linux != nil {
		// rootfs.Setup did them otherwise.
		if err := rootfs.SetSysctls(s.Linux.Sysctl); err != nil {
			return err
		}
	}
	if s.Hostname != "" {
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("hostname: %w", err)
		}
	}
	if s.Domainname != "" {
		if err := unix.Setdomainname([]byte(s.Domainname)); err != nil {
			return fmt.Errorf("domainname: %w", err)
		}
	}
	if b.Console {
		if len(fds) < 2 {
			return errors.New("init: console socket missing")
		}
		if err := console.Setup(fds[1], p.ConsoleSize, newMount || shared); err != nil {
			return err
		}
		unix.Close(fds[1])
	}
	if newMount || shared {
		if err := rootfs.Finish(s); err != nil {
			return err
		}
	}
	if err := sessionKeyring(b); err != nil {
		return err
	}
	w, err := becomeProcess(p, b.PreserveFds, b.Seccomp, listenerTo(conn))
	if err != nil {
		return err
	}
	if err := conn.Send(proto.Msg{Type: proto.TypeReady}); err != nil {
		return err
	}
	if err := waitStart(fifo); err != nil {
		return err
	}
	if s.Hooks != nil && len(s.Hooks.StartContainer) > 0 {
		if err := hooks.Run("startContainer", s.Hooks.StartContainer, hookState); err != nil {
			return err
		}
	}
	conn.Close()
	w.exec(nil)
	return nil
}

// createHooks asks the host to run the prestart and createRuntime hooks,
// then runs createContainer here, in the container's namespaces before
// pivot_root. It returns the state JSON the host sent, for startContainer.
func createHooks(conn *proto.Conn, s *specs.Spec) ([]byte, error) {
	h := s.Hooks
	if h == nil || len(h.Prestart)+len(h.CreateRuntime)+len(h.CreateContainer)+len(h.StartContainer) == 0 {
		return nil, nil
	}
	if err := conn.Send(proto.Msg{Type: proto.TypeHooks}); err != nil {
		return nil, err
	}
	var m proto.Msg
	if _, err := conn.Recv(&m); err != nil {
		return nil, fmt.Errorf("init: waiting for hooks: %w", err)
	}
	if m.Type != proto.TypeHooksDone {
		return nil, fmt.Errorf("init: unexpected message %q", m.Type)
	}
	if m.Error != "" {
		return nil, errors.New(m.Error)
	}
	if err := hooks.Run("createContainer", h.CreateContainer, m.State); err != nil {
		return nil, err
	}
	return m.State, nil
}

// waitStart blocks until `rt start` writes a byte into the exec fifo.
func waitStart(fd int) error {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for start: %w", err)
		}
		var b [1]byte
		n, err := unix.Read(fd, b[:])
		if err == unix.EAGAIN || err == unix.EINTR || (err == nil && n == 0) {
			// A writer came and went without a byte: keep waiting.
			if n == 0 && err == nil {
				unix.Poll(fds, 10)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for start: %w", err)
		}
		// The descriptor stays open until the exec (close-on-exec): rt
		// start waits for that before the poststart hooks.
		return nil
	}
}

// mountNS tells whether the container gets a new mount namespace or
// joins an existing one.
func mountNS(s *specs.Spec) (created, joined bool) {
	if s.Linux == nil {
		return false, false
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.MountNamespace {
			return ns.Path == "", ns.Path != ""
		}
	}
	return false, false
}

// idmapped maps mounts[] indexes to the detached idmapped mounts the host
// sent with the bootstrap.
func idmapped(b *proto.Bootstrap, fds []int) map[int]int {
	if len(b.IDMapped) == 0 {
		return nil
	}
	m := map[int]int{}
	for _, x := range b.IDMapped {
		if x.Fd >= 0 && x.Fd < len(fds) {
			m[x.Mount] = fds[x.Fd]
		}
	}
	return m
}
