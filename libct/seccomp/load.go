package seccomp

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Load installs p on the calling thread with
// seccomp(SECCOMP_SET_MODE_FILTER, p.Flags, prog), without TSYNC: the
// caller must be a goroutine locked to its OS thread (runtime.LockOSThread)
// that execs right after, so the filter reaches the workload and no other
// thread of the init needs it.
//
// The kernel accepts a filter only from a thread that has no_new_privs set
// (prctl(PR_SET_NO_NEW_PRIVS)) or CAP_SYS_ADMIN in its effective set; set
// no_new_privs first when the profile asks for it, or load while the
// capability is still held.
//
// When p.Notify is set the filter is loaded with
// SECCOMP_FILTER_FLAG_NEW_LISTENER and Load returns the listener fd
// (close-on-exec, as the kernel makes it); otherwise it returns -1. On
// success seccomp(2) is the only system call Load makes itself; what the
// thread does next (sending the listener, execve) must be allowed by the
// profile.
func Load(p *Program) (listenerFd int, err error) {
	if err := p.check(); err != nil {
		return -1, err
	}
	insns := decodeBPF(p.BPF)
	flags := p.Flags
	if p.Notify {
		flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	fprog := unix.SockFprog{Len: uint16(len(insns)), Filter: &insns[0]}
	r, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(insns)
	if errno != 0 {
		return -1, loadError(p, flags, errno)
	}
	if p.Notify {
		return int(r), nil
	}
	return -1, nil
}

// loadError explains a failed seccomp(2) call in terms of the profile.
func loadError(p *Program, flags uint, errno unix.Errno) error {
	switch errno {
	case unix.EACCES:
		return fmt.Errorf("linux.seccomp: loading the filter: %w: the thread needs no_new_privs (process.noNewPrivileges) or CAP_SYS_ADMIN in its effective set", errno)
	case unix.ENOMEM:
		return fmt.Errorf("linux.seccomp: loading the filter: %w: the filters attached to this process are too large together (the kernel allows 32768 instructions in all)", errno)
	case unix.EINVAL:
		if err := unsupportedFlag(p, flags); err != nil {
			return err
		}
		return fmt.Errorf("linux.seccomp: the kernel rejected the compiled filter (%d instructions): %w", p.Len(), errno)
	}
	return fmt.Errorf("linux.seccomp: loading the filter: %w", errno)
}

// flagName is the spec's name of a filter flag bit.
func flagName(bit uint) string {
	switch bit {
	case unix.SECCOMP_FILTER_FLAG_LOG:
		return "SECCOMP_FILTER_FLAG_LOG"
	case unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW:
		return "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
	case unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV:
		return "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"
	}
	return fmt.Sprintf("filter flag %#x", bit)
}

// unsupportedFlag finds a flag the kernel does not know. The kernel checks
// the flags before it reads the program, so seccomp(2) with a NULL program
// fails with EFAULT for flags it supports and with EINVAL for one it does
// not, and installs nothing either way.
func unsupportedFlag(p *Program, flags uint) error {
	probe := func(f uint) bool {
		_, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(f), 0)
		return e == unix.EINVAL
	}
	var listener uint
	if p.Notify {
		listener = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		if probe(listener) {
			return errors.New("linux.seccomp.syscalls: SCMP_ACT_NOTIFY is not supported by this kernel (it needs Linux 5.0 or later)")
		}
	}
	for bit := uint(1); bit != 0 && bit <= flags; bit <<= 1 {
		if flags&bit == 0 || bit == listener {
			continue
		}
		if probe(bit | listener) {
			return fmt.Errorf("linux.seccomp.flags: %s is not supported by this kernel: %w", flagName(bit), unix.EINVAL)
		}
	}
	return nil
}
