package libct

import (
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/cgroups"
	"github.com/rt-oci/rt/libct/state"
)

// Event is one line of `rt events`: {"type":"stats","id":...,"data":{...}}
// every interval, {"type":"oom","id":...} when the OOM killer acts in the
// container's cgroup (runc's shape).
type Event struct {
	Type string         `json:"type"`
	ID   string         `json:"id"`
	Data *cgroups.Stats `json:"data,omitempty"`
}

// Stats reads the cgroup counters of a container that is not stopped.
func Stats(root, id string) (*cgroups.Stats, error) {
	_, cg, err := eventsTarget(root, id)
	if err != nil {
		return nil, err
	}
	s, err := cgroups.GetStats(cg)
	if err != nil {
		return nil, fmt.Errorf("stats of container %q: %w", id, err)
	}
	return s, nil
}

func eventsTarget(root, id string) (*state.State, cgroups.Manager, error) {
	st, err := loadUnlocked(root, id)
	if err != nil {
		return nil, nil, err
	}
	switch Status(st) {
	case StatusCreated, StatusRunning, StatusPaused:
	default:
		return nil, nil, fmt.Errorf("events: container %q: %w", id, ErrNotRunning)
	}
	if st.CgroupPaths == nil {
		return nil, nil, fmt.Errorf("events: container %q: no cgroup recorded", id)
	}
	cg, err := cgroups.Load(st.CgroupPaths)
	if err != nil {
		return nil, nil, fmt.Errorf("events: container %q: %w", id, err)
	}
	return st, cg, nil
}

// Events calls emit with a stats event every interval (the first after one
// interval, as runc) and an oom event whenever the OOM killer acts in the
// container's cgroup, until the container's init exits (after a last look
// for an OOM kill) or emit fails. It holds no lock: other commands on the
// container, delete included, go on meanwhile.
func Events(root, id string, interval time.Duration, emit func(*Event) error) error {
	if interval <= 0 {
		return fmt.Errorf("--interval: %v: must be greater than 0", interval)
	}
	st, cg, err := eventsTarget(root, id)
	if err != nil {
		return err
	}
	pidfd, err := unix.PidfdOpen(st.Pid, 0)
	if err != nil {
		if err == unix.ESRCH {
			return fmt.Errorf("events: container %q: %w", id, ErrNotRunning)
		}
		return fmt.Errorf("events: container %q: pidfd_open: %w", id, err)
	}
	defer unix.Close(pidfd)
	if start, err := state.StartTime(st.Pid); err != nil || start != st.PidStart {
		return fmt.Errorf("events: container %q: %w", id, ErrNotRunning)
	}
	oom, err := cgroups.NotifyOOM(cg)
	switch {
	case errors.Is(err, cgroups.ErrNoMemoryController):
		logrus.Warnf("events: container %q: no memory controller, so no OOM events", id)
		oom = nil
	case err != nil:
		return fmt.Errorf("events: container %q: %w", id, err)
	}
	if oom != nil {
		defer oom.Close()
	}
	checkOOM := func() error {
		if oom == nil {
			return nil
		}
		hit, gone, err := oom.Check()
		if err != nil {
			logrus.Warnf("events: container %q: %v", id, err)
		}
		if gone {
			oom.Close()
			oom = nil
		}
		if hit {
			return emit(&Event{Type: "oom", ID: id})
		}
		return nil
	}
	next := time.Now().Add(interval)
	for {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		if oom != nil {
			fds = append(fds, unix.PollFd{Fd: int32(oom.Fd()), Events: unix.POLLIN})
		}
		wait := time.Until(next)
		ms := int(wait / time.Millisecond)
		if wait > 0 && ms == 0 {
			ms = 1
		}
		if wait <= 0 {
			ms = 0
		}
		_, err := unix.Poll(fds, ms)
		if err != nil && err != unix.EINTR {
			return fmt.Errorf("events: poll: %w", err)
		}
		if len(fds) > 1 && fds[1].Revents != 0 {
			if err := checkOOM(); err != nil {
				return err
			}
		}
		if fds[0].Revents != 0 {
			// The init is gone: the kill it may have died of was
			// signalled before; collect it and stop.
			return checkOOM()
		}
		if !time.Now().Before(next) {
			next = next.Add(interval)
			if now := time.Now(); next.Before(now) {
				next = now.Add(interval) // we fell behind: don't burst
			}
			s, err := cgroups.GetStats(cg)
			if err != nil {
				if !cg.Exists() {
					return nil
				}
				logrus.Warnf("events: container %q: %v", id, err)
				continue
			}
			if err := emit(&Event{Type: "stats", ID: id, Data: s}); err != nil {
				return err
			}
		}
	}
}
