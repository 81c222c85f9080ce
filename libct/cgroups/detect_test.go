package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDetectHybrid(t *testing.T) {
	f := newFakeV1(t, hybridHier, map[string]string{"memory": "/m", "name=systemd": "/s"})
	h := f.host()
	if h.unified {
		t.Fatal("hybrid host detected as unified")
	}
	if h.v2 == nil || h.v2.mountpoint != f.path("unified") {
		t.Errorf("cgroup2 mount = %+v", h.v2)
	}
	for _, c := range []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "name=systemd"} {
		if _, ok := h.v1[c]; !ok {
			t.Errorf("v1 %s not found", c)
		}
	}
	if h.v1["cpu"] != h.v1["cpuacct"] {
		t.Error("co-mounted cpu,cpuacct differ")
	}
	if h.own["memory"] != "/m" || h.own["name=systemd"] != "/s" || h.own[""] != "/" {
		t.Errorf("own = %v", h.own)
	}
}

func TestDetectUnified(t *testing.T) {
	f := newFakeV2(t, allV2, "/x")
	h := f.host()
	if !h.unified || len(h.v1) != 0 {
		t.Errorf("unified=%v v1=%v", h.unified, h.v1)
	}
	paths := map[string]string{"": f.path("cgroup/x/c")}
	m, err := load(h, paths)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(*v2Manager); !ok {
		t.Errorf("load gave %T", m)
	}
	if _, err := load(h, map[string]string{"unified": f.path("cgroup")}); err == nil {
		t.Error("load of the v2 root succeeded")
	}
}

func TestDetectNothing(t *testing.T) {
	dir := t.TempDir()
	mi := filepath.Join(dir, "mountinfo")
	pc := filepath.Join(dir, "cgroup")
	writeAll(t, dir, map[string]string{
		"mountinfo": "22 1 0:21 / /sys rw,relatime - sysfs sysfs rw\n",
		"cgroup":    "0::/\n",
	})
	if _, err := detect(mi, pc); err == nil {
		t.Error("no cgroup mounts: no error")
	}
}

func TestSystemdDriver(t *testing.T) {
	dir := t.TempDir()
	if err := systemdUnavailable(filepath.Join(dir, "nope")); !errors.Is(err, ErrSystemdNotRunning) {
		t.Errorf("no systemd: %v", err)
	}
	if err := systemdUnavailable(dir); err == nil || errors.Is(err, ErrSystemdNotRunning) {
		t.Errorf("systemd running: %v", err)
	}
	if _, err := os.Stat(systemdDir); err != nil {
		if _, err := New(Config{ID: "x", Systemd: true}); !errors.Is(err, ErrSystemdNotRunning) {
			t.Errorf("New with Systemd on this host: %v", err)
		}
	}
}

func TestIsV2MatchesHost(t *testing.T) {
	h, err := detect(procMountinfo, procCgroup)
	if err != nil {
		t.Skip("no cgroups here:", err)
	}
	if IsV2() != h.unified {
		t.Errorf("IsV2() = %v, detect says unified=%v", IsV2(), h.unified)
	}
}
