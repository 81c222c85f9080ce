package nsenter

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Join is a namespace to enter with setns(2) before the new ones are made.
type Join struct {
	Type uintptr // CLONE_NEW* constant of the namespace
	Fd   int     // open file of the namespace (e.g. /proc/PID/ns/net or a bind)
	Path string  // for error messages only
}

// Attr describes the process to start.
type Attr struct {
	// ExeFd is the executable to run (the sealed init, mode 0111):
	// execveat(ExeFd, "", AT_EMPTY_PATH). The child execs it without
	// CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH in its effective set (see
	// rawSpawn), so an ELF or #! interpreter it names must be reachable
	// by the mode bits alone.
	ExeFd int
	Argv  []string // argv, argv[0] included
	Env   []string
	// Inherit lists descriptors the new process keeps, at the same numbers.
	// Everything else must be close-on-exec in the caller.
	Inherit []int
	// Clone holds the CLONE_NEW* flags of the namespaces to create.
	Clone uintptr
	// Join lists namespaces to enter first, in order.
	Join []Join
	// CgroupFd, when >= 0, is a cgroup v2 directory the process starts in
	// (CLONE_INTO_CGROUP).
	CgroupFd int
	// LateExecCheck: Spawn returns right after the clone, and the caller
	// learns whether the exec worked from Process.WaitExec, so it can do
	// other work meanwhile. A child that shares rt's memory (vfork.go)
	// returns only once it has exec'd (or failed).
	LateExecCheck bool
	// CloseInChild are descriptors the child closes first (a lock a stopped
	// child must not keep held).
	CloseInChild []int
	// UserMaps, with CLONE_NEWUSER in Clone, writes the new user
	// namespace's uid_map and gid_map for the child's PID; the child
	// waits for it before it becomes root there and execs.
	UserMaps func(pid int) error
	// DumpableForMaps keeps the child dumpable (from its birth) until
	// UserMaps is done, so that an unprivileged caller (or its setuid
	// newuidmap/newgidmap) may open /proc/PID/{uid,gid}_map, which belong
	// to root while a process is non-dumpable. The child is non-dumpable
	// before it becomes root in the namespace and execs.
	DumpableForMaps bool
	// NoSharedMemory: the child must not share rt's memory until its exec:
	// a time namespace made for children (older kernels refuse CLONE_VM
	// into it, as the vDSO pages are per namespace), or a child the
	// container may reach before its exec (rt exec), which must not stall
	// rt meanwhile.
	NoSharedMemory bool
}

// Process is a started process: the caller's direct child.
type Process struct {
	Pid   int
	Pidfd int // -1 when the kernel gave none
	errFd int // read end of the exec status pipe, until WaitExec
	attr  *Attr
}

// kill ends and reaps a process that failed before its exec.
func (p *Process) kill() {
	if p.Pidfd >= 0 {
		unix.PidfdSendSignal(p.Pidfd, unix.SIGKILL, nil, 0)
	} else {
		unix.Kill(p.Pid, unix.SIGKILL)
	}
	var ws unix.WaitStatus
	unix.Wait4(p.Pid, &ws, 0, nil)
	if p.Pidfd >= 0 {
		unix.Close(p.Pidfd)
	}
	p.Release()
}

// Release closes the exec status pipe of a process the caller gives up on
// (killed and reaped by it) before WaitExec.
func (p *Process) Release() {
	if p.errFd >= 0 {
		unix.Close(p.errFd)
		p.errFd = -1
	}
}

// WaitExec waits until the process has exec'd (nil) or failed before that
// (the error; the process is then reaped). Without LateExecCheck, Spawn
// has done this already.
func (p *Process) WaitExec() error {
	if p.errFd < 0 {
		return nil
	}
	fd := p.errFd
	p.errFd = -1
	defer unix.Close(fd)
	if st, en, ok := readChildErr(fd); ok {
		var ws unix.WaitStatus
		unix.Wait4(p.Pid, &ws, 0, nil)
		if p.Pidfd >= 0 {
			unix.Close(p.Pidfd)
			p.Pidfd = -1
		}
		return childError(st, en, p.attr)
	}
	return nil
}

// Steps reported by the raw child.
const (
	stepSetns uint32 = iota + 1
	stepClone
	stepInherit
	stepExec
	stepPidPipe
	stepSync
	stepRoot
)

