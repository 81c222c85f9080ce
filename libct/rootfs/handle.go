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

func preservedFlags(f *os.File) uintptr { return preservedFlagsFd(int(f.Fd())) }

func preservedFlagsFd(fd int) uintptr {
	var st unix.Statfs_t
	if unix.Fstatfs(fd, &st) != nil {
		return 0
	}
	return uintptr(st.Flags) & preservedMask
}

func fieldErr(field string, err error) error {
	return fmt.Errorf("%s: %w", field, err)
}

// fsmountAttrs maps the per-mount MS_* flags in fl to fsmount(2)
// attributes (noatime wins over strictatime, as with mount(2)).
func fsmountAttrs(fl uintptr) int {
	attrs := 0
	for _, m := range []struct {
		ms   uintptr
		attr int
	}{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
		{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
		{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
		{unix.MS_NOSYMFOLLOW, unix.MOUNT_ATTR_NOSYMFOLLOW},
		{unix.MS_NOATIME, unix.MOUNT_ATTR_NOATIME},
		{unix.MS_STRICTATIME, unix.MOUNT_ATTR_STRICTATIME},
	} {
		if fl&m.ms != 0 {
			attrs |= m.attr
		}
	}
	if attrs&unix.MOUNT_ATTR_NOATIME != 0 {
		attrs &^= unix.MOUNT_ATTR_STRICTATIME
	}
	return attrs
}
