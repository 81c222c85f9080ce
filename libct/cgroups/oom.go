package cgroups

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// OOMNotifier reports when the kernel's OOM killer acts in a container's
// cgroup. Poll Fd for reading, then call Check.
//
//   - cgroup v1: an eventfd registered for memory.oom_control through
//     cgroup.event_control. The kernel signals it when the cgroup (or a
//     sub-cgroup) hits out-of-memory, and also when the cgroup is removed.
//   - cgroup v2: inotify on memory.events, which the kernel touches when
//     one of its counters changes; an OOM kill is the "oom_kill" counter
//     rising. The counter is hierarchical: kills in sub-cgroups count.
type OOMNotifier struct {
	fd   int    // eventfd (v1) or inotify (v2), non-blocking
	dir  string // the memory cgroup directory
	v2   bool
	last uint64 // v2: oom_kill at the previous Check
	ctl  int    // v1: memory.oom_control, kept open while registered
}

// ErrNoMemoryController is returned by NotifyOOM when the container's
// cgroup has no memory controller (v1 not mounted, v2 not enabled).
var ErrNoMemoryController = errors.New("cgroups: OOM notification: no memory controller for this cgroup")

// NotifyOOM starts watching m's cgroup for OOM kills.
func NotifyOOM(m Manager) (*OOMNotifier, error) {
	switch m := m.(type) {
	case *v1Manager:
		dir, ok := m.paths["memory"]
		if !ok {
			return nil, ErrNoMemoryController
		}
		return notifyOOMV1(dir)
	case *v2Manager:
		return notifyOOMV2(m.dir)
	}
	return nil, ErrNoMemoryController
}

func notifyOOMV1(dir string) (*OOMNotifier, error) {
	ctlPath := filepath.Join(dir, "memory.oom_control")
	ctl, err := unix.Open(ctlPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENOENT {
			return nil, ErrNoMemoryController
		}
		return nil, fmt.Errorf("cgroups: OOM notification: %w", &os.PathError{Op: "open", Path: ctlPath, Err: err})
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(ctl)
		return nil, fmt.Errorf("cgroups: OOM notification: eventfd: %w", err)
	}
	reg := strconv.Itoa(efd) + " " + strconv.Itoa(ctl)
	if err := writeFile(dir, "cgroup.event_control", reg); err != nil {
		unix.Close(efd)
		unix.Close(ctl)
		return nil, fmt.Errorf("cgroups: OOM notification: %w", err)
	}
	return &OOMNotifier{fd: efd, dir: dir, ctl: ctl}, nil
}

func notifyOOMV2(dir string) (*OOMNotifier, error) {
	n := &OOMNotifier{dir: dir, v2: true, ctl: -1}
	if !fileExists(dir, "memory.events") {
		return nil, ErrNoMemoryController
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("cgroups: OOM notification: inotify: %w", err)
	}
	p := filepath.Join(dir, "memory.events")
	if _, err := unix.InotifyAddWatch(fd, p, unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("cgroups: OOM notification: %w", &os.PathError{Op: "inotify_add_watch", Path: p, Err: err})
	}
	n.fd = fd
	// Only kills from now on count.
	if n.last, err = oomKills(dir); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return n, nil
}

// oomKills reads the oom_kill counter of dir/memory.events.
func oomKills(dir string) (uint64, error) {
	s, err := readFile(dir, "memory.events")
	if err != nil {
		return 0, err
	}
	m, err := parseKeyed(s)
	if err != nil {
		return 0, fmt.Errorf("cgroups: parse %s/memory.events: %w", dir, err)
	}
	return m["oom_kill"], nil
}

// Fd is the descriptor to poll for reading.
func (n *OOMNotifier) Fd() int { return n.fd }

// Check consumes what the kernel signalled and reports whether an OOM kill
// happened since the last Check, and whether the cgroup is gone (no more
// notifications will come). It does not block; calling it without a
// pending notification is fine.
func (n *OOMNotifier) Check() (oom, gone bool, err error) {
	if n.v2 {
		return n.checkV2()
	}
	var buf [8]byte
	_, err = unix.Read(n.fd, buf[:])
	if err == unix.EAGAIN {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("cgroups: OOM notification: read eventfd: %w", err)
	}
	// The eventfd also fires when the cgroup is removed.
	if !fileExists(n.dir, "memory.oom_control") {
		return false, true, nil
	}
	return binary.NativeEndian.Uint64(buf[:]) > 0, false, nil
}

func (n *OOMNotifier) checkV2() (oom, gone bool, err error) {
	var buf [4096]byte
	for {
		nr, err := unix.Read(n.fd, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || nr <= 0 {
			break // EAGAIN: drained
		}
		// IN_IGNORED: the watch is gone with the file (cgroup removed).
		for off := 0; off+unix.SizeofInotifyEvent <= nr; {
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			l := binary.NativeEndian.Uint32(buf[off+12:])
			if mask&unix.IN_IGNORED != 0 {
				gone = true
			}
			off += unix.SizeofInotifyEvent + int(l)
		}
	}
	kills, err := oomKills(n.dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, true, nil
	}
	if err != nil {
		return false, gone, err
	}
	oom = kills > n.last
	n.last = kills
	return oom, gone, nil
}

// Close stops watching.
func (n *OOMNotifier) Close() {
	if n.fd >= 0 {
		unix.Close(n.fd)
		n.fd = -1
	}
	if n.ctl >= 0 {
		unix.Close(n.ctl)
		n.ctl = -1
	}
}
