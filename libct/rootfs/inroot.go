package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// resolveFlags: every path is resolved as if root were "/" (symlinks
// included), and magic links (/proc/*/fd, /proc/*/exe) are never followed.
const resolveFlags = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// openIn opens path inside root as an O_PATH handle. root itself is
// returned for "/" (as a new descriptor).
func openIn(root *os.File, path string) (*os.File, error) {
	return openInFlags(root, path, unix.O_PATH)
}

func openInFlags(root *os.File, path string, flags int) (*os.File, error) {
	rel := strings.TrimLeft(filepath.Clean("/"+path), "/")
	if rel == "" {
		rel = "."
	}
	for {
		fd, err := unix.Openat2(int(root.Fd()), rel, &unix.OpenHow{
			Flags:   uint64(flags | unix.O_CLOEXEC),
			Resolve: resolveFlags,
		})
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "openat2 (in root)", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}

// mkdirIn makes dir and its parents inside root (a symlink on the way is
// followed, but only inside root) and returns an O_PATH handle of it.
func mkdirIn(root *os.File, dir string, mode os.FileMode) (*os.File, error) {
	if f, err := openInFlags(root, dir, unix.O_PATH|unix.O_DIRECTORY); err == nil {
		return f, nil
	}
	clean := strings.TrimLeft(filepath.Clean("/"+dir), "/")
	parent, err := openIn(root, "/")
	if err != nil {
		return nil, err
	}
	prefix := ""
	for _, comp := range strings.Split(clean, "/") {
		prefix += "/" + comp
		next, err := openInFlags(root, prefix, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil && errors.Is(err, unix.ENOENT) {
			if merr := unix.Mkdirat(int(parent.Fd()), comp, uint32(mode.Perm())); merr != nil && merr != unix.EEXIST {
				parent.Close()
				return nil, &os.PathError{Op: "mkdir (in root)", Path: prefix, Err: merr}
			}
			next, err = openInFlags(root, prefix, unix.O_PATH|unix.O_DIRECTORY)
		}
		parent.Close()
		if err != nil {
			return nil, err
		}
		parent = next
	}
	return parent, nil
}

// mkfileIn makes an empty file inside root (parents too) if nothing is
// there and returns an O_PATH handle of what is there.
func mkfileIn(root *os.File, path string) (*os.File, error) {
	if f, err := openIn(root, path); err == nil {
		return f, nil
	}
	dir, err := mkdirIn(root, filepath.Dir(filepath.Clean("/"+path)), 0o755)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	fd, err := unix.Openat(int(dir.Fd()), filepath.Base(path), unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_RDONLY, 0o644)
	if err != nil && err != unix.EEXIST {
		return nil, &os.PathError{Op: "create (in root)", Path: path, Err: err}
	}
	if err == nil {
		unix.Close(fd)
	}
	return openIn(root, path)
}
