package rootfs

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// procFd is the magic-link path of an open descriptor, for mount(2).
func procFd(f *os.File) string {
	return "/proc/thread-self/fd/" + strconv.Itoa(int(f.Fd()))
}

// mountAt mounts onto the object f refers to.
func mountAt(src string, f *os.File, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(src, procFd(f), fstype, flags, data); err != nil {
		return err
	}
	return nil
}

// preservedFlags returns the flags of the mount at f that a bind remount
// must keep (a remount can't clear locked flags).
func preservedFlags(f *os.File) uintptr {
	var st unix.Statfs_t
	if unix.Fstatfs(int(f.Fd()), &st) != nil {
		return 0
	}
	keep := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_RDONLY)
	return uintptr(st.Flags) & keep
}

func fieldErr(field string, err error) error {
	return fmt.Errorf("%s: %w", field, err)
}
