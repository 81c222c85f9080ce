package cgroups

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const allV2 = "cpuset cpu io memory pids"

func newV2Test(t *testing.T, f *fake, c Config) *v2Manager {
	t.Helper()
	m, err := newManager(f.host(), c)
	if err != nil {
		t.Fatal(err)
	}
	v2, ok := m.(*v2Manager)
	if !ok {
		t.Fatalf("got %T, want *v2Manager", m)
	}
	v2.freezeTimeout = 200 * time.Millisecond
	return v2
}

func TestV2Paths(t *testing.T) {
	f := newFakeV2(t, allV2, "/user.slice/session-1.scope")
	cases := []struct{ path, id, want string }{
		{"/rt/c1", "c1", "cgroup/rt/c1"},
		// Relative: below the parent of our own cgroup, like runc.
		{"pod/c2", "c2", "cgroup/user.slice/pod/c2"},
		{"", "c3", "cgroup/user.slice/c3"},
	}
	for _, c := range cases {
		m := newV2Test(t, f, Config{Path: c.path, ID: c.id})
		if got := m.Paths(); !reflect.DeepEqual(got, map[string]string{"": f.path(c.want)}) {
			t.Errorf("Path %q: %v, want %s", c.path, got, c.want)
		}
	}
	for _, p := range []string{"/", "session-1.scope", "."} {
		if _, err := newManager(f.host(), Config{Path: p, ID: "x"}); err == nil {
			t.Errorf("Path %q accepted", p)
		}
	}
	// Own cgroup is the root (e.g. in a cgroup namespace): relative to root.
	f = newFakeV2(t, allV2, "/")
	m := newV2Test(t, f, Config{ID: "c4"})
	if got := m.Paths()[""]; got != f.path("cgroup/c4") {
		t.Errorf("own=/: %s", got)
	}
}

func TestV2CreateEnablesControllers(t *testing.T) {
	f := newFakeV2(t, allV2, "/")
	m := newV2Test(t, f, Config{Path: "/a/b", ID: "b"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	var enabled []string
	for _, w := range f.takeWrites() {
		enabled = append(enabled, w)
	}
	want := []string{}
	for _, dir := range []string{"cgroup", "cgroup/a"} {
		for _, c := range strings.Fields(allV2) {
			want = append(want, dir+"/cgroup.subtree_control=+"+c)
		}
	}
	if !reflect.DeepEqual(enabled, want) {
		t.Errorf("writes:\n%v\nwant\n%v", enabled, want)
	}
	if !m.Exists() {
		t.Error("!Exists")
	}
	fd, err := m.CgroupFd()
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		t.Errorf("CgroupFd is not a directory: %v", err)
	}
	unix.Close(fd)

	if err := m.Apply(77); err != nil {
		t.Fatal(err)
	}
	if got := f.read("cgroup/a/b/cgroup.procs"); got != "77" {
		t.Errorf("cgroup.procs = %q", got)
	}
	writeAll(t, f.path("cgroup/a/b"), map[string]string{"cgroup.procs": ""})
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if f.exists("cgroup/a") {
		t.Error("Destroy left cgroup/a, which it created")
	}
	if !f.exists("cgroup") {
		t.Error("Destroy removed the root")
	}
}

func TestV2Set(t *testing.T) {
	f := newFakeV2(t, allV2, "/")
	m := newV2Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	res := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: ptr(int64(100 << 20)), Swap: ptr(int64(300 << 20)), Reservation: ptr(int64(50 << 20))},
		CPU:     &specs.LinuxCPU{Shares: ptr(uint64(1024)), Quota: ptr(int64(20000)), Period: ptr(uint64(100000)), Cpus: "0-1", Mems: "0"},
		Pids:    &specs.LinuxPids{Limit: ptr(int64(-1))},
		BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(1000))},
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rw"}},
		Unified: map[string]string{"memory.high": "150000000", "io.max": "8:0 rbps=1000\n8:16 wbps=2000\n"},
	}
	if err := m.Set(res); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"memory.max":      "104857600",
		"memory.swap.max": "209715200", // swap in v2 = swap - limit
		"memory.low":      "52428800",
		"cpu.weight":      "39",
		"cpu.max":         "20000 100000",
		"cpuset.cpus":     "0-1",
		"cpuset.mems":     "0",
		"pids.max":        "max",
		"io.weight":       "10000",
		"memory.high":     "150000000",
	} {
		if got := f.read("cgroup/c/" + file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	// io.max got one write per line; the device program was attached once.
	var ioMax, devices []string
	for _, w := range f.takeWrites() {
		if strings.HasPrefix(w, "cgroup/c/io.max=") {
			ioMax = append(ioMax, strings.TrimPrefix(w, "cgroup/c/io.max="))
		}
		if strings.HasPrefix(w, "cgroup/c/<bpf-devices>=") {
			devices = append(devices, strings.TrimPrefix(w, "cgroup/c/<bpf-devices>="))
		}
	}
	if !reflect.DeepEqual(ioMax, []string{"8:0 rbps=1000", "8:16 wbps=2000"}) {
		t.Errorf("io.max writes = %q", ioMax)
	}
	if !reflect.DeepEqual(devices, []string{"!a;c 1:3 rw"}) {
		t.Errorf("device programs = %q", devices)
	}

	// Swap equal to the limit: no swap at all. Quota without period.
	if err := m.Set(&specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(1000)), Swap: ptr(int64(1000))},
		CPU:    &specs.LinuxCPU{Quota: ptr(int64(-1))},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(20))},
	}); err != nil {
		t.Fatal(err)
	}
	for _, w := range f.takeWrites() {
		if strings.Contains(w, "<bpf-devices>") {
			t.Errorf("Set without devices touched the device program: %s", w)
		}
	}
	for file, want := range map[string]string{"memory.swap.max": "0", "memory.max": "1000", "cpu.max": "max", "pids.max": "20"} {
		if got := f.read("cgroup/c/" + file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}

	// Errors name the field.
	for _, c := range []struct {
		res    *specs.LinuxResources
		prefix string
	}{
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(1000)), Swap: ptr(int64(10))}}, "linux.resources.memory.swap: "},
		{&specs.LinuxResources{Unified: map[string]string{"../x": "1"}}, `linux.resources.unified["../x"]: `},
		{&specs.LinuxResources{Unified: map[string]string{"a/b": "1"}}, `linux.resources.unified["a/b"]: `},
		{&specs.LinuxResources{Unified: map[string]string{"cgroup.procs": "1"}}, `linux.resources.unified["cgroup.procs"]: `},
		{&specs.LinuxResources{Unified: map[string]string{"nodot": "1"}}, `linux.resources.unified["nodot"]: `},
		{&specs.LinuxResources{Unified: map[string]string{"hugetlb.2MB.max": "1"}}, `linux.resources.unified["hugetlb.2MB.max"]: `},
		{&specs.LinuxResources{Unified: map[string]string{"memory.nonexistent": "1"}}, `linux.resources.unified["memory.nonexistent"]: write `},
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(5))}}, "linux.resources.blockIO.weight: "},
		{&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "x"}}}, "linux.resources.devices[0]: "},
	} {
		err := m.Set(c.res)
		if err == nil || !strings.HasPrefix(err.Error(), c.prefix) {
			t.Errorf("err = %v, want prefix %q", err, c.prefix)
		}
	}
	// Bad unified keys are refused by New already.
	if _, err := newManager(f.host(), Config{Path: "/d", ID: "d", Resources: &specs.LinuxResources{Unified: map[string]string{"..": "1"}}}); err == nil {
		t.Error("New accepted unified key \"..\"")
	}
}

