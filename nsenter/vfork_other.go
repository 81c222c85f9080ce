//go:build !amd64 && !arm64

package nsenter

// canVfork: no vforkClone3 here; Spawn always forks.
const canVfork = false

func vforkClone3(args, size uintptr) (pid, errno uintptr) {
	panic("nsenter: no vfork on this architecture")
}
