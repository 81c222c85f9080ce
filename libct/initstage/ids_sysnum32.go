//go:build 386 || arm

package initstage

import "golang.org/x/sys/unix"

// 386 and arm have 16-bit IDs in the original calls.
const (
	sysSetresuid = unix.SYS_SETRESUID32
	sysSetresgid = unix.SYS_SETRESGID32
)
