package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Test seams: a fake cgroupfs (a temp dir) replaces these to act like the
// kernel (mkdir makes the control files, rmdir ignores them) and to see every
// write in order (traceWrite runs after each write attempt).
var (
	mkdirFn    = os.Mkdir
	rmdirFn    = unix.Rmdir
	traceWrite func(path, val string)
)

// writeFile writes val to dir/name, which must exist (cgroupfs files are
// never created). Errors are *os.PathError with Op "write", so a wrapped
// message reads "write /sys/fs/cgroup/...: invalid argument".
func writeFile(dir, name, val string) error {
	p := filepath.Join(dir, name)
	failed := noteWrite(dir, name, val)
	if traceWrite != nil {
		defer traceWrite(p, val)
	}
	// Plain descriptors, not *os.File: cgroupfs files can be polled, so
	// os.OpenFile would register each one with the runtime's epoll and
	// make it non-blocking (four more system calls per write).
	fd, err := openRetry(p, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC|unix.O_NOFOLLOW)
	if err != nil {
		failed()
		return &os.PathError{Op: "write", Path: p, Err: err}
	}
	// One write: the kernel takes a cgroupfs value whole.
	for {
		_, err = unix.Write(fd, []byte(val))
		if err != unix.EINTR {
			break
		}
	}
	unix.Close(fd)
	if err != nil {
		failed()
		return &os.PathError{Op: "write", Path: p, Err: err}
	}
	return nil
}

func openRetry(p string, flags int) (int, error) {
	for {
		fd, err := unix.Open(p, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// readFile returns the trimmed content of dir/name.
func readFile(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	fd, err := openRetry(p, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return "", &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	b := make([]byte, 0, 512)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", &os.PathError{Op: "read", Path: p, Err: err}
		}
		if n == 0 {
			break
		}
		b = b[:len(b)+n]
	}
	return strings.TrimSpace(string(b)), nil
}

// fileExists reports whether dir/name exists.
func fileExists(dir, name string) bool {
	_, err := os.Lstat(filepath.Join(dir, name))
	return err == nil
}

// mkdirTracked creates dir and its missing ancestors below top (which must
// exist), calling made(d) right after each directory it creates. It returns
// the directories it created, outermost first, also on error.
//
// An ancestor that existed may vanish before its child is made: the last
// container using a shared parent deletes it once empty (libct's
// @cgroup-parents). mkdir then fails with ENOENT, and the walk starts over
// from top, making that ancestor again (then it is ours).
func mkdirTracked(top, dir string, made func(d string) error) ([]string, error) {
	if err := checkInside(top, dir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(top); err != nil {
		return nil, fmt.Errorf("cgroups: hierarchy root: %w", err)
	}
	rel, _ := filepath.Rel(top, dir)
	var created []string
	for attempt := 1; ; attempt++ {
		cur := top
		var err error
		for _, elem := range strings.Split(rel, "/") {
			cur = filepath.Join(cur, elem)
			err = mkdirFn(cur, 0o755)
			if errors.Is(err, os.ErrExist) {
				fi, serr := os.Stat(cur)
				if serr == nil && fi.IsDir() {
					err = nil
					continue // already there: ours from an earlier attempt, or not ours
				}
				if errors.Is(serr, os.ErrNotExist) {
					err = serr // gone again since the mkdir: walk again
					break
				}
				return created, fmt.Errorf("cgroups: create %s: not a directory", cur)
			}
			if err != nil {
				break
			}
			if !slices.Contains(created, cur) {
				created = append(created, cur)
			}
			if made != nil {
				if err := made(cur); err != nil {
					return created, err
				}
			}
		}
		if err == nil {
			return created, nil
		}
		if !errors.Is(err, os.ErrNotExist) || attempt == mkdirAttempts {
			return created, fmt.Errorf("cgroups: create cgroup: %w", err)
		}
		if _, serr := os.Stat(top); serr != nil {
			return created, fmt.Errorf("cgroups: hierarchy root: %w", serr)
		}
	}
}

// mkdirAttempts bounds mkdirTracked's walks when ancestors keep vanishing.
const mkdirAttempts = 8

// rmdirDelays is how long removeCgroup waits between attempts while a cgroup
// is busy (its last tasks are still exiting): about 0.6 s in all.
var rmdirDelays = []time.Duration{
	10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond,
	80 * time.Millisecond, 160 * time.Millisecond, 320 * time.Millisecond,
}

// removeCgroup removes dir and the sub-cgroups under it (deepest first). A
// directory that is already gone is fine.
func removeCgroup(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cgroups: remove: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroup(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return rmdirRetry(dir)
}

func rmdirRetry(dir string) error {
	for i := 0; ; i++ {
		err := rmdirFn(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || i == len(rmdirDelays) {
			return fmt.Errorf("cgroups: remove: %w", &os.PathError{Op: "rmdir", Path: dir, Err: err})
		}
		time.Sleep(rmdirDelays[i])
	}
}

// removeCreatedParents removes the directories Create made above the leaves,
// deepest first, leaving any that are still in use (another container may
// share a parent). dirs are in creation order.
func removeCreatedParents(dirs []string, leaves map[string]bool) error {
	for i := len(dirs) - 1; i >= 0; i-- {
		if leaves[dirs[i]] {
			continue
		}
		err := rmdirFn(dirs[i])
		if err == nil || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EBUSY) ||
			errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
			continue
		}
		return fmt.Errorf("cgroups: remove: %w", &os.PathError{Op: "rmdir", Path: dirs[i], Err: err})
	}
	return nil
}

// readPids returns the pids in dir/cgroup.procs and in every sub-cgroup,
// sorted and without duplicates.
func readPids(dir string) ([]int, error) {
	seen := map[int]bool{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if p != dir && errors.Is(err, os.ErrNotExist) {
				return nil // a sub-cgroup vanished meanwhile
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		if err != nil {
			if p != dir && errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		for _, f := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				return fmt.Errorf("parse %s/cgroup.procs: %w", p, err)
			}
			seen[pid] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cgroups: pids: %w", err)
	}
	pids := make([]int, 0, len(seen))
	for pid := range seen {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	return pids, nil
}

// dirExists reports whether dir is an existing directory.
func dirExists(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// openCgroupFd opens dir for CLONE_INTO_CGROUP.
func openCgroupFd(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("cgroups: %w", &os.PathError{Op: "open", Path: dir, Err: err})
	}
	return fd, nil
}

// field wraps err with the config.json field it came from.
func field(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}

// parallel runs fn for every dir with GOMAXPROCS workers (each blocked
// one costs a thread) and joins the errors, in order.
func parallel(dirs []string, fn func(i int, dir string) error) error {
	return parallelN(dirs, runtime.GOMAXPROCS(0), fn)
}

// waitWorkers is parallelN's width for v1 work that mostly waits in the
// kernel rather than computes: joining (each cgroup.procs write waits for
// an RCU grace period, which concurrent writes share) and rmdir. More in
// flight than CPUs pays there: -1.3 ms per rt run here.
const waitWorkers = 6

// parallelN is parallel with at most n workers.
func parallelN(dirs []string, n int, fn func(i int, dir string) error) error {
	if len(dirs) == 1 {
		return fn(0, dirs[0])
	}
	errs := make([]error, len(dirs))
	workers := min(len(dirs), n)
	var next atomic.Int32
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(dirs) {
					return
				}
				errs[i] = fn(i, dirs[i])
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
