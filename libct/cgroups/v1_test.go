package cgroups

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var hybridHier = []string{"cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "name=systemd"}

func newV1Test(t *testing.T, f *fake, c Config) *v1Manager {
	t.Helper()
	m, err := newManager(f.host(), c)
	if err != nil {
		t.Fatal(err)
	}
	v1, ok := m.(*v1Manager)
	if !ok {
		t.Fatalf("got %T, want *v1Manager", m)
	}
	v1.freezeTimeout = 200 * time.Millisecond
	return v1
}

func TestV1Paths(t *testing.T) {
	f := newFakeV1(t, hybridHier, map[string]string{"memory": "/process_api/abc"})
	m := newV1Test(t, f, Config{Path: "/rt/c1", ID: "c1"})
	want := map[string]string{
		"cpu": f.path("cpu,cpuacct/rt/c1"), "cpuacct": f.path("cpu,cpuacct/rt/c1"),
		"cpuset": f.path("cpuset/rt/c1"), "memory": f.path("memory/rt/c1"),
		"devices": f.path("devices/rt/c1"), "freezer": f.path("freezer/rt/c1"),
		"blkio": f.path("blkio/rt/c1"), "pids": f.path("pids/rt/c1"),
		"name=systemd": f.path("systemd/rt/c1"),
	}
	if got := m.Paths(); !reflect.DeepEqual(got, want) {
		t.Errorf("Paths() = %v\nwant %v", got, want)
	}
	if _, ok := m.Paths()[""]; ok {
		t.Error("hybrid host: the unified hierarchy must not be joined")
	}

	// Relative and default paths hang below the caller's own cgroup.
	m = newV1Test(t, f, Config{Path: "pod/c2", ID: "c2"})
	if got := m.Paths()["memory"]; got != f.path("memory/process_api/abc/pod/c2") {
		t.Errorf("relative memory path = %s", got)
	}
	if got := m.Paths()["pids"]; got != f.path("pids/pod/c2") {
		t.Errorf("relative pids path = %s", got)
	}
	m = newV1Test(t, f, Config{ID: "c3"})
	if got := m.Paths()["memory"]; got != f.path("memory/process_api/abc/c3") {
		t.Errorf("default memory path = %s", got)
	}
	// ".." cannot climb out.
	m = newV1Test(t, f, Config{Path: "/../../etc/x", ID: "c4"})
	if got := m.Paths()["pids"]; got != f.path("pids/etc/x") {
		t.Errorf("cleaned path = %s", got)
	}
}

func TestV1PathsRejectRoot(t *testing.T) {
	f := newFakeV1(t, hybridHier, nil)
	for _, p := range []string{"/", "/..", "//", ".", "..", "a/..", "../../.."} {
		_, err := newManager(f.host(), Config{Path: p, ID: "x"})
		if err == nil || !strings.HasPrefix(err.Error(), "linux.cgroupsPath: ") {
			t.Errorf("Path %q: err = %v, want a linux.cgroupsPath error", p, err)
		}
	}
	for _, id := range []string{"", "..", "a/b"} {
		if _, err := newManager(f.host(), Config{ID: id}); err == nil {
			t.Errorf("ID %q with empty path: no error", id)
		}
	}
}

func TestV1MountRoot(t *testing.T) {
	// A hierarchy whose mount shows cgroup /outer (bind mount of a
	// sub-cgroup, as inside some containers).
	f := newFakeV1(t, []string{"memory"}, map[string]string{"memory": "/outer/me"})
	data, _ := os.ReadFile(f.mountinfo)
	mi := strings.Replace(string(data), " / "+f.path("memory"), " /outer "+f.path("memory"), 1)
	writeAll(t, f.root, map[string]string{"mountinfo": mi})
	m := newV1Test(t, f, Config{Path: "c", ID: "c"})
	if got := m.Paths()["memory"]; got != f.path("memory/me/c") {
		t.Errorf("path = %s", got)
	}
}

func TestV1CreateSetApplyDestroy(t *testing.T) {
	f := newFakeV1(t, hybridHier, nil)
	// /pod exists already in cpuset (someone else's), so only /pod/c1 is ours there.
	if err := f.mkdir(f.path("cpuset/pod"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeAll(t, f.path("cpuset/pod"), map[string]string{"cpuset.cpus": "1-2", "cpuset.mems": "0"})

	res := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20)), Reservation: ptr(int64(32 << 20)),
			Swappiness: ptr(uint64(10)), DisableOOMKiller: ptr(true)},
		CPU:     &specs.LinuxCPU{Shares: ptr(uint64(1024)), Quota: ptr(int64(50000)), Period: ptr(uint64(100000)), Cpus: "1", Mems: "0"},
		Pids:    &specs.LinuxPids{Limit: ptr(int64(0))},
		BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(300))},
	}
	m := newV1Test(t, f, Config{Path: "/pod/c1", ID: "c1", Resources: res})
	if m.Exists() {
		t.Fatal("Exists before Create")
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if !m.Exists() {
		t.Fatal("!Exists after Create")
	}
	// The new cpuset got its parent's cpus/mems.
	if got := f.read("cpuset/pod/c1/cpuset.cpus"); got != "1-2" {
		t.Errorf("copied cpuset.cpus = %q", got)
	}
	if err := m.Set(nil); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"memory/pod/c1/memory.limit_in_bytes":       "67108864",
		"memory/pod/c1/memory.memsw.limit_in_bytes": "9223372036854771712", // swap not requested
		"memory/pod/c1/memory.soft_limit_in_bytes":  "33554432",
		"memory/pod/c1/memory.swappiness":           "10",
		"memory/pod/c1/memory.oom_control":          "1",
		"cpu,cpuacct/pod/c1/cpu.shares":             "1024",
		"cpu,cpuacct/pod/c1/cpu.cfs_quota_us":       "50000",
		"cpu,cpuacct/pod/c1/cpu.cfs_period_us":      "100000",
		"cpuset/pod/c1/cpuset.cpus":                 "1",
		"cpuset/pod/c1/cpuset.mems":                 "0",
		"pids/pod/c1/pids.max":                      "max",
		"blkio/pod/c1/blkio.weight":                 "300",
		"devices/pod/c1/devices.deny":               "", // no device rules: untouched
	} {
		if got := f.read(file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}

	if err := m.Apply(4242); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd"} {
		if got := f.read(d + "/pod/c1/cgroup.procs"); got != "4242" {
			t.Errorf("%s cgroup.procs = %q", d, got)
		}
	}
	if pids, err := m.Pids(); err != nil || !reflect.DeepEqual(pids, []int{4242}) {
		t.Errorf("Pids() = %v, %v", pids, err)
	}

	// Destroy retries while the cgroup is busy (the task is exiting).
	go func() {
		time.Sleep(30 * time.Millisecond)
		for _, d := range []string{"cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd"} {
			writeAll(t, f.path(d+"/pod/c1"), map[string]string{"cgroup.procs": ""})
		}
	}()
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"cpu,cpuacct/pod", "memory/pod", "pids/pod", "systemd/pod", "cpuset/pod/c1"} {
		if f.exists(d) {
			t.Errorf("%s still exists", d)
		}
	}
	if !f.exists("cpuset/pod") {
		t.Error("Destroy removed cpuset/pod, which it did not create")
	}
	if m.Exists() {
		t.Error("Exists after Destroy")
	}
	if err := m.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

