//go:build amd64 || arm64

package nsenter

// canVfork: vforkClone3 exists for this architecture.
const canVfork = true

// vforkClone3 is clone3(2) for a child made with CLONE_VM|CLONE_VFORK
// (vfork_amd64.s, vfork_arm64.s). The child returns on the caller's stack
// and overwrites it below the caller's frame, so the return address is
// kept in a register across the system call, as the standard library's
// rawVforkSyscall does. The caller's frame is shared too: after the call
// the parent may use only the results, which are written after the child
// has exec'd or exited. Called directly (ABI0, no wrapper frame) from
// rawSpawn.
//
//go:noescape
func vforkClone3(args, size uintptr) (pid, errno uintptr)