var stepNames = map[uint32]string{
	stepSetns:   "setns",
	stepClone:   "clone",
	stepInherit: "fcntl",
	stepExec:    "execveat",
	stepPidPipe: "report pid",
	stepSync:    "wait for the ID maps",
	stepRoot:    "become root in the user namespace",
}

// cloneArgs is struct clone_args of clone3(2).
type cloneArgs struct {
	flags      uint64
	pidfd      uint64
	childTID   uint64
	parentTID  uint64
	exitSignal uint64
	stack      uint64
	stackSize  uint64
	tls        uint64
	setTID     uint64
	setTIDSize uint64
	cgroup     uint64
}

//go:linkname runtime_BeforeFork syscall.runtime_BeforeFork
func runtime_BeforeFork()

//go:linkname runtime_AfterFork syscall.runtime_AfterFork
func runtime_AfterFork()

//go:linkname runtime_AfterForkInChild syscall.runtime_AfterForkInChild
func runtime_AfterForkInChild()

// pidfdSink makes the pidfd slot escape to the heap.
var pidfdSink *int32

// Spawn starts the process described by a. On success the process has
// already exec'd (its image is the new program).
func Spawn(a *Attr) (*Process, error) {
	if len(a.Argv) == 0 {
		return nil, errors.New("nsenter: empty argv")
	}
	argv, err := syscall.SlicePtrFromStrings(a.Argv)
	if err != nil {
		return nil, fmt.Errorf("nsenter: argv: %w", err)
	}
	envv, err := syscall.SlicePtrFromStrings(a.Env)
	if err != nil {
		return nil, fmt.Errorf("nsenter: env: %w", err)
	}
	var errp, pidp [2]int
	if err := unix.Pipe2(errp[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("nsenter: pipe: %w", err)
	}
	keepErr := false
	defer func() {
		if !keepErr {
			unix.Close(errp[0])
		}
	}()
	join := len(a.Join) > 0
	if join {
		if err := unix.Pipe2(pidp[:], unix.O_CLOEXEC); err != nil {
			unix.Close(errp[1])
			return nil, fmt.Errorf("nsenter: pipe: %w", err)
		}
		defer unix.Close(pidp[0])
	}
	joinTypes := make([]uintptr, len(a.Join))
	joinFds := make([]uintptr, len(a.Join))
	for i, j := range a.Join {
		joinTypes[i], joinFds[i] = j.Type, uintptr(j.Fd)
	}
	// In a user namespace it makes or joins, the child becomes its root
	// before the exec; a new one needs its ID maps first.
	becomeRoot := a.Clone&unix.CLONE_NEWUSER != 0
	for _, j := range a.Join {
		if j.Type == unix.CLONE_NEWUSER {
			becomeRoot = true
		}
	}
	var gop = [2]int{-1, -1}
	if a.Clone&unix.CLONE_NEWUSER != 0 {
		if a.UserMaps == nil {
			unix.Close(errp[1])
			if join {
				unix.Close(pidp[1])
			}
			return nil, errors.New("nsenter: a new user namespace needs UserMaps")
		}
		if err := unix.Pipe2(gop[:], unix.O_CLOEXEC); err != nil {
			unix.Close(errp[1])
			if join {
				unix.Close(pidp[1])
			}
			return nil, fmt.Errorf("nsenter: pipe: %w", err)
		}
		defer unix.Close(gop[0])
		defer func() {
			if gop[1] >= 0 {
				unix.Close(gop[1])
			}
		}()
	}
	closeFds := make([]uintptr, len(a.CloseInChild))
	for i, fd := range a.CloseInChild {
		closeFds[i] = uintptr(fd)
	}
	inherit := make([]uintptr, len(a.Inherit))
	for i, fd := range a.Inherit {
		inherit[i] = uintptr(fd)
	}

	// The kernel writes the pidfd through an address kept as an integer
	// in clone_args: it must not live on a stack that may move.
	pidfd := new(int32)
	*pidfd = -1
	pidfdSink = pidfd
	args := &cloneArgs{flags: uint64(a.Clone), exitSignal: uint64(unix.SIGCHLD)}
	if a.CgroupFd >= 0 {
		args.flags |= unix.CLONE_INTO_CGROUP
		args.cgroup = uint64(a.CgroupFd)
	}
	if join {
		// The init is cloned by the intermediate, with CLONE_PARENT; its
		// exit signal is the intermediate's.
		args.flags |= unix.CLONE_PARENT
		args.exitSignal = 0
	} else {
		args.flags |= unix.CLONE_PIDFD
		args.pidfd = uint64(uintptr(unsafe.Pointer(pidfd)))
	}

	if a.DumpableForMaps {
		// The child must be dumpable from birth (no race with the map
		// writer), and it inherits rt's own setting.
		if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err == nil && d != 1 {
			unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0)
			defer unix.Prctl(unix.PR_SET_DUMPABLE, uintptr(d), 0, 0, 0)
		}
	}
	// A child that only execs (no intermediate, no ID maps to wait for)
	// shares rt's memory until then, as os/exec's children do: no copy of
	// rt's page tables and no copy-on-write faults in rt afterwards.
	// Not for a caller that must outlive a stalled child (CloseInChild:
	// rt exec, whose child may be in reach of the container before its
	// exec and must not keep rt's lock, its watchdog and its GC waiting).
	vfork := canVfork && !join && gop[0] < 0 && !a.DumpableForMaps && !a.NoSharedMemory &&
		a.Clone&unix.CLONE_NEWTIME == 0 && len(a.CloseInChild) == 0
	if vfork {
		args.flags |= unix.CLONE_VM | unix.CLONE_VFORK
	}
	// The child's capget/capset buffers (raw.go): it may not allocate.
	caps := newCapBufs()
	syscall.ForkLock.Lock()
	pid, step, errno := rawSpawn(args, caps, a.ExeFd, argv, envv, closeFds, inherit, joinTypes, joinFds, errp[1], pidp[1], gop[0], gop[1], join, becomeRoot, a.DumpableForMaps, vfork)
	syscall.ForkLock.Unlock()
	unix.Close(errp[1])
	if join {
		unix.Close(pidp[1])
	}
	if errno != 0 {
		return nil, childError(step, errno, a)
	}

	p := &Process{Pid: pid, Pidfd: int(*pidfd), errFd: -1}
	if join {
		// pid is the intermediate's; it reports the init's PID, then exits.
		inter := pid
		var ws unix.WaitStatus
		var buf [4]byte
		n, rerr := readFull(pidp[0], buf[:])
		for {
			_, werr := unix.Wait4(inter, &ws, 0, nil)
			if werr != unix.EINTR {
				break
			}
		}
		if n != 4 {
			// The intermediate failed before the clone: its reason is on errp.
			if st, en, ok := readChildErr(errp[0]); ok {
				return nil, childError(st, en, a)
			}
			return nil, fmt.Errorf("nsenter: intermediate process ended (%v) without a pid: %v", ws, rerr)
		}
		p.Pid = int(*(*int32)(unsafe.Pointer(&buf[0])))
		p.Pidfd = -1
		if fd, err := unix.PidfdOpen(p.Pid, 0); err == nil {
			p.Pidfd = fd
		}
	}
	p.errFd, p.attr = errp[0], a
	keepErr = true
	if gop[1] >= 0 {
		err := a.UserMaps(p.Pid)
		if err == nil {
			_, err = unix.Write(gop[1], []byte{0})
		}
		unix.Close(gop[1])
		gop[1] = -1
		if err != nil {
			p.kill()
			return nil, err
		}
	}
	if a.LateExecCheck {
		return p, nil
	}
	if err := p.WaitExec(); err != nil {
		return nil, err
	}
	return p, nil
}

func childError(step, errno uint32, a *Attr) error {
	e := syscall.Errno(errno)
	switch step {
	case stepSetns:
		// errno's high half carries the index of the namespace.
		i := int(errno >> 16)
		e = syscall.Errno(errno & 0xffff)
		if i < len(a.Join) {
			return fmt.Errorf("join namespace %s: setns: %w", a.Join[i].Path, e)
		}
	case stepClone:
		return fmt.Errorf("create namespaces (clone flags %#x): %w", a.Clone, e)
	}
	return fmt.Errorf("nsenter: %s: %w", stepNames[step], e)
}

func readChildErr(fd int) (step, errno uint32, ok bool) {
	var buf [8]byte
	n, _ := readFull(fd, buf[:])
	if n != 8 {
		return 0, 0, false
	}
	return *(*uint32)(unsafe.Pointer(&buf[0])), *(*uint32)(unsafe.Pointer(&buf[4])), true
}

func readFull(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Read(fd, b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, os.ErrClosed
		}
		n += m
	}
	return n, nil
}
