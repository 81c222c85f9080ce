package cgroups

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// delegate makes accessFn grant access only below the given directories
// (the tests run as root, who may access everything), as for a user who
// owns just those.
func delegate(t *testing.T, dirs ...string) {
	old := accessFn
	accessFn = func(p string, mode uint32) error {
		for _, d := range dirs {
			if p == d || strings.HasPrefix(p, d+"/") {
				return nil
			}
		}
		return unix.EACCES
	}
	t.Cleanup(func() { accessFn = old })
}

func TestRootlessV1Nothing(t *testing.T) {
	f := newFakeV1(t, hybridHier, nil)
	delegate(t)
	// No limits, no cgroupsPath: no cgroup at all.
	m, err := newManager(f.host(), Config{ID: "c1", Rootless: true,
		Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(none); !ok || m.Paths() != nil {
		t.Fatalf("got %T with paths %v, want no cgroup", m, m.Paths())
	}
	if err := m.Create(); err != nil || m.Apply(1) != nil || m.Set(nil) != nil || m.Destroy() != nil {
		t.Errorf("the no-cgroup manager failed: %v", err)
	}
	if _, err := m.Pids(); !errors.Is(err, errNoCgroup) {
		t.Errorf("Pids: %v", err)
	}
	if f.exists("memory/c1") {
		t.Error("a cgroup was made")
	}
	// A limit needs its cgroup: refused, naming the field.
	_, err = newManager(f.host(), Config{ID: "c1", Rootless: true, Resources: &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(10))}}})
	if err == nil || !strings.HasPrefix(err.Error(), fPidsLimit+": ") || !errors.Is(err, errNoPermission) || !strings.Contains(err.Error(), f.path("pids/c1")) {
		t.Errorf("pids limit without a cgroup: %v", err)
	}
	// An explicit cgroupsPath nobody delegated: refused.
	_, err = newManager(f.host(), Config{Path: "/mine/c1", ID: "c1", Rootless: true})
	if err == nil || !strings.HasPrefix(err.Error(), fieldPath+": ") || !errors.Is(err, errNoPermission) {
		t.Errorf("undelegated cgroupsPath: %v", err)
	}
	// Without Rootless nothing changes (root may write everything).
	if _, err := newManager(f.host(), Config{ID: "c1"}); err != nil {
		t.Error(err)
	}
}

func TestRootlessV1Delegated(t *testing.T) {
	f := newFakeV1(t, hybridHier, nil)
	for _, d := range []string{"memory/mine", "pids/mine"} {
		if err := mkdirFn(f.path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	delegate(t, f.path("memory/mine"), f.path("pids/mine"))
	res := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(1 << 30))},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(40))},
	}
	m, err := newManager(f.host(), Config{Path: "/mine/c1", ID: "c1", Rootless: true, Resources: res})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"memory": f.path("memory/mine/c1"), "pids": f.path("pids/mine/c1")}
	if got := m.Paths(); !reflect.DeepEqual(got, want) {
		t.Fatalf("paths %v, want %v", got, want)
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(nil); err != nil {
		t.Fatal(err)
	}
	if got := f.read("memory/mine/c1/memory.limit_in_bytes"); got != "1073741824" {
		t.Errorf("memory limit %s", got)
	}
	if got := f.read("pids/mine/c1/pids.max"); got != "40" {
		t.Errorf("pids.max %s", got)
	}
	if err := m.Destroy(); err != nil || f.exists("memory/mine/c1") || !f.exists("memory/mine") {
		t.Errorf("destroy: %v; the leaf must go, the delegated parent stay", err)
	}
	// A limit of a controller not delegated names its field and cgroup.
	res.CPU = &specs.LinuxCPU{Shares: ptr(uint64(512))}
	_, err = newManager(f.host(), Config{Path: "/mine/c2", ID: "c2", Rootless: true, Resources: res})
	if err == nil || !strings.HasPrefix(err.Error(), fCPUShares+": ") || !strings.Contains(err.Error(), "cpu,cpuacct/mine/c2") {
		t.Errorf("cpu shares: %v", err)
	}
	// An existing delegated leaf is joined if its cgroup.procs is ours.
	m, err = newManager(f.host(), Config{Path: "/mine", ID: "x", Rootless: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Paths(); len(got) != 2 || got["memory"] != f.path("memory/mine") {
		t.Errorf("existing leaf: %v", got)
	}
}

func TestRootlessV2(t *testing.T) {
	own := "/user.slice/user-1000.slice/session.scope"
	f := newFakeV2(t, allV2, own)
	for _, d := range []string{"cgroup/user.slice", "cgroup/user.slice/user-1000.slice", "cgroup/user.slice/user-1000.slice/session.scope"} {
		if err := mkdirFn(f.path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	res := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(1 << 30))}}
	// Nothing delegated: no cgroup without limits, an error with them.
	delegate(t)
	m, err := newManager(f.host(), Config{ID: "c1", Rootless: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(none); !ok {
		t.Errorf("got %T, want no cgroup", m)
	}
	if Unified(m) {
		t.Error("the no-cgroup manager reports v2")
	}
	if _, err := newManager(f.host(), Config{ID: "c1", Rootless: true, Resources: res}); err == nil || !strings.HasPrefix(err.Error(), fMemLimit+": ") {
		t.Errorf("memory limit without a cgroup: %v", err)
	}
	// The user's slice delegated (as systemd's Delegate=yes does): the
	// default relative path lands there, and our own cgroup's common
	// ancestor with it is inside the delegation too.
	delegate(t, f.path("cgroup/user.slice/user-1000.slice"))
	m, err = newManager(f.host(), Config{ID: "c1", Rootless: true, Resources: res})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Paths()[""]; got != f.path("cgroup/user.slice/user-1000.slice/c1") || !Unified(m) {
		t.Errorf("delegated: %T %v", m, m.Paths())
	}
	// A writable target whose common ancestor with our cgroup is not ours:
	// the kernel would refuse the move.
	if err := mkdirFn(f.path("cgroup/other"), 0o755); err != nil {
		t.Fatal(err)
	}
	delegate(t, f.path("cgroup/other"), f.path("cgroup/user.slice/user-1000.slice"))
	_, err = newManager(f.host(), Config{Path: "/other/c1", ID: "c1", Rootless: true})
	if err == nil || !strings.HasPrefix(err.Error(), fieldPath+": ") || !strings.Contains(err.Error(), "move into") {
		t.Errorf("target outside our subtree: %v", err)
	}
}

func TestCommonAncestor(t *testing.T) {
	for _, c := range [][3]string{
		{"/a/b/c", "/a/b/d", "/a/b"},
		{"/a/b", "/a/b/c", "/a/b"},
		{"/a", "/b", "/"},
		{"/sys/fs/cgroup/x", "/sys/fs/cgroup/y/z", "/sys/fs/cgroup"},
	} {
		if got := commonAncestor(c[0], c[1]); got != c[2] {
			t.Errorf("commonAncestor(%s, %s) = %s, want %s", c[0], c[1], got, c[2])
		}
	}
}
