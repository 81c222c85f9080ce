package libct

import (
	"fmt"

	"github.com/rt-oci/rt/libct/cgroups"
)

// Pause freezes every process of a running container (v1 freezer, v2
// cgroup.freeze).
func Pause(root, id string) error {
	h, st, err := open(root, id)
	if err != nil {
		return err
	}
	defer h.Close()
	if s := Status(st); s != StatusRunning {
		return fmt.Errorf("cannot pause container %q: status is %s, not running", id, s)
	}
	cg, err := cgroups.Load(st.CgroupPaths)
	if err != nil {
		return fmt.Errorf("pause container %q: %w", id, err)
	}
	st.Paused = true
	if err := h.Save(st); err != nil {
		return err
	}
	if err := cg.Freeze(); err != nil {
		st.Paused = false
		h.Save(st)
		return fmt.Errorf("pause container %q: %w", id, err)
	}
	return nil
}

// Resume thaws a paused container.
func Resume(root, id string) error {
	h, st, err := open(root, id)
	if err != nil {
		return err
	}
	defer h.Close()
	if s := Status(st); s != StatusPaused {
		return fmt.Errorf("cannot resume container %q: status is %s, not paused", id, s)
	}
	cg, err := cgroups.Load(st.CgroupPaths)
	if err != nil {
		return fmt.Errorf("resume container %q: %w", id, err)
	}
	if err := cg.Thaw(); err != nil {
		return fmt.Errorf("resume container %q: %w", id, err)
	}
	st.Paused = false
	return h.Save(st)
}

// Pids lists the host PIDs of every process of the container.
func Pids(root, id string) ([]int, error) {
	st, err := loadUnlocked(root, id)
	if err != nil {
		return nil, err
	}
	cg, err := cgroups.Load(st.CgroupPaths)
	if err != nil {
		return nil, fmt.Errorf("ps %q: %w", id, err)
	}
	return cg.Pids()
}
