package cgroups

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// v2Manager is the cgroupfs driver for cgroup v2 (unified hosts).
type v2Manager struct {
	mnt    mount
	dir    string // the container's cgroup
	res    *specs.LinuxResources
	loaded bool     // from Load: the leaf counts as ours
	made   []string // directories Create made, in creation order

	freezeTimeout time.Duration
}

func newV2(h *hostInfo, inner string, res *specs.LinuxResources) (*v2Manager, error) {
	mnt := *h.v2
	base := ""
	if !filepath.IsAbs(inner) {
		own, err := h.ownDir("", mnt)
		if err != nil {
			return nil, err
		}
		// Like runc: relative to the parent of our own cgroup, since our
		// own cgroup has processes in it (us) and so cannot enable
		// controllers for a child.
		base = own
		if own != mnt.mountpoint {
			base = filepath.Dir(own)
		}
		if dir := filepath.Join(base, inner); dir == own {
			return nil, fmt.Errorf("%s: %q is the caller's own cgroup", fieldPath, inner)
		}
	}
	dir, err := cgroupDir(mnt, base, inner)
	if err != nil {
		return nil, err
	}
	m := &v2Manager{mnt: mnt, dir: dir, res: res, freezeTimeout: defaultFreezeTimeout}
	if err := checkV2(res); err != nil {
		return nil, err
	}
	return m, nil
}

func loadV2(h *hostInfo, dir string) (*v2Manager, error) {
	if h.v2 == nil {
		return nil, errors.New("cgroups: load: no cgroup2 filesystem is mounted")
	}
	if err := checkInside(h.v2.mountpoint, dir); err != nil {
		return nil, fmt.Errorf("cgroups: load: %w", err)
	}
	return &v2Manager{mnt: *h.v2, dir: dir, loaded: true, freezeTimeout: defaultFreezeTimeout}, nil
}

func (m *v2Manager) Paths() map[string]string { return map[string]string{"": m.dir} }

func (m *v2Manager) Create() error {
	made, err := mkdirTracked(m.mnt.mountpoint, m.dir, func(d string) error {
		enableControllers(filepath.Dir(d))
		return nil
	})
	m.made = append(m.made, made...)
	return err
}

// enableControllers turns on, in parent's cgroup.subtree_control, every
// controller the parent has that is not on yet, so that any resource can be
// set on the new child now or by a later update. One at a time and
// best-effort: a controller that cannot be enabled (say cpuset in a threaded
// subtree) shows up as a clear error from Set only if it is used.
func enableControllers(parent string) {
	avail, err := readFile(parent, "cgroup.controllers")
	if err != nil {
		return
	}
	on, _ := readFile(parent, "cgroup.subtree_control")
	enabled := map[string]bool{}
	for _, c := range strings.Fields(on) {
		enabled[c] = true
	}
	for _, c := range strings.Fields(avail) {
		if !enabled[c] {
			_ = writeFile(parent, "cgroup.subtree_control", "+"+c)
		}
	}
}

// controllers returns the controllers enabled for dir (nil if unknown).
func controllers(dir string) map[string]bool {
	s, err := readFile(dir, "cgroup.controllers")
	if err != nil {
		return nil
	}
	out := map[string]bool{}
	for _, c := range strings.Fields(s) {
		out[c] = true
	}
	return out
}

func (m *v2Manager) Apply(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("cgroups: apply: invalid pid %d", pid)
	}
	if err := writeFile(m.dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("cgroups: join cgroup: %w", err)
	}
	return nil
}

func (m *v2Manager) Destroy() error {
	if !m.loaded && !contains(m.made, m.dir) {
		return nil // it was there before us
	}
	if err := removeCgroup(m.dir); err != nil {
		return err
	}
	err := removeCreatedParents(m.made, map[string]bool{m.dir: true})
	m.made = nil
	return err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (m *v2Manager) Pids() ([]int, error)   { return readPids(m.dir) }
func (m *v2Manager) Exists() bool           { return dirExists(m.dir) }
func (m *v2Manager) CgroupFd() (int, error) { return openCgroupFd(m.dir) }

func (m *v2Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		r = m.res
	}
	if r == nil {
		return nil
	}
	if err := checkV2(r); err != nil {
		return err
	}
	have := controllers(m.dir)
	for _, s := range v2Setters {
		if !s.writes(r) {
			continue
		}
		if have != nil && !have[s.ctrl] {
			f := s.want(r)
			if f == "" {
				continue // only values that lift a setting: nothing to lift
			}
			return fmt.Errorf("%s: %w: the %q controller is not enabled for %s (see its parent's cgroup.subtree_control)", f, ErrNotMounted, s.ctrl, m.dir)
		}
		if err := s.set(m.dir, r); err != nil {
			return err
		}
	}
	if r.Devices != nil {
		// An eBPF program: cgroup v2 has no devices controller.
		if err := setDevicesV2Fn(m.dir, r.Devices); err != nil {
			return err
		}
	}
	return setUnified(m.dir, r.Unified, have)
}
