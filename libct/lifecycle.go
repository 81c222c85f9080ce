package libct

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/cgroups"
	"github.com/rt-oci/rt/libct/state"
)

func notExist(id string) error {
	return fmt.Errorf("container %q %w", id, state.ErrNotExist)
}

// ErrNotRunning carries containerd's "container not running".
var ErrNotRunning = errors.New("container not running")

func open(root, id string) (*state.Handle, *state.State, error) {
	h, err := state.Store{Root: root}.Open(id)
	if err != nil {
		return nil, nil, err
	}
	st, err := h.Load()
	if err != nil {
		h.Close()
		return nil, nil, err
	}
	return h, st, nil
}

// Start releases a created container's init to exec the process.
func Start(root, id string) error {
	h, st, err := open(root, id)
	if err != nil {
		return err
	}
	defer h.Close()
	switch s := Status(st); s {
	case StatusCreated:
	case StatusStopped:
		return fmt.Errorf("cannot start container %q: it has stopped", id)
	default:
		return fmt.Errorf("cannot start container %q: status is %s, not created", id, s)
	}
	return start(h, st)
}

// start releases the init of a created container and records it as
// started; the caller holds the record's lock.
func start(h *state.Handle, st *state.State) error {
	id := st.ID
	crashPoint(stepStartFifo)
	fd, err := unix.Open(h.FifoPath(), unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENXIO || err == unix.ENOENT {
			return fmt.Errorf("cannot start container %q: its init is not waiting for start", id)
		}
		return fmt.Errorf("open exec fifo: %w", err)
	}
	_, err = unix.Write(fd, []byte{0})
	if err == nil && st.Hooks != nil && len(st.Hooks.Poststart) > 0 {
		// poststart runs after the process started: the init holds the
		// fifo's read end until its exec (close-on-exec), so wait for the
		// last reader to go (POLLERR on our write end).
		waitReadersGone(fd)
	}
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("cannot start container %q: %w", id, err)
	}
	crashPoint(stepStartRecord)
	os.Remove(h.FifoPath())
	st.Phase = state.PhaseStarted
	st.Fifo = false
	if err := h.Save(st); err != nil {
		return err
	}
	crashPoint(stepStartPoststart)
	if err := runPoststart(st); err != nil {
		// runtime-spec 1.3: a failed poststart hook fails start; the
		// container is stopped.
		state.Signal(st.Pid, st.PidStart, unix.SIGKILL)
		return fmt.Errorf("start container %q: %w", id, err)
	}
	return nil
}

// waitReadersGone waits until a FIFO's write end fd has no reader left.
func waitReadersGone(fd int) {
	fds := []unix.PollFd{{Fd: int32(fd)}}
	for {
		n, err := unix.Poll(fds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil || (n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0) {
			return
		}
	}
}

// Kill sends sig to the init, or with all to every process of the
// container's cgroup.
func Kill(root, id string, sig unix.Signal, all bool) error {
	h, st, err := open(root, id)
	if err != nil {
		return err
	}
	defer h.Close()
	status := Status(st)
	defer thawIfKilled(st, sig)
	if all {
		if st.CgroupPaths != nil {
			if cg, err := cgroups.Load(st.CgroupPaths); err == nil {
				pids, err := cg.Pids()
				for _, p := range pids {
					unix.Kill(p, sig)
				}
				// Nothing left in the cgroup is success, as runc (engines
				// send kill --all 9 after the init exited).
				if err == nil {
					return nil
				}
			}
		}
	}
	if status == StatusStopped || status == StatusCreating {
		return fmt.Errorf("cannot kill container %q: %w", id, ErrNotRunning)
	}
	if err := state.Signal(st.Pid, st.PidStart, sig); err != nil {
		if err == unix.ESRCH {
			return fmt.Errorf("cannot kill container %q: %w", id, ErrNotRunning)
		}
		return fmt.Errorf("kill container %q: %w", id, err)
	}
	return nil
}

// thawIfKilled lets a paused container act on SIGKILL.
func thawIfKilled(st *state.State, sig unix.Signal) {
	if sig == unix.SIGKILL && st.Paused && st.CgroupPaths != nil {
		if cg, err := cgroups.Load(st.CgroupPaths); err == nil {
			cg.Thaw()
		}
	}
}

// Delete removes a stopped (or, with force, any) container: its processes,
// cgroups, fifo and state directory. A missing container is an error
// unless force.
func Delete(root, id string, force bool) error {
	h, err := state.Store{Root: root}.Open(id)
	if err != nil {
		if force && errors.Is(err, state.ErrNotExist) {
			return nil
		}
		return err
	}
	st, err := h.Load()
	if err != nil {
		defer h.Close()
		if !force {
			return fmt.Errorf("%w (delete --force removes the record)", err)
		}
		// The record is unreadable: nothing in it can be undone; drop it.
		return h.Remove()
	}
	defer h.Close()
	status := Status(st)
	switch status {
	case StatusStopped, StatusCreated:
		// A created container is killed by delete, as runc does.
	default:
		if !force {
			return fmt.Errorf("cannot delete container %q that is not stopped: status is %s (use --force)", id, status)
		}
	}
	return destroy(h, st)
}

// destroy undoes everything the journal lists, in reverse order.
func destroy(h *state.Handle, st *state.State) error {
	crashPoint(stepDeleteKill)
	// linux.netDevices of an unfinished create go back to the host, while
	// the init still holds its namespace; linux.intelRdt's group goes
	// (libct/netdev.go).
	releaseHostResources(st)
	var cg cgroups.Manager
	if st.CgroupPaths != nil {
		cg, _ = cgroups.Load(st.CgroupPaths)
	}
	if st.Pid > 0 && state.Alive(st.Pid, st.PidStart) {
		fd, err := unix.PidfdOpen(st.Pid, 0)
		if err == nil {
			if s, _ := state.StartTime(st.Pid); s == st.PidStart {
				unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
				if cg != nil && st.Paused {
					// Frozen processes act on SIGKILL only once thawed.
					cg.Thaw()
				}
				waitGone(st.Pid, fd, 10*time.Second)
			}
			unix.Close(fd)
		}
	}
	if cg != nil && st.Paused {
		cg.Thaw()
	}
	crashPoint(stepDeleteCgroup)
	if cg != nil {
		// Processes left in the cgroup (the container shared the host pid
		// namespace, or the init died first) go too.
		// v2: cgroup.kill (no PID can be reused in between); v1: each PID.
		cgroups.Kill(cg)
		if st.CgroupCreated {
			if err := cg.Destroy(); err != nil {
				return fmt.Errorf("delete container %q: remove cgroup: %w", st.ID, err)
			}
			if err := cgroups.RemoveEmpty(st.CgroupDirs); err != nil {
				return fmt.Errorf("delete container %q: remove cgroup parents: %w", st.ID, err)
			}
		}
		// Parents still used by another container are left to the last
		// delete (cgparents.go).
		sweepParents(filepath.Dir(h.Dir), st.CgroupDirs)
	}
	crashPoint(stepDeleteState)
	if st.Phase != state.PhaseCreating || st.Pid > 0 {
		runPoststop(st)
	}
	if err := h.Remove(); err != nil {
		return fmt.Errorf("delete container %q: remove state: %w", st.ID, err)
	}
	return nil
}
