package rootfs

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// procFd is the magic-link path of an open descriptor, for mount(2).
func procFd(f *os.File) string { return fdPath(int(f.Fd())) }

// fdPath is /proc/thread-self/fd/N, to mount from or onto descriptor fd.
func fdPath(fd int) string { return "/proc/thread-self/fd/" + strconv.Itoa(fd) }

// mountAt mounts onto the object f refers to.
func mountAt(src string, f *os.File, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(src, procFd(f), fstype, flags, data); err != nil {
		return err
	}
	return nil
}

// preservedFlags returns the flags of the mount at f that a bind remount
// must keep (a remount can't clear locked flags).
const preservedMask = uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_RDONLY)

func preservedFlags(f *os.File) uintptr {
	var st unix.Statfs_t
	if unix.Fstatfs(int(f.Fd()), &st) != nil {
		return 0
	}
	return uintptr(st.Flags) & preservedMask
}

func fieldErr(field string, err error) error {
	return fmt.Errorf("%s: %w", field, err)
}
