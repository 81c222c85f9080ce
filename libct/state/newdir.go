package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// newDir, under the state root, holds container directories being made:
// each is created and locked there, then renamed to <root>/<id>. '@' can't
// appear in a container ID, so it never collides with a container.
const newDir = "@new"

// staleAge: a directory left in newDir longer than this by a process that
// no longer holds its lock is the debris of a create killed between mkdir
// and rename.
const staleAge = time.Minute

func (s Store) createLocked(id string) (*Handle, error) {
	dir := s.Dir(id)
	// Fast refusal of a taken ID (the rename below decides).
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("container %q: %w", id, ErrExist)
	}
	top := filepath.Join(s.Root, newDir)
	if err := os.Mkdir(top, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("state dir %s: %w", top, err)
	}
	sweepNew(top)
	tmp, err := os.MkdirTemp(top, "") // not the ID: it may be 255 bytes long
	if err != nil {
		return nil, fmt.Errorf("state dir %s: %w", top, err)
	}
	fd, err := unix.Open(tmp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("state dir %s: %w", tmp, err)
	}
	// Nobody else knows tmp: the lock is ours at once.
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		os.Remove(tmp)
		return nil, fmt.Errorf("lock state dir %s: %w", tmp, err)
	}
	err = unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dir, unix.RENAME_NOREPLACE)
	if err == unix.EINVAL || err == unix.ENOSYS {
		// No RENAME_NOREPLACE on this filesystem: plain rename over an
		// existing (non-empty or locked) directory is not safe, so
		// refuse an existing name first. The window left is tiny.
		if _, serr := os.Lstat(dir); serr == nil {
			err = unix.EEXIST
		} else {
			err = unix.Rename(tmp, dir)
		}
	}
	if err != nil {
		unix.Close(fd)
		os.Remove(tmp)
		if err == unix.EEXIST || err == unix.ENOTEMPTY {
			return nil, fmt.Errorf("container %q: %w", id, ErrExist)
		}
		return nil, fmt.Errorf("state dir %s: %w", dir, err)
	}
	return &Handle{ID: id, Dir: dir, fd: fd}, nil
}

// sweepNew removes directories of creates that died before their rename:
// older than staleAge and not locked by anyone.
func sweepNew(top string) {
	ents, err := os.ReadDir(top)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(top, e.Name())
		if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) < staleAge {
			continue
		}
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != nil {
			continue
		}
		if unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) == nil {
			os.RemoveAll(p)
		}
		unix.Close(fd)
	}
}