func TestV1DestroyOwnership(t *testing.T) {
	f := newFakeV1(t, []string{"memory", "pids"}, nil)
	if err := f.mkdir(f.path("memory/pre"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := newV1Test(t, f, Config{Path: "/pre", ID: "x"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	// A sub-cgroup the container made itself.
	if err := f.mkdir(f.path("pids/pre/nested"), 0o755); err != nil {
		t.Fatal(err)
	}
	paths := m.Paths()
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if !f.exists("memory/pre") {
		t.Error("Destroy removed a pre-existing cgroup")
	}
	if f.exists("pids/pre") {
		t.Error("Destroy left pids/pre, which it created")
	}

	// A loaded manager cannot know; it removes the recorded leaves.
	l, err := load(f.host(), paths)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Exists() {
		t.Error("loaded: !Exists")
	}
	if err := l.Destroy(); err != nil {
		t.Fatal(err)
	}
	if f.exists("memory/pre") {
		t.Error("loaded Destroy left memory/pre")
	}
}

func TestLoadRejectsForeignPaths(t *testing.T) {
	f := newFakeV1(t, []string{"memory"}, nil)
	for _, paths := range []map[string]string{
		{"memory": f.path("memory")},
		{"memory": "/etc"},
		{"memory": f.path("memory/../x")},
		{"pids": f.path("memory/x")},
		{"memory": f.path("memory/x"), "": f.path("unified/x")},
		{},
	} {
		if _, err := load(f.host(), paths); err == nil {
			t.Errorf("load(%v) succeeded", paths)
		}
	}
	if _, err := load(f.host(), map[string]string{"memory": f.path("memory/x")}); err != nil {
		t.Errorf("load of a good path: %v", err)
	}
}

func TestV1MissingController(t *testing.T) {
	f := newFakeV1(t, []string{"memory", "freezer"}, nil)
	// Not requested: skipped.
	m := newV1Test(t, f, Config{Path: "/c", ID: "c", Resources: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(1 << 20))}}})
	if _, ok := m.Paths()["pids"]; ok {
		t.Error("unmounted pids in Paths")
	}
	// Requested: an error before anything exists, naming the field.
	_, err := newManager(f.host(), Config{Path: "/c", ID: "c", Resources: &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(10))}}})
	if !errors.Is(err, ErrNotMounted) || !strings.HasPrefix(err.Error(), "linux.resources.pids.limit: ") {
		t.Errorf("err = %v", err)
	}
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}}); !errors.Is(err, ErrNotMounted) ||
		!strings.HasPrefix(err.Error(), "linux.resources.cpu.cpus: ") {
		t.Errorf("Set: err = %v", err)
	}
	if err := m.Set(&specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}); !errors.Is(err, ErrNotMounted) {
		t.Errorf("unified on v1: err = %v", err)
	}
}

