package cgroups

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
)

// v1Controllers are the cgroup v1 subsystems rt joins, in a fixed order.
// "name=systemd" is the named hierarchy systemd (or a container engine
// imitating it) uses; runc joins it too. Other named hierarchies belong to
// someone else and are left alone.
var v1Controllers = []string{
	"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio",
	"pids", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc",
	"name=systemd",
}

func isV1Controller(s string) bool {
	for _, c := range v1Controllers {
		if c == s {
			return true
		}
	}
	return false
}

// mount is one cgroup filesystem mount.
type mount struct {
	mountpoint string // where it is mounted, e.g. /sys/fs/cgroup/memory
	root       string // the cgroup shown at the mountpoint, usually "/"
}

// hostInfo is what New needs to know about the host's cgroups.
type hostInfo struct {
	unified bool             // cgroup v2 only
	v1      map[string]mount // v1 controller (or "name=systemd") → mount
	v2      *mount           // the cgroup2 mount, if any
	own     map[string]string
	// own: the caller's cgroup per v1 controller, and "" for v2, from
	// /proc/self/cgroup.
}

// detect reads a mountinfo file and a /proc/<pid>/cgroup file. Tests pass
// files describing a fake tree whose mountpoints are temporary directories.
func detect(mountinfoPath, cgroupPath string) (*hostInfo, error) {
	mi, err := os.ReadFile(mountinfoPath)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	mounts, err := mountinfo.GetMountsFromReader(bytes.NewReader(mi), mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil, fmt.Errorf("cgroups: parse %s: %w", mountinfoPath, err)
	}
	h := &hostInfo{v1: map[string]mount{}}
	hasV1Controller := false
	for _, m := range mounts {
		mnt := mount{mountpoint: filepath.Clean(m.Mountpoint), root: filepath.Clean(m.Root)}
		if m.FSType == "cgroup2" {
			if h.v2 == nil {
				h.v2 = &mnt
			}
			continue
		}
		for _, opt := range strings.Split(m.VFSOptions, ",") {
			if !isV1Controller(opt) {
				continue
			}
			if _, dup := h.v1[opt]; dup {
				continue // a second (bind) mount of the same hierarchy
			}
			h.v1[opt] = mnt
			if !strings.HasPrefix(opt, "name=") {
				hasV1Controller = true
			}
		}
	}
	switch {
	case hasV1Controller:
	case h.v2 != nil:
		h.unified = true
		h.v1 = map[string]mount{} // a stray named v1 hierarchy is not ours
	default:
		return nil, fmt.Errorf("cgroups: no cgroup filesystem is mounted (per %s)", mountinfoPath)
	}
	if h.own, err = parseProcCgroup(cgroupPath); err != nil {
		return nil, err
	}
	return h, nil
}

// parseProcCgroup parses /proc/<pid>/cgroup lines "id:controllers:path" into
// controller → path, with "" for the cgroup v2 line.
func parseProcCgroup(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	defer f.Close()
	own := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			own[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("cgroups: read %s: %w", path, err)
	}
	return own, nil
}

// ownDir returns the directory of the caller's cgroup for key inside mnt.
func (h *hostInfo) ownDir(key string, mnt mount) (string, error) {
	own, ok := h.own[key]
	if !ok {
		name := key
		if name == "" {
			name = "cgroup v2"
		}
		return "", fmt.Errorf("cgroups: %s not listed in %s", name, procCgroup)
	}
	rel, err := filepath.Rel(mnt.root, filepath.Clean(own))
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("cgroups: own cgroup %q is outside the mount of %s (root %q)", own, mnt.mountpoint, mnt.root)
	}
	return filepath.Join(mnt.mountpoint, rel), nil
}

// errOutside is wrapped when a recorded path is not inside its cgroup mount.
var errOutside = errors.New("not strictly inside a cgroup mount")

// checkInside verifies dir is a directory path strictly below mountpoint.
func checkInside(mountpoint, dir string) error {
	if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir {
		return fmt.Errorf("%q: %w %q", dir, errOutside, mountpoint)
	}
	rel, err := filepath.Rel(mountpoint, dir)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return fmt.Errorf("%q: %w %q", dir, errOutside, mountpoint)
	}
	return nil
}
