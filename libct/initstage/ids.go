package initstage

import "golang.org/x/sys/unix"

// setresgid sets the real, effective and saved group ID of the calling
// thread alone (setresgid(2) itself; glibc and syscall.Setresgid apply it
// to every thread).
func setresgid(gid uint32) error {
	g := uintptr(gid)
	if _, _, e := unix.RawSyscall(sysSetresgid, g, g, g); e != 0 {
		return e
	}
	return nil
}

// setresuid is setresgid for the user ID.
func setresuid(uid uint32) error {
	u := uintptr(uid)
	if _, _, e := unix.RawSyscall(sysSetresuid, u, u, u); e != 0 {
		return e
	}
	return nil
}
