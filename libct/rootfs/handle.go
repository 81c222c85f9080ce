package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// procFd is the magic-link path of an open descriptor, for mount(2).
func procFd(f *os.File) string {
	return "/proc/thread-self/fd/" + strconv.Itoa(int(f.Fd()))
}

// mkdirIn makes dir (and parents) inside root and returns an O_PATH handle.
func mkdirIn(root *os.File, dir string, mode os.FileMode) (*os.File, error) {
	return pathrs.MkdirAllHandle(root, dir, mode)
}

// mkfileIn makes an empty file inside root (parents too) if nothing is
// there and returns an O_PATH handle of what is there.
func mkfileIn(root *os.File, path string) (*os.File, error) {
	if f, err := pathrs.OpenatInRoot(root, path); err == nil {
		return f, nil
	}
	dir, err := mkdirIn(root, filepath.Dir(path), 0o755)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	fd, err := unix.Openat(int(dir.Fd()), filepath.Base(path), unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_RDONLY, 0o644)
	if err != nil && err != unix.EEXIST {
		return nil, &os.PathError{Op: "create", Path: path, Err: err}
	}
	if err == nil {
		unix.Close(fd)
	}
	return pathrs.OpenatInRoot(root, path)
}

// openIn opens an existing path inside root as an O_PATH handle.
func openIn(root *os.File, path string) (*os.File, error) {
	return pathrs.OpenatInRoot(root, path)
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