func TestV2ControllerNotEnabled(t *testing.T) {
	f := newFakeV2(t, "memory", "/")
	m := newV2Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(5))}})
	if !errors.Is(err, ErrNotMounted) || !strings.HasPrefix(err.Error(), "linux.resources.pids.limit: ") {
		t.Errorf("err = %v", err)
	}
}

func TestSwapV2(t *testing.T) {
	for _, c := range []struct {
		swap, limit, want int64
		err               bool
	}{
		{0, 0, 0, false},
		{0, 100, 0, false},
		{0, -1, -1, false},
		{-1, 100, -1, false},
		{300, 100, 200, false},
		{100, 100, 0, false},
		{50, 100, 0, true},
		{100, 0, 0, true},
		{100, -1, 0, true},
		{100, -5, 0, true},
	} {
		got, err := swapV2(c.swap, c.limit)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("swapV2(%d, %d) = %d, %v", c.swap, c.limit, got, err)
		}
	}
}

func TestSharesToWeight(t *testing.T) {
	for shares, want := range map[uint64]uint64{0: 0, 1: 1, 2: 1, 1024: 39, 262144: 10000, 1 << 40: 10000} {
		if got := sharesToWeight(shares); got != want {
			t.Errorf("sharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
	for w, want := range map[uint16]uint64{10: 1, 500: 4950, 1000: 10000} {
		if got := blkioToIOWeight(w); got != want {
			t.Errorf("blkioToIOWeight(%d) = %d, want %d", w, got, want)
		}
	}
}

func TestV2Freeze(t *testing.T) {
	f := newFakeV2(t, allV2, "/")
	m := newV2Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	// The "kernel" reports the new state a little later.
	f.react = func(p, val string) {
		if strings.HasSuffix(p, "/cgroup.freeze") {
			go func() {
				time.Sleep(20 * time.Millisecond)
				writeAll(t, f.path("cgroup/c"), map[string]string{"cgroup.events": "populated 1\nfrozen " + val + "\n"})
			}()
		}
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if got := f.read("cgroup/c/cgroup.freeze"); got != "1" {
		t.Errorf("cgroup.freeze = %s", got)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the fake's goroutines finish
	// A cgroup that never reports frozen: Freeze fails and thaws.
	f.react = nil
	if err := m.Freeze(); err == nil {
		t.Error("Freeze succeeded without frozen 1")
	}
	if got := f.read("cgroup/c/cgroup.freeze"); got != "0" {
		t.Errorf("after a failed Freeze: cgroup.freeze = %s", got)
	}
}
