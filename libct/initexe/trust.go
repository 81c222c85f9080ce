package initexe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// trusted checks the directories of the cache, from the state root down:
// each one that exists must be a real directory (no symlink) owned by us
// that nobody else may write. A missing one is made by us later (0700).
func trusted(dirs ...string) error {
	for _, d := range dirs {
		fi, err := os.Lstat(d)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() || !ownedByUs(fi) || fi.Mode().Perm()&0o022 != 0 {
			return fmt.Errorf("init cache: %s is not a directory only we may write", d)
		}
	}
	return nil
}

func ownedByUs(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}

// sameCache checks the opened copy: a regular file of ours, with the
// cache's mode and the embedded program's size (the path could have been
// swapped between the checks and the open).
func sameCache(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && int(st.Uid) == os.Geteuid() &&
		st.Mode&0o7777 == initMode && st.Size == int64(len(embedded))
}

// trustedAncestors checks every directory above the state root (after
// resolving symlinks): each must belong to us or to root and be writable
// by nobody else, unless it is sticky (like /tmp: others can't rename or
// remove what is ours in it). Otherwise another user could swap a
// directory on the way between the checks and the use of the cache.
func trustedAncestors(root string) error {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	for d := filepath.Dir(real); ; d = filepath.Dir(d) {
		fi, err := os.Lstat(d)
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || !fi.IsDir() || (int(st.Uid) != os.Geteuid() && st.Uid != 0) ||
			(fi.Mode().Perm()&0o022 != 0 && fi.Mode()&os.ModeSticky == 0) {
			return fmt.Errorf("init cache: %s, above the state root, may be changed by another user", d)
		}
		if d == "/" {
			return nil
		}
	}
}
