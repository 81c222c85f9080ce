package cgroups

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// defaultFreezeTimeout bounds how long Freeze and Thaw wait for the kernel.
// Generous: a loaded or emulated (TCG) machine can be slow to stop tasks.
const defaultFreezeTimeout = 10 * time.Second

// ---- cgroup v1: freezer.state ----

func (m *v1Manager) freezerDir() (string, error) {
	dir, ok := m.paths["freezer"]
	if !ok {
		return "", fmt.Errorf("cgroups: freeze: %w: cgroup v1 controller \"freezer\" is not mounted", ErrNotMounted)
	}
	return dir, nil
}

// Freeze writes FROZEN until freezer.state reads FROZEN. A v1 freezer can
// stay in FREEZING while new tasks keep arriving (fork, exec); like runc, it
// writes FROZEN again, and now and then thaws for a moment to let the
// stragglers settle. If it never settles it thaws and fails: a cgroup left in
// FREEZING is worse than one left running.
func (m *v1Manager) Freeze() error {
	dir, err := m.freezerDir()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(m.freezeTimeout)
	for i := 0; ; i++ {
		if i%50 == 49 {
			_ = writeFile(dir, "freezer.state", "THAWED")
			time.Sleep(10 * time.Millisecond)
		}
		if err := writeFile(dir, "freezer.state", "FROZEN"); err != nil {
			return fmt.Errorf("cgroups: freeze: %w", err)
		}
		state, err := readFile(dir, "freezer.state")
		if err != nil {
			return fmt.Errorf("cgroups: freeze: %w", err)
		}
		switch state {
		case "FROZEN":
			return nil
		case "FREEZING":
		default:
			return fmt.Errorf("cgroups: freeze %s: unexpected freezer.state %q", dir, state)
		}
		if time.Now().After(deadline) {
			_ = writeFile(dir, "freezer.state", "THAWED")
			return fmt.Errorf("cgroups: freeze %s: still FREEZING after %v; thawed it again", dir, m.freezeTimeout)
		}
		if i%10 == 9 {
			time.Sleep(time.Millisecond)
		}
	}
}

func (m *v1Manager) Thaw() error {
	dir, err := m.freezerDir()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(m.freezeTimeout)
	for {
		if err := writeFile(dir, "freezer.state", "THAWED"); err != nil {
			return fmt.Errorf("cgroups: thaw: %w", err)
		}
		state, err := readFile(dir, "freezer.state")
		if err != nil {
			return fmt.Errorf("cgroups: thaw: %w", err)
		}
		if state == "THAWED" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroups: thaw %s: freezer.state is %q after %v", dir, state, m.freezeTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// ---- cgroup v2: cgroup.freeze + cgroup.events ----

func (m *v2Manager) Freeze() error {
	if err := m.setFrozen(true); err != nil {
		_ = writeFile(m.dir, "cgroup.freeze", "0")
		return err
	}
	return nil
}

func (m *v2Manager) Thaw() error { return m.setFrozen(false) }

func (m *v2Manager) setFrozen(frozen bool) error {
	op, val := "thaw", "0"
	if frozen {
		op, val = "freeze", "1"
	}
	if err := writeFile(m.dir, "cgroup.freeze", val); err != nil {
		return fmt.Errorf("cgroups: %s: %w", op, err)
	}
	// cgroup.events says "frozen 1" once every task has stopped.
	// Polling, like runc; inotify on cgroup.events would also work.
	deadline := time.Now().Add(m.freezeTimeout)
	delay := time.Millisecond
	for {
		got, err := eventsFrozen(m.dir)
		if err != nil {
			return fmt.Errorf("cgroups: %s: %w", op, err)
		}
		if got == frozen {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroups: %s %s: cgroup.events does not say \"frozen %s\" after %v", op, m.dir, val, m.freezeTimeout)
		}
		time.Sleep(delay)
		if delay < 10*time.Millisecond {
			delay *= 2
		}
	}
}

// eventsFrozen reads the "frozen" key of dir/cgroup.events.
func eventsFrozen(dir string) (bool, error) {
	s, err := readFile(dir, "cgroup.events")
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == "frozen" {
			return v == "1", nil
		}
	}
	return false, errors.New(dir + "/cgroup.events has no frozen key (kernel without cgroup.freeze?)")
}

// Frozen reports whether the cgroup is frozen (or freezing): the
// container's status is then "paused".
func Frozen(m Manager) bool {
	switch m := m.(type) {
	case *v1Manager:
		dir, err := m.freezerDir()
		if err != nil {
			return false
		}
		s, err := readFile(dir, "freezer.state")
		return err == nil && (s == "FROZEN" || s == "FREEZING")
	case *v2Manager:
		s, err := readFile(m.dir, "cgroup.freeze")
		return err == nil && s == "1"
	}
	return false
}