func TestV1ErrorNamesField(t *testing.T) {
	f := newFakeV1(t, []string{"memory"}, nil)
	m := newV1Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f.path("memory/c/memory.limit_in_bytes")); err != nil {
		t.Fatal(err)
	}
	err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(1 << 20))}})
	want := "linux.resources.memory.limit: write " + f.path("memory/c/memory.limit_in_bytes") + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Error("error does not wrap the cause")
	}
}

func TestV1MemorySwapOrder(t *testing.T) {
	f := newFakeV1(t, []string{"memory"}, nil)
	m := newV1Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	set := func(limit, swap int64) []string {
		t.Helper()
		f.takeWrites()
		if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &swap}}); err != nil {
			t.Fatal(err)
		}
		return f.takeWrites()
	}
	// Current limit (huge) >= new swap: lower the limit first.
	got := set(100, 200)
	want := []string{"memory/c/memory.limit_in_bytes=100", "memory/c/memory.memsw.limit_in_bytes=200"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lowering: %v, want %v", got, want)
	}
	// Current limit (100) < new swap: raise swap first.
	got = set(300, 400)
	want = []string{"memory/c/memory.memsw.limit_in_bytes=400", "memory/c/memory.limit_in_bytes=300"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("raising: %v, want %v", got, want)
	}
	// Unlimited memory, swap unset: both unlimited, swap first.
	got = set(-1, 0)
	want = []string{"memory/c/memory.memsw.limit_in_bytes=-1", "memory/c/memory.limit_in_bytes=-1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unlimited: %v, want %v", got, want)
	}
	// No swap accounting: swap is skipped.
	os.Remove(f.path("memory/c/memory.memsw.limit_in_bytes"))
	got = set(500, 600)
	want = []string{"memory/c/memory.limit_in_bytes=500"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("no memsw: %v, want %v", got, want)
	}
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr(uint64(101))}}); err == nil ||
		!strings.HasPrefix(err.Error(), "linux.resources.memory.swappiness: ") {
		t.Errorf("swappiness 101: %v", err)
	}
}

func TestV1Devices(t *testing.T) {
	f := newFakeV1(t, []string{"devices"}, nil)
	m := newV1Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	f.takeWrites()
	err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rwm"},
		{Allow: true, Type: "c", Major: ptr(int64(136)), Access: "rw"},
		{Allow: true, Type: "b", Major: ptr(int64(-1)), Minor: ptr(int64(-1)), Access: "m"},
		{Allow: false, Type: "c", Major: ptr(int64(5)), Minor: ptr(int64(1))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"devices/c/devices.deny=a",
		"devices/c/devices.deny=a",
		"devices/c/devices.allow=c 1:3 rwm",
		"devices/c/devices.allow=c 136:* rw",
		"devices/c/devices.allow=b *:* m",
		"devices/c/devices.deny=c 5:1 rwm",
	}
	if got := f.takeWrites(); !reflect.DeepEqual(got, want) {
		t.Errorf("writes:\n%v\nwant\n%v", got, want)
	}
	for _, bad := range []specs.LinuxDeviceCgroup{{Type: "x"}, {Type: "c", Access: "rwx"}, {Type: "c", Major: ptr(int64(-5))}} {
		err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Access: "r"}, bad}})
		if err == nil || !strings.HasPrefix(err.Error(), "linux.resources.devices[1]: ") {
			t.Errorf("rule %+v: err = %v", bad, err)
		}
	}
}

func TestV1Freeze(t *testing.T) {
	f := newFakeV1(t, []string{"freezer", "memory"}, nil)
	m := newV1Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if got := f.read("freezer/c/freezer.state"); got != "FROZEN" {
		t.Errorf("after Freeze: %s", got)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if got := f.read("freezer/c/freezer.state"); got != "THAWED" {
		t.Errorf("after Thaw: %s", got)
	}
	// A cgroup stuck in FREEZING: Freeze gives up, thaws, and says so.
	f.react = func(p, val string) {
		if strings.HasSuffix(p, "/freezer.state") && val == "FROZEN" {
			writeAll(t, f.path("freezer/c"), map[string]string{"freezer.state": "FREEZING"})
		}
	}
	err := m.Freeze()
	if err == nil || !strings.Contains(err.Error(), "FREEZING") {
		t.Errorf("stuck freezer: err = %v", err)
	}
	if got := f.read("freezer/c/freezer.state"); got != "THAWED" {
		t.Errorf("after a failed Freeze: %s, want THAWED", got)
	}
	f.react = nil

	// No freezer hierarchy: a clear error.
	f2 := newFakeV1(t, []string{"memory"}, nil)
	m2 := newV1Test(t, f2, Config{Path: "/c", ID: "c"})
	if err := m2.Freeze(); !errors.Is(err, ErrNotMounted) {
		t.Errorf("no freezer: %v", err)
	}
	if fd, err := m2.CgroupFd(); fd != -1 || err != nil {
		t.Errorf("v1 CgroupFd = %d, %v", fd, err)
	}
}
