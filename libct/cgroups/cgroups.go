package cgroups

import (
	"errors"
	"fmt"
	"os"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Config describes where a container's cgroup lives.
type Config struct {
	// Path is linux.cgroupsPath: absolute "/a/b" (relative to the root of
	// each hierarchy), relative "a/b" (relative to the caller's own cgroup,
	// or its parent on v2, as runc does), or "" for the relative path "<ID>".
	Path string
	// ID is the container ID; used for the default path.
	ID string
	// Resources are checked by New (a requested resource whose v1
	// controller is not mounted is an error before anything is created) and
	// written by Set(nil).
	Resources *specs.LinuxResources
	// Systemd selects the systemd cgroup driver (--systemd-cgroup). It is not
	// implemented yet; New fails with a clear error.
	Systemd bool
	// Rootless: the caller may lack permission on the cgroup hierarchies;
	// New leaves out the cgroups it can't use unless something needs them
	// (rootless.go).
	Rootless bool
}

// Manager owns the cgroup(s) of one container.
type Manager interface {
	// Paths returns controller → absolute directory (v2: the single key "").
	// It is computed from the Config alone, before anything is created, so a
	// journal can record it first. The map is a copy.
	Paths() map[string]string
	// Create makes every directory of Paths (mkdir -p) and records which
	// directories it created itself; only those are removed by Destroy. On
	// v1 it copies cpuset.cpus/mems down into cpuset directories it made; on
	// v2 it enables the available controllers in the parents' subtree_control
	// for directories it made.
	Create() error
	// Apply moves pid into the cgroup (writes cgroup.procs of every path).
	Apply(pid int) error
	// Set writes the limits in r; r == nil means Config.Resources.
	Set(r *specs.LinuxResources) error
	// Destroy removes the cgroup directories (see the package doc for which),
	// retrying briefly while they are busy. Killing the processes is the
	// caller's job. Directories that are already gone are fine.
	Destroy() error
	// Pids returns every pid in the cgroup, including sub-cgroups.
	Pids() ([]int, error)
	// Freeze freezes every process in the cgroup and waits until the kernel
	// reports the cgroup frozen. On failure it thaws again.
	Freeze() error
	// Thaw undoes Freeze and waits until the cgroup is thawed.
	Thaw() error
	// Exists reports whether any of the cgroup directories exists.
	Exists() bool
	// CgroupFd opens the v2 leaf directory (O_PATH|O_DIRECTORY|O_CLOEXEC) for
	// clone3's CLONE_INTO_CGROUP; the caller closes it. On v1 it returns -1,
	// nil.
	CgroupFd() (int, error)
}

// ErrNotMounted is wrapped when a resource is requested for a cgroup v1
// controller that is not mounted on the host, or (v2) when the controller is
// not enabled for the cgroup.
var ErrNotMounted = errors.New("cgroup controller is not available")

// ErrSystemdNotRunning is returned by New for Config.Systemd on a host
// without systemd.
var ErrSystemdNotRunning = errors.New("systemd cgroup driver: systemd is not running on this host (no /run/systemd/system)")

// The host files New and Load read. Tests of a fake tree call the internal
// constructors (detect, newManager, load) with their own files instead.
const (
	procMountinfo = "/proc/self/mountinfo"
	procCgroup    = "/proc/self/cgroup"
	systemdDir    = "/run/systemd/system"
)

// New returns the Manager for c on this host. It creates nothing.
func New(c Config) (Manager, error) {
	if c.Systemd {
		return nil, systemdUnavailable(systemdDir)
	}
	h, err := thisHost()
	if err != nil {
		return nil, err
	}
	return newManager(h, c)
}

// systemdUnavailable is the answer for --systemd-cgroup until a systemd driver
// exists.
func systemdUnavailable(runDir string) error {
	if fi, err := os.Lstat(runDir); err != nil || !fi.IsDir() {
		return ErrSystemdNotRunning
	}
	return errors.New("systemd cgroup driver: not implemented yet; run without --systemd-cgroup to use the cgroupfs driver")
}

// newManager picks the v1 or v2 manager for a detected host.
func newManager(h *hostInfo, c Config) (Manager, error) {
	inner, err := innerPath(c)
	if err != nil {
		return nil, err
	}
	if h.unified {
		m, err := newV2(h, inner, c.Resources)
		if err != nil {
			return nil, err
		}
		if c.Rootless {
			return rootlessV2(h, m, c)
		}
		return m, nil
	}
	m, err := newV1(h, inner, c.Resources)
	if err != nil {
		return nil, err
	}
	if c.Rootless {
		return rootlessV1(m, c)
	}
	return m, nil
}

// Load re-opens a container's cgroup from the paths an earlier Manager
// returned (for kill, pause and delete in later rt processes). Every path must
// lie strictly inside a cgroup mount of the right kind on this host.
func Load(paths map[string]string) (Manager, error) {
	h, err := thisHost()
	if err != nil {
		return nil, err
	}
	return load(h, paths)
}

func load(h *hostInfo, paths map[string]string) (Manager, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("cgroups: load: no cgroup paths recorded: %w", errNoCgroup)
	}
	if dir, ok := v2Key(paths); ok {
		if len(paths) != 1 {
			return nil, fmt.Errorf("cgroups: load: cgroup v2 path mixed with v1 paths: %v", paths)
		}
		return loadV2(h, dir)
	}
	return loadV1(h, paths)
}

// v2Key returns the v2 directory from a Paths map ("" or "unified").
func v2Key(paths map[string]string) (string, bool) {
	if dir, ok := paths[""]; ok {
		return dir, true
	}
	dir, ok := paths["unified"]
	return dir, ok
}

// thisHost is this host's cgroup layout and the caller's own cgroups, read
// once per process: New, Load, IsV2 and OwnV2Dir share it (nothing in it
// changes while rt runs; detect is the only writer of a hostInfo).
var thisHost = sync.OnceValues(func() (*hostInfo, error) {
	return detect(procMountinfo, procCgroup)
})

// Unified reports whether m manages a cgroup v2 (unified) cgroup.
func Unified(m Manager) bool {
	_, ok := m.(*v2Manager)
	return ok
}

// IsV2 reports whether the host is cgroup v2 only (unified). Hybrid hosts
// (v1 controllers plus an empty cgroup2 mount) are not v2.
func IsV2() bool {
	h, err := thisHost()
	return err == nil && h.unified
}

// OwnV2Dir returns the caller's own cgroup directory on a cgroup v2 host
// (from /proc/self/cgroup): where a container without a cgroup of its own
// (rootless) runs.
func OwnV2Dir() (string, error) {
	h, err := thisHost()
	if err != nil {
		return "", err
	}
	if !h.unified || h.v2 == nil {
		return "", errors.New("cgroups: not a cgroup v2 host")
	}
	return h.ownDir("", *h.v2)
}
