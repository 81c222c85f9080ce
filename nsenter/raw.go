package nsenter

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// capBufs holds the raw child's capget(2)/capset(2) buffers (version 3:
// two 32-bit words per set), allocated by the parent before the fork.
type capBufs struct {
	hdr  unix.CapUserHeader
	data [2]unix.CapUserData
}

// dacCaps are the capabilities that let a process read a file its mode
// does not let it read (word 0 of the sets).
const dacCaps = 1<<unix.CAP_DAC_OVERRIDE | 1<<unix.CAP_DAC_READ_SEARCH

func newCapBufs() *capBufs {
	return &capBufs{hdr: unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}}
}

// rawSpawn forks and, in the child, runs only raw system calls up to the
// exec. It returns in the parent only. Everything the child touches is
// prepared by the caller; no variable may be declared after the fork and no
// function that can grow the stack may be called (syscall.RawSyscall* are
// nosplit).
//
//go:norace
//go:nocheckptr
//go:noinline
func rawSpawn(args *cloneArgs, caps *capBufs, exeFd int, argv, envv []*byte, closeFds, inherit, joinTypes, joinFds []uintptr,
	errFd, pidFd, goFd, goWr int, join, becomeRoot, dumpableForMaps, vfork bool) (pid int, step, errno uint32) {
	var (
		r1    uintptr
		e     syscall.Errno
		i     int
		msg   [2]uint32
		child int32
		empty [1]byte
		gobuf [1]byte
	)
	runtime_BeforeFork()
	if join {
		// The intermediate: a plain fork, so it does not share fs or files
		// and can setns(2) into a mount namespace.
		r1, _, e = syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	} else if vfork {
		// CLONE_VM|CLONE_VFORK (vfork.go): the child runs on this stack,
		// in this frame, until it execs or exits; this thread sleeps
		// meanwhile. The parent uses nothing below but the results, which
		// vforkClone3 writes after the child is gone.
		var en uintptr
		r1, en = vforkClone3(uintptr(unsafe.Pointer(args)), unsafe.Sizeof(*args))
		e = syscall.Errno(en)
	} else {
		r1, _, e = syscall.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(args)), unsafe.Sizeof(*args), 0)
	}
	if e != 0 || r1 != 0 {
		runtime_AfterFork()
		if e != 0 {
			return 0, stepClone, uint32(e)
		}
		return int(r1), 0, 0
	}

	// In the child.
	runtime_AfterForkInChild()
	// Non-dumpable from the first instruction: once it is in a
	// container's pid namespace nobody there may ptrace it or read its
	// descriptors (it holds rt's privileges); the exec of the workload
	// makes it dumpable again. With dumpableForMaps (an unprivileged rt)
	// it stays dumpable, as born, until its ID maps are written: the
	// parent (or newuidmap) opens its /proc/PID/{uid,gid}_map, which
	// belong to root while a process is non-dumpable. Only its own user
	// can reach it meanwhile.
	// A vfork child shares rt's memory, and dumpability belongs to the
	// memory: it stays as born (it only execs, and nothing else is in its
	// namespaces yet). Either way, the exec below of a file it can't read
	// leaves the new image non-dumpable.
	if !dumpableForMaps && !vfork {
		syscall.RawSyscall6(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 0, 0, 0, 0, 0)
	}
	for i = 0; i < len(closeFds); i++ {
		syscall.RawSyscall(syscall.SYS_CLOSE, closeFds[i], 0, 0)
	}
	if join {
		for i = 0; i < len(joinFds); i++ {
			_, _, e = syscall.RawSyscall(unix.SYS_SETNS, joinFds[i], joinTypes[i], 0)
			if e != 0 {
				msg = [2]uint32{stepSetns, uint32(i)<<16 | uint32(e)}
				goto fail
			}
		}
		r1, _, e = syscall.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(args)), unsafe.Sizeof(*args), 0)
		if e != 0 {
			msg = [2]uint32{stepClone, uint32(e)}
			goto fail
		}
		if r1 != 0 {
			child = int32(r1)
			_, _, e = syscall.RawSyscall(syscall.SYS_WRITE, uintptr(pidFd), uintptr(unsafe.Pointer(&child)), 4)
			if e != 0 {
				msg = [2]uint32{stepPidPipe, uint32(e)}
				goto fail
			}
			for {
				syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
			}
		}
		// The init (grandchild) goes on below.
	}
	if goFd >= 0 {
		// Wait until the parent has written the user namespace's ID maps
		// (EOF if it died: our copy of the write end is closed first).
		syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(goWr), 0, 0)
		r1, _, e = syscall.RawSyscall(syscall.SYS_READ, uintptr(goFd), uintptr(unsafe.Pointer(&gobuf[0])), 1)
		if dumpableForMaps {
			syscall.RawSyscall6(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 0, 0, 0, 0, 0)
		}
		if e != 0 || r1 != 1 {
			msg = [2]uint32{stepSync, uint32(e)}
			goto fail
		}
	}
	if becomeRoot {
		// In a new or joined user namespace, become its root, or the exec
		// would drop every capability. setgroups fails where the namespace
		// denies it; the init sets the groups itself later.
		syscall.RawSyscall(syscall.SYS_SETGROUPS, 0, 0, 0)
		_, _, e = syscall.RawSyscall(syscall.SYS_SETRESGID, 0, 0, 0)
		if e == 0 {
			_, _, e = syscall.RawSyscall(syscall.SYS_SETRESUID, 0, 0, 0)
		}
		if e != 0 {
			msg = [2]uint32{stepRoot, uint32(e)}
			goto fail
		}
	}
	for i = 0; i < len(inherit); i++ {
		_, _, e = syscall.RawSyscall(syscall.SYS_FCNTL, inherit[i], syscall.F_SETFD, 0)
		if e != 0 {
			msg = [2]uint32{stepInherit, uint32(e)}
			goto fail
		}
	}
	// Non-dumpable from the exec's first instruction, on every path: the
	// kernel gives the new image dumpable = fs.suid_dumpable (0 by
	// default, 2 is root-only) and an mm owned by a user namespace
	// privileged over the file, when this task can't read the file it
	// execs (fs/exec.c would_dump). The sealed init is mode 0111
	// (sealed.go, libct/initexe); CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
	// would let us read it anyway, so they leave the effective set only
	// (permitted, inheritable and ambient kept): the exec recomputes the
	// sets, and root's new effective set is its whole new permitted set
	// (inheritable | bounding), a non-root's its ambient set. Without
	// them in the effective set (an unprivileged rt) there is nothing to
	// drop, and a failed capset only costs this protection, not the
	// spawn. Credentials are per task, not per mm, so a vfork child's
	// capset does not touch rt's thread. After the setresuid above: a
	// change of euid to 0 would fill the effective set again.
	_, _, e = syscall.RawSyscall(syscall.SYS_CAPGET, uintptr(unsafe.Pointer(&caps.hdr)), uintptr(unsafe.Pointer(&caps.data[0])), 0)
	if e == 0 && caps.data[0].Effective&dacCaps != 0 {
		caps.data[0].Effective &^= dacCaps
		syscall.RawSyscall(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(&caps.hdr)), uintptr(unsafe.Pointer(&caps.data[0])), 0)
	}
	_, _, e = syscall.RawSyscall6(unix.SYS_EXECVEAT, uintptr(exeFd), uintptr(unsafe.Pointer(&empty[0])),
		uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])), unix.AT_EMPTY_PATH, 0)
	msg = [2]uint32{stepExec, uint32(e)}
fail:
	syscall.RawSyscall(syscall.SYS_WRITE, uintptr(errFd), uintptr(unsafe.Pointer(&msg[0])), 8)
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 253, 0, 0)
	}
}

// rawUserNSChild forks a child in a new user namespace that closes its
// copy of the pipe's write end and waits for EOF on the read end, then
// exits. Same rules as rawSpawn.
//
//go:norace
//go:nocheckptr
//go:noinline
func rawUserNSChild(rd, wr int) (pid int, errno syscall.Errno) {
	var (
		r1  uintptr
		e   syscall.Errno
		buf [1]byte
	)
	runtime_BeforeFork()
	r1, _, e = syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(unix.CLONE_NEWUSER|syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 || r1 != 0 {
		runtime_AfterFork()
		return int(r1), e
	}
	runtime_AfterForkInChild()
	syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(wr), 0, 0)
	syscall.RawSyscall(syscall.SYS_READ, uintptr(rd), uintptr(unsafe.Pointer(&buf[0])), 1)
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
}
