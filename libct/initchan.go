package libct

import (
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/console"
	"github.com/rt-oci/rt/libct/initexe"
	"github.com/rt-oci/rt/libct/proto"
	"github.com/rt-oci/rt/nsenter"
)

// initChannel prepares what every spawn of an init needs (create and
// exec): the sealed init executable, the socket pair (the child's end is
// inherited), and every other descriptor of rt close-on-exec except the
// caller's --preserve-fds (CVE-2024-21626). inherit lists what the child
// keeps. On error nothing stays open.
// exe, when >= 0, is the init executable opened already (initPrefetch).
func initChannel(root string, preserveFds, exe int) (_ int, parent, child *proto.Conn, inherit []int, err error) {
	if exe < 0 {
		if exe, err = initexe.Open(root); err != nil {
			return -1, nil, nil, nil, err
		}
	}
	if parent, child, err = proto.Pair(); err != nil {
		unix.Close(exe)
		return -1, nil, nil, nil, err
	}
	if err = closeOnExecFrom(3 + preserveFds); err != nil {
		unix.Close(exe)
		parent.Close()
		child.Close()
		return -1, nil, nil, nil, err
	}
	inherit = []int{child.Fd()}
	for i := 0; i < preserveFds; i++ {
		inherit = append(inherit, 3+i)
	}
	return exe, parent, child, inherit, nil
}

// spawnInit starts the init on exe, the child end of its socket and the
// inherited descriptors, in the namespaces of plan. cgfd >= 0 is the
// cgroup it is cloned into (CLONE_INTO_CGROUP); without it the init
// joins its cgroups after the clone and, on v1, makes its cgroup
// namespace itself once it is there.
func spawnInit(s *specs.Spec, plan *nsPlan, maps *idMaps, exe int, child *proto.Conn, inherit []int, cgfd int) (*nsenter.Process, error) {
	if err := crashPoint(stepSpawn); err != nil {
		return nil, err
	}
	clone := plan.clone
	if cgfd < 0 {
		clone &^= unix.CLONE_NEWCGROUP
	}
	attr := &nsenter.Attr{
		ExeFd:         exe,
		Argv:          []string{"rt", "init", strconv.Itoa(child.Fd())},
		Env:           []string{"GOMAXPROCS=1"},
		Inherit:       inherit,
		Clone:         clone,
		Join:          plan.join,
		CgroupFd:      cgfd,
		LateExecCheck: true,
		UserMaps:      maps.writer(),
		// An unprivileged caller (or newuidmap) must be able to open the
		// child's /proc/PID/uid_map.
		DumpableForMaps: maps != nil && maps.unprivileged,
	}
	// personality and memory policy (procattrs.go) and a new time
	// namespace (timens.go) are set on a spawning thread of their own.
	return spawnWithAttrs(s.Linux, nil, timeNSPrep(attr, timeOffsets(s)), func() (*nsenter.Process, error) {
		return nsenter.Spawn(attr)
	})
}

// closeOnExecFrom marks every descriptor >= from close-on-exec, so nothing
// of rt's leaks into the container (CVE-2024-21626).
func closeOnExecFrom(from int) error {
	if err := unix.CloseRange(uint(from), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return nil
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err == nil && fd >= from {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}

// consoleSockets gives the socket the init sends its pty master on: a
// connection to the engine's --console-socket, or, without one, one end of
// a pair whose other end (relay) rt keeps to relay the terminal itself
// (-1 otherwise). The caller closes both.
func consoleSockets(path string) (csock, relay int, err error) {
	if path != "" {
		if csock, err = console.Dial(path); err != nil {
			return -1, -1, fmt.Errorf("--console-socket: %w", err)
		}
		return csock, -1, nil
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, -1, fmt.Errorf("terminal socket pair: %w", err)
	}
	return pair[0], pair[1], nil
}

// consoleFor adds the console socket of a process.terminal to the
// bootstrap b (Console, and the descriptor after those in sendFds). It
// returns the relay end (-1 with an engine's socket) and what closes both.
func consoleFor(path string, b *proto.Bootstrap, sendFds *[]int) (relay int, closeAll func(), err error) {
	csock, relay, err := consoleSockets(path)
	if err != nil {
		return -1, nil, err
	}
	b.Console = true
	*sendFds = append(*sendFds, csock)
	return relay, func() {
		unix.Close(csock)
		if relay >= 0 {
			unix.Close(relay)
		}
	}, nil
}

// initPrefetch opens the init executable, when it is cached under the
// state root already, in the background: create starts it first thing,
// and it is ready by the time config.json is read and checked.
type initPrefetch struct {
	done chan struct{}
	fd   int
}

func prefetchInit(root string) *initPrefetch {
	p := &initPrefetch{done: make(chan struct{}), fd: -1}
	go func() {
		if fd, ok := initexe.OpenCached(root); ok {
			p.fd = fd
		}
		close(p.done)
	}()
	return p
}

// take waits for the prefetch and hands its descriptor over (-1: none).
func (p *initPrefetch) take() int {
	<-p.done
	fd := p.fd
	p.fd = -1
	return fd
}

// discard closes a descriptor nobody took.
func (p *initPrefetch) discard() {
	if fd := p.take(); fd >= 0 {
		unix.Close(fd)
	}
}
