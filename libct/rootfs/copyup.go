package rootfs

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// tmpfsCopyUp is the "tmpcopyup" mount option (a runc and crun extension):
// a tmpfs at dest starts with a copy of what the directory held before.
// under is a handle of that directory opened before the mount; top is the
// new tmpfs. Both are walked by descriptor, never following symlinks, so
// nothing outside the rootfs is read or written; a regular file is opened
// non-blocking, must still be the file that was looked at, and at most
// its size is copied. Directories, regular
// files, symlinks and fifos are copied with their owner, mode and times;
// device nodes and sockets are skipped. Hard links become separate files.
func tmpfsCopyUp(under, top *os.File) error {
	return copyDir(int(under.Fd()), int(top.Fd()), 0)
}

// maxCopyDepth bounds the recursion of a hostile image.
const maxCopyDepth = 256

func copyDir(src, dst, depth int) error {
	if depth > maxCopyDepth {
		return errors.New("tmpcopyup: directory tree deeper than 256 levels")
	}
	d, err := unix.Openat(src, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("tmpcopyup: read directory: %w", err)
	}
	dir := os.NewFile(uintptr(d), "tmpcopyup")
	names, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return fmt.Errorf("tmpcopyup: read directory: %w", err)
	}
	for _, name := range names {
		if err := copyEntry(src, dst, name, depth); err != nil {
			return fmt.Errorf("tmpcopyup: %s: %w", name, err)
		}
	}
	return nil
}

func copyEntry(src, dst int, name string, depth int) error {
	var st unix.Stat_t
	if err := unix.Fstatat(src, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	perm := st.Mode & 0o7777
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dst, name, 0o700); err != nil {
			return err
		}
		s, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(s)
		t, err := unix.Openat(dst, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(t)
		if err := copyDir(s, t, depth+1); err != nil {
			return err
		}
		return finish(t, &st, perm)
	case unix.S_IFREG:
		// Non-blocking, and checked to be the file that was looked at: an
		// entry swapped for a fifo or a device between the stat and the
		// open (another container sharing the rootfs) must not block the
		// init or copy without end.
		s, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		in := os.NewFile(uintptr(s), name)
		defer in.Close()
		var fst unix.Stat_t
		if err := unix.Fstat(s, &fst); err != nil {
			return err
		}
		if fst.Mode&unix.S_IFMT != unix.S_IFREG || fst.Dev != st.Dev || fst.Ino != st.Ino {
			return errors.New("changed while being copied")
		}
		t, err := unix.Openat(dst, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		out := os.NewFile(uintptr(t), name)
		defer out.Close()
		if _, err := io.CopyN(out, in, fst.Size); err != nil && err != io.EOF {
			return err
		}
		return finish(t, &st, perm)
	case unix.S_IFLNK:
		buf := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(src, name, buf)
		if err != nil {
			return err
		}
		if err := unix.Symlinkat(string(buf[:n]), dst, name); err != nil {
			return err
		}
		if err := unix.Fchownat(dst, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		return unix.UtimesNanoAt(dst, name, times(&st), unix.AT_SYMLINK_NOFOLLOW)
	case unix.S_IFIFO:
		if err := unix.Mknodat(dst, name, unix.S_IFIFO|0o600, 0); err != nil {
			return err
		}
		t, err := unix.Openat(dst, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(t)
		if err := unix.Fchownat(t, "", int(st.Uid), int(st.Gid), unix.AT_EMPTY_PATH); err != nil {
			return err
		}
		if err := unix.Fchmodat(dst, name, perm, 0); err != nil {
			return err
		}
		return unix.UtimesNanoAt(dst, name, times(&st), unix.AT_SYMLINK_NOFOLLOW)
	}
	return nil // device nodes and sockets are not copied
}

// finish gives fd the owner, mode (after the owner: chown clears setuid)
// and times of st.
func finish(fd int, st *unix.Stat_t, perm uint32) error {
	if err := unix.Fchown(fd, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if err := unix.Fchmod(fd, perm); err != nil {
		return err
	}
	return unix.UtimesNanoAt(fd, "", times(st), unix.AT_EMPTY_PATH)
}

func times(st *unix.Stat_t) []unix.Timespec {
	return []unix.Timespec{st.Atim, st.Mtim}
}
