package nsenter

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

const mfdExec = 0x10 // MFD_EXEC (Linux 6.3)

// SealedSelf returns a close-on-exec descriptor of a sealed, in-memory copy
// of the running executable. The container init is exec'd from it, so a
// process in the container that reaches /proc/<init>/exe can't write to the
// rt binary on the host (CVE-2019-5736).
func SealedSelf() (int, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return -1, fmt.Errorf("open own executable: %w", err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("rt", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|mfdExec)
	if err == unix.EINVAL {
		fd, err = unix.MemfdCreate("rt", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return -1, fmt.Errorf("memfd_create: %w", err)
	}
	st, err := src.Stat()
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	dst := os.NewFile(uintptr(fd), "rt-sealed")
	left := st.Size()
	for left > 0 {
		n, err := unix.Sendfile(fd, int(src.Fd()), nil, int(left))
		if err != nil || n == 0 {
			// Fall back to a plain copy.
			if _, err := src.Seek(st.Size()-left, io.SeekStart); err != nil {
				dst.Close()
				return -1, err
			}
			if _, err := io.Copy(dst, src); err != nil {
				dst.Close()
				return -1, fmt.Errorf("copy own executable: %w", err)
			}
			break
		}
		left -= int64(n)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		dst.Close()
		return -1, fmt.Errorf("seal executable copy: %w", err)
	}
	// Keep the descriptor open past dst's finalizer.
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
	dst.Close()
	if err != nil {
		return -1, err
	}
	return nfd, nil
}
