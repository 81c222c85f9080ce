package cgroups

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// v1Manager is the cgroupfs driver for cgroup v1 (legacy and hybrid hosts).
type v1Manager struct {
	paths  map[string]string // controller → leaf directory
	mounts map[string]mount  // controller → its hierarchy's mount
	uni    *mount            // the hybrid host's cgroup2 mount, if any (not joined)
	res    *specs.LinuxResources
	loaded bool     // from Load: created is unknown, the leaves count as ours
	made   []string // directories Create made, in creation order

	freezeTimeout time.Duration
}

// newV1 computes the leaf directory in every mounted v1 hierarchy. inner is
// the cleaned Config path (see innerPath).
func newV1(h *hostInfo, inner string, res *specs.LinuxResources) (*v1Manager, error) {
	m := &v1Manager{paths: map[string]string{}, mounts: map[string]mount{}, uni: h.v2, res: res, freezeTimeout: defaultFreezeTimeout}
	for _, ctrl := range v1Controllers {
		mnt, ok := h.v1[ctrl]
		if !ok {
			continue
		}
		base := ""
		if !strings.HasPrefix(inner, "/") {
			own, err := h.ownDir(ctrl, mnt)
			if err != nil {
				return nil, err
			}
			base = own
		}
		dir, err := cgroupDir(mnt, base, inner)
		if err != nil {
			return nil, err
		}
		if base != "" && dir == base {
			return nil, fmt.Errorf("%s: %q is the caller's own cgroup", fieldPath, inner)
		}
		m.paths[ctrl] = dir
		m.mounts[ctrl] = mnt
	}
	if len(m.paths) == 0 {
		return nil, errors.New("cgroups: no cgroup v1 hierarchy is mounted")
	}
	if err := m.check(res); err != nil {
		return nil, err
	}
	return m, nil
}

// loadV1 rebuilds a manager from recorded paths, checking each against the
// host's mounts so a damaged state file cannot point rt elsewhere.
func loadV1(h *hostInfo, paths map[string]string) (*v1Manager, error) {
	m := &v1Manager{paths: map[string]string{}, mounts: map[string]mount{}, uni: h.v2, loaded: true, freezeTimeout: defaultFreezeTimeout}
	for ctrl, dir := range paths {
		mnt, ok := h.v1[ctrl]
		if !ok {
			return nil, fmt.Errorf("cgroups: load: cgroup v1 controller %q is not mounted", ctrl)
		}
		if err := checkInside(mnt.mountpoint, dir); err != nil {
			return nil, fmt.Errorf("cgroups: load %s: %w", ctrl, err)
		}
		m.paths[ctrl] = dir
		m.mounts[ctrl] = mnt
	}
	return m, nil
}

func (m *v1Manager) Paths() map[string]string {
	out := make(map[string]string, len(m.paths))
	for k, v := range m.paths {
		out[k] = v
	}
	return out
}

// dirs returns the distinct leaf directories, each with one controller that
// leads to it (co-mounted controllers share a directory), in a fixed order.
func (m *v1Manager) dirs() (dirs []string, ctrlOf map[string]string) {
	ctrlOf = map[string]string{}
	keys := make([]string, 0, len(m.paths))
	for k := range m.paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := m.paths[k]
		if _, ok := ctrlOf[d]; !ok {
			ctrlOf[d] = k
			dirs = append(dirs, d)
		}
	}
	return dirs, ctrlOf
}

func (m *v1Manager) Create() error {
	dirs, ctrlOf := m.dirs()
	// Hierarchies are independent: make them in parallel.
	made := make([][]string, len(dirs))
	err := parallel(dirs, func(i int, dir string) error {
		ctrl := ctrlOf[dir]
		var after func(string) error
		if m.mounts[ctrl].mountpoint == m.mountOf("cpuset") {
			after = copyCpuset
		}
		created, err := mkdirTracked(m.mounts[ctrl].mountpoint, dir, after)
		made[i] = created
		return err
	})
	for _, c := range made {
		m.made = append(m.made, c...)
	}
	return err
}

func (m *v1Manager) mountOf(ctrl string) string {
	if mnt, ok := m.mounts[ctrl]; ok {
		return mnt.mountpoint
	}
	return "\x00none"
}

// copyCpuset gives a new cpuset cgroup its parent's cpus and mems: a v1
// cpuset starts empty, and a task cannot join an empty cpuset.
func copyCpuset(dir string) error {
	parent := dir[:strings.LastIndexByte(dir, '/')]
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		cur, err := readFile(dir, f)
		if err != nil {
			return fmt.Errorf("cgroups: cpuset: %w", err)
		}
		if cur != "" {
			continue // cgroup.clone_children did it
		}
		val, err := parentCpuset(parent, f)
		if err != nil {
			return fmt.Errorf("cgroups: cpuset: %w", err)
		}
		if err := writeFile(dir, f, val); err != nil {
			return fmt.Errorf("cgroups: cpuset: copy %s from parent: %w", f, err)
		}
	}
	return nil
}

// parentCpuset reads f of parent. A parent that another rt has just made
// (a shared parent of two containers created at once) may still be empty:
// it is waited for (up to 2 s), never written, as it is not ours.
func parentCpuset(parent, f string) (string, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		val, err := readFile(parent, f)
		if err != nil || val != "" || time.Now().After(deadline) {
			return val, err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (m *v1Manager) Apply(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("cgroups: apply: invalid pid %d", pid)
	}
	// Like runc: the realtime budget comes before the process, which the
	// kernel would not admit without one if it already ran SCHED_RR.
	if dir, ok := m.paths["cpu"]; ok && m.res != nil && m.res.CPU != nil {
		if err := setRealtime(dir, m.res.CPU); err != nil {
			return err
		}
	}
	dirs, ctrlOf := m.dirs()
	// Each cgroup.procs write waits for an RCU grace period on v1;
	// concurrent writes share it.
	return parallelN(dirs, waitWorkers, func(_ int, dir string) error {
		if err := writeFile(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("cgroups: join %s cgroup: %w", ctrlOf[dir], err)
		}
		return nil
	})
}

func (m *v1Manager) Destroy() error {
	dirs, _ := m.dirs()
	leaves := map[string]bool{}
	var mine []string
	for _, dir := range dirs {
		leaves[dir] = true
		if !m.loaded && !contains(m.made, dir) {
			continue // it was there before us
		}
		mine = append(mine, dir)
	}
	var errs []error
	if err := parallelN(mine, waitWorkers, func(_ int, dir string) error { return removeCgroup(dir) }); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		if err := removeCreatedParents(m.made, leaves); err != nil {
			errs = append(errs, err)
		}
		m.made = nil
	}
	return errors.Join(errs...)
}

// pidsDir picks the hierarchy whose cgroup.procs Pids reads.
func (m *v1Manager) pidsDir() (string, error) {
	for _, c := range []string{"freezer", "pids", "memory", "devices", "cpu"} {
		if d, ok := m.paths[c]; ok {
			return d, nil
		}
	}
	dirs, _ := m.dirs()
	if len(dirs) == 0 {
		return "", errors.New("cgroups: no cgroup paths")
	}
	return dirs[0], nil
}

func (m *v1Manager) Pids() ([]int, error) {
	dir, err := m.pidsDir()
	if err != nil {
		return nil, err
	}
	return readPids(dir)
}

func (m *v1Manager) Exists() bool {
	for _, d := range m.paths {
		if dirExists(d) {
			return true
		}
	}
	return false
}

func (m *v1Manager) CgroupFd() (int, error) { return -1, nil }

func (m *v1Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		r = m.res
	}
	if r == nil {
		return nil
	}
	if err := m.check(r); err != nil {
		return err
	}
	for _, s := range v1Setters {
		dir, ok := m.paths[s.ctrl]
		if !ok || !s.writes(r) {
			continue
		}
		if err := s.set(dir, r); err != nil {
			return err
		}
	}
	return nil
}

// check fails when r asks for a controller that is not mounted, or for
// something cgroup v1 cannot do.
func (m *v1Manager) check(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if len(r.Unified) > 0 {
		return fmt.Errorf("linux.resources.unified: %w: cgroup v2 (unified) resources on a cgroup v1 host", ErrNotMounted)
	}
	if err := CheckResources(r); err != nil {
		return err
	}
	for _, s := range v1Setters {
		if _, ok := m.paths[s.ctrl]; ok {
			continue
		}
		if f := s.want(r); f != "" {
			return lacks(f, "no %s controller in this host's cgroup v1 hierarchies%s", s.ctrl, m.unifiedNote(s.ctrl))
		}
	}
	return nil
}

// unifiedNote explains, for a controller that only the hybrid cgroup2
// mount has (hugetlb on some hosts), why rt does not use it there: like
// runc, rt puts a container's limits in the v1 hierarchies on a v1 host.
func (m *v1Manager) unifiedNote(ctrl string) string {
	if m.uni == nil {
		return ""
	}
	have, err := readFile(m.uni.mountpoint, "cgroup.controllers")
	if err != nil {
		return ""
	}
	for _, c := range strings.Fields(have) {
		if c == ctrl {
			return fmt.Sprintf(" (the hybrid cgroup2 mount at %s has it, but on a cgroup v1 host rt, like runc, sets limits only in the v1 hierarchies)", m.uni.mountpoint)
		}
	}
	return ""
}
