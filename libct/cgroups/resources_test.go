package cgroups

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Tests of hugepageLimits, network, rdma, the blkio per-device weights and
// throttles, and cpu burst, realtime and idle, on the fake cgroupfs.

var fullHier = append(append([]string{}, hybridHier...), "hugetlb", "net_cls,net_prio", "rdma")

// allResources asks for every resource of this family.
func allResources() *specs.LinuxResources {
	return &specs.LinuxResources{
		CPU: &specs.LinuxCPU{Shares: ptr(uint64(512)), Quota: ptr(int64(50000)), Period: ptr(uint64(100000)),
			Burst: ptr(uint64(20000)), RealtimeRuntime: ptr(int64(10000)), RealtimePeriod: ptr(uint64(500000)), Idle: ptr(int64(1))},
		BlockIO: &specs.LinuxBlockIO{
			Weight: ptr(uint16(300)), LeafWeight: ptr(uint16(200)),
			WeightDevice: []specs.LinuxWeightDevice{
				{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: ptr(uint16(400)), LeafWeight: ptr(uint16(100))},
				{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Weight: ptr(uint16(50))},
			},
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1 << 20}},
			ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 2 << 20}},
			ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 100}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 0}},
		},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}, {Pagesize: "1GB", Limit: 1 << 30}},
		Network: &specs.LinuxNetwork{ClassID: ptr(uint32(0x100001)),
			Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 5}, {Name: "lo", Priority: 1}}},
		Rdma: map[string]specs.LinuxRdma{
			"mlx5_0": {HcaHandles: ptr(uint32(2)), HcaObjects: ptr(uint32(2000))},
			"mlx4_0": {HcaHandles: ptr(uint32(1))},
			"unset":  {},
		},
	}
}

func TestV1ResourceFiles(t *testing.T) {
	f := newFakeV1(t, fullHier, nil)
	m := newV1Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	f.takeWrites()
	if err := m.Set(allResources()); err != nil {
		t.Fatal(err)
	}
	want := []string{
		// cpu: shares before idle 1; the burst after the period; the
		// realtime period first (old runtime 0 × 1000000 < new).
		"cpu,cpuacct/c/cpu.shares=512",
		"cpu,cpuacct/c/cpu.cfs_period_us=100000",
		"cpu,cpuacct/c/cpu.cfs_burst_us=20000",
		"cpu,cpuacct/c/cpu.cfs_quota_us=50000",
		"cpu,cpuacct/c/cpu.idle=1",
		"cpu,cpuacct/c/cpu.rt_period_us=500000",
		"cpu,cpuacct/c/cpu.rt_runtime_us=10000",
		// blkio: one line per device and rule; rate 0 removes a rule.
		"blkio/c/blkio.weight=300",
		"blkio/c/blkio.leaf_weight=200",
		"blkio/c/blkio.weight_device=8:0 400",
		"blkio/c/blkio.leaf_weight_device=8:0 100",
		"blkio/c/blkio.weight_device=8:16 50",
		"blkio/c/blkio.throttle.read_bps_device=8:0 1048576",
		"blkio/c/blkio.throttle.write_bps_device=8:16 2097152",
		"blkio/c/blkio.throttle.read_iops_device=8:0 100",
		"blkio/c/blkio.throttle.write_iops_device=8:0 0",
		// hugetlb: the limit and the same limit on reservations.
		"hugetlb/c/hugetlb.2MB.limit_in_bytes=4194304",
		"hugetlb/c/hugetlb.2MB.rsvd.limit_in_bytes=4194304",
		"hugetlb/c/hugetlb.1GB.limit_in_bytes=1073741824",
		"hugetlb/c/hugetlb.1GB.rsvd.limit_in_bytes=1073741824",
		"net_cls,net_prio/c/net_cls.classid=1048577",
		"net_cls,net_prio/c/net_prio.ifpriomap=eth0 5",
		"net_cls,net_prio/c/net_prio.ifpriomap=lo 1",
		// rdma: devices in name order; an entry without limits is skipped.
		"rdma/c/rdma.max=mlx4_0 hca_handle=1",
		"rdma/c/rdma.max=mlx5_0 hca_handle=2 hca_object=2000",
	}
	if got := f.takeWrites(); !reflect.DeepEqual(got, want) {
		t.Errorf("writes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestV1BlkioBFQ(t *testing.T) {
	f := newFakeV1(t, hybridHier, nil)
	m := newV1Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	// A kernel without CFQ: bfq's files, no leaf weights.
	for _, n := range []string{"blkio.weight", "blkio.weight_device", "blkio.leaf_weight", "blkio.leaf_weight_device"} {
		os.Remove(f.path("blkio/c/" + n))
	}
	writeAll(t, f.path("blkio/c"), map[string]string{"blkio.bfq.weight": "100", "blkio.bfq.weight_device": "default 100"})
	f.takeWrites()
	dev := specs.LinuxBlockIODevice{Major: 254, Minor: 0}
	if err := m.Set(&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(300)),
		WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: dev, Weight: ptr(uint16(444))}}}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"blkio/c/blkio.bfq.weight=300", "blkio/c/blkio.bfq.weight_device=254:0 444"}
	if got := f.takeWrites(); !reflect.DeepEqual(got, want) {
		t.Errorf("writes %q, want %q", got, want)
	}
	for _, c := range []struct {
		b     *specs.LinuxBlockIO
		field string
	}{
		{&specs.LinuxBlockIO{LeafWeight: ptr(uint16(300))}, "linux.resources.blockIO.leafWeight: this host's blkio controller has no blkio.leaf_weight"},
		{&specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: dev, LeafWeight: ptr(uint16(300))}}},
			"linux.resources.blockIO.weightDevice[0].leafWeight: this host's blkio controller has no blkio.leaf_weight_device"},
	} {
		err := m.Set(&specs.LinuxResources{BlockIO: c.b})
		if !errors.Is(err, ErrNotMounted) || !strings.HasPrefix(err.Error(), c.field) {
			t.Errorf("err = %v, want %q...", err, c.field)
		}
	}
	if w := f.takeWrites(); len(w) != 0 {
		t.Errorf("refused values were written: %q", w)
	}
}

// TestV1HostLacks: what this host's hierarchies or files do not have is an
// error naming the field, from New (before anything exists) for a missing
// controller, from Set for a missing file; a 0 burst or idle, which asks
// for nothing, is no error.
func TestV1HostLacks(t *testing.T) {
	f := newFakeV1(t, hybridHier, nil)
	writeAll(t, f.path("unified"), map[string]string{"cgroup.controllers": "hugetlb"})
	for _, c := range []struct {
		r   *specs.LinuxResources
		msg string
	}{
		{&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1}}},
			"linux.resources.hugepageLimits: no hugetlb controller in this host's cgroup v1 hierarchies (the hybrid cgroup2 mount at " +
				f.path("unified") + " has it, but on a cgroup v1 host rt, like runc, sets limits only in the v1 hierarchies)"},
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr(uint32(1))}},
			"linux.resources.network.classID: no net_cls controller in this host's cgroup v1 hierarchies"},
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "lo", Priority: 1}}}},
			"linux.resources.network.priorities: no net_prio controller in this host's cgroup v1 hierarchies"},
		{&specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: ptr(uint32(1))}}},
			"linux.resources.rdma: no rdma controller in this host's cgroup v1 hierarchies"},
	} {
		_, err := newManager(f.host(), Config{Path: "/x", ID: "x", Resources: c.r})
		if !errors.Is(err, ErrNotMounted) || err.Error() != c.msg {
			t.Errorf("New: %v\nwant: %s", err, c.msg)
		}
		if f.exists("pids/x") {
			t.Fatal("New created a cgroup")
		}
	}
	// Nothing asked: a zero class ID, an rdma entry without limits.
	if _, err := newManager(f.host(), Config{Path: "/x", ID: "x", Resources: &specs.LinuxResources{
		Network: &specs.LinuxNetwork{ClassID: ptr(uint32(0))}, Rdma: map[string]specs.LinuxRdma{"mlx5_0": {}}}}); err != nil {
		t.Errorf("zero network and rdma values: %v", err)
	}

	m := newV1Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"cpu.cfs_burst_us", "cpu.rt_runtime_us", "cpu.rt_period_us", "cpu.idle"} {
		os.Remove(f.path("cpu,cpuacct/c/" + n))
	}
	f.takeWrites()
	for _, c := range []struct {
		cpu *specs.LinuxCPU
		msg string
	}{
		{&specs.LinuxCPU{Burst: ptr(uint64(1000))}, "linux.resources.cpu.burst: this host's cpu controller has no cpu.cfs_burst_us (Linux 5.14+)"},
		{&specs.LinuxCPU{Idle: ptr(int64(1))}, "linux.resources.cpu.idle: this host's cpu controller has no cpu.idle (Linux 5.15+)"},
		{&specs.LinuxCPU{RealtimeRuntime: ptr(int64(1000))}, "linux.resources.cpu.realtimeRuntime: this host's cpu controller has no cpu.rt_runtime_us (realtime group scheduling, CONFIG_RT_GROUP_SCHED, is off)"},
		{&specs.LinuxCPU{RealtimePeriod: ptr(uint64(1000))}, "linux.resources.cpu.realtimePeriod: this host's cpu controller has no cpu.rt_runtime_us"},
	} {
		err := m.Set(&specs.LinuxResources{CPU: c.cpu})
		if !errors.Is(err, ErrNotMounted) || !strings.HasPrefix(err.Error(), c.msg) {
			t.Errorf("Set %+v: %v\nwant: %s", c.cpu, err, c.msg)
		}
	}
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Burst: ptr(uint64(0)), Idle: ptr(int64(0))}}); err != nil {
		t.Errorf("burst 0 and idle 0 without their files: %v", err)
	}
	if w := f.takeWrites(); len(w) != 0 {
		t.Errorf("writes: %q", w)
	}
	// A page size the host does not have names the sizes it has.
	m = newV1Test(t, newFakeV1(t, fullHier, nil), Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	err := m.Set(&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "64KB", Limit: 1}}})
	if want := `linux.resources.hugepageLimits[0].pageSize: "64KB" is not a huge page size of this host (it has: 1GB, 2MB)`; err == nil || err.Error() != want {
		t.Errorf("64KB pages: %v\nwant: %s", err, want)
	}
}

func TestCheckResources(t *testing.T) {
	dev := func(major, minor int64) specs.LinuxBlockIODevice {
		return specs.LinuxBlockIODevice{Major: major, Minor: minor}
	}
	for _, c := range []struct {
		r      *specs.LinuxResources
		prefix string
	}{
		{&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB"}, {Pagesize: "../../../etc/x"}}}, "linux.resources.hugepageLimits[1].pageSize: "},
		{&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2M"}}}, "linux.resources.hugepageLimits[0].pageSize: "},
		{&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: ""}}}, "linux.resources.hugepageLimits[0].pageSize: "},
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "eth0 1\nlo"}}}}, "linux.resources.network.priorities[0].name: "},
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "a-very-long-interface"}}}}, "linux.resources.network.priorities[0].name: "},
		{&specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"": {}}}, `linux.resources.rdma[""]: `},
		{&specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"a b": {}}}, `linux.resources.rdma["a b"]: `},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: ptr(int64(2))}}, "linux.resources.cpu.idle: 2 is not 0 or 1"},
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: dev(-1, 0)}}}}, "linux.resources.blockIO.weightDevice[0]: "},
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev(8, 1<<40)}}}}, "linux.resources.blockIO.throttleWriteIOPSDevice[0]: "},
	} {
		err := CheckResources(c.r)
		if err == nil || !strings.HasPrefix(err.Error(), c.prefix) {
			t.Errorf("CheckResources: %v, want prefix %q", err, c.prefix)
		}
	}
	if err := CheckResources(allResources()); err != nil {
		t.Errorf("CheckResources(all): %v", err)
	}
	// New checks before anything exists, on v1 and v2.
	bad := &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "../x"}}}
	if _, err := newManager(newFakeV1(t, fullHier, nil).host(), Config{Path: "/c", ID: "c", Resources: bad}); err == nil {
		t.Error("v1 New accepted page size ../x")
	}
	if _, err := newManager(newFakeV2(t, allV2+" hugetlb", "/").host(), Config{Path: "/c", ID: "c", Resources: bad}); err == nil {
		t.Error("v2 New accepted page size ../x")
	}
}

func TestV1CPUOrder(t *testing.T) {
	f := newFakeV1(t, hybridHier, nil)
	m := newV1Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	dir := "cpu,cpuacct/c/"
	// Realtime: old 50000 µs per 1 s, new 10000 µs per 100 ms. The runtime
	// first keeps the intermediate ratio lower (10000/1 s, not 50000/100 ms).
	writeAll(t, f.path(dir), map[string]string{"cpu.rt_runtime_us": "50000", "cpu.rt_period_us": "1000000"})
	f.takeWrites()
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr(int64(10000)), RealtimePeriod: ptr(uint64(100000))}}); err != nil {
		t.Fatal(err)
	}
	// Idle 0 comes before the shares (an idle cgroup refuses shares); idle
	// 1 on an idle cgroup skips them.
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(2048)), Idle: ptr(int64(0))}}); err != nil {
		t.Fatal(err)
	}
	writeAll(t, f.path(dir), map[string]string{"cpu.idle": "1"})
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(4096)), Idle: ptr(int64(1))}}); err != nil {
		t.Fatal(err)
	}
	// Only one of the realtime values: just that file.
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimePeriod: ptr(uint64(200000))}}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		dir + "cpu.rt_runtime_us=10000", dir + "cpu.rt_period_us=100000",
		dir + "cpu.idle=0", dir + "cpu.shares=2048",
		dir + "cpu.idle=1",
		dir + "cpu.rt_period_us=200000",
	}
	if got := f.takeWrites(); !reflect.DeepEqual(got, want) {
		t.Errorf("writes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestV1ApplyRealtimeFirst: as runc does, Apply gives the cgroup its
// realtime budget before it moves the process in.
func TestV1ApplyRealtimeFirst(t *testing.T) {
	f := newFakeV1(t, []string{"cpu,cpuacct", "memory"}, nil)
	res := &specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr(int64(5000))}}
	m := newV1Test(t, f, Config{Path: "/c", ID: "c", Resources: res})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	f.takeWrites()
	if err := m.Apply(4242); err != nil {
		t.Fatal(err)
	}
	got := f.takeWrites()
	if len(got) != 3 || got[0] != "cpu,cpuacct/c/cpu.rt_runtime_us=5000" {
		t.Errorf("Apply writes %q, want the runtime first", got)
	}
}

func TestV2ResourceFiles(t *testing.T) {
	f := newFakeV2(t, allV2+" hugetlb rdma", "/")
	m := newV2Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	r := allResources()
	r.CPU.RealtimeRuntime, r.CPU.RealtimePeriod = nil, nil
	r.Network = nil
	r.BlockIO.LeafWeight = nil
	r.BlockIO.WeightDevice[0].LeafWeight = nil
	r.BlockIO.WeightDevice[1].Weight = ptr(uint16(1000))
	// A second entry for a device already in the line replaces its key.
	r.BlockIO.ThrottleReadBpsDevice = append(r.BlockIO.ThrottleReadBpsDevice,
		specs.LinuxThrottleDevice{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 3 << 20})
	f.takeWrites()
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	want := []string{
		// weight = 1 + (512 - 2) × 9999 / 262142; burst before cpu.max.
		"cgroup/c/cpu.weight=20",
		"cgroup/c/cpu.max.burst=20000",
		"cgroup/c/cpu.max=50000 100000",
		"cgroup/c/cpu.idle=1",
		// No io.bfq.weight: io.weight = 1 + (w - 10) × 9999 / 990.
		"cgroup/c/io.weight=2930",
		"cgroup/c/io.weight=8:0 3940",
		"cgroup/c/io.weight=8:16 10000",
		// One io.max line per device; rate 0 is "max".
		"cgroup/c/io.max=8:0 rbps=3145728 riops=100 wiops=max",
		"cgroup/c/io.max=8:16 wbps=2097152",
		"cgroup/c/hugetlb.2MB.max=4194304",
		"cgroup/c/hugetlb.2MB.rsvd.max=4194304",
		"cgroup/c/hugetlb.1GB.max=1073741824",
		"cgroup/c/hugetlb.1GB.rsvd.max=1073741824",
		"cgroup/c/rdma.max=mlx4_0 hca_handle=1",
		"cgroup/c/rdma.max=mlx5_0 hca_handle=2 hca_object=2000",
	}
	if got := f.takeWrites(); !reflect.DeepEqual(got, want) {
		t.Errorf("writes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// With bfq: weights unconverted, per device in io.bfq.weight. Without
	// rsvd files (before Linux 5.7): only the limit.
	writeAll(t, f.path("cgroup/c"), map[string]string{"io.bfq.weight": "default 100"})
	os.Remove(f.path("cgroup/c/hugetlb.2MB.rsvd.max"))
	if err := m.Set(&specs.LinuxResources{
		BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(300)),
			WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 254, Minor: 0}, Weight: ptr(uint16(5))}}},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 0}},
	}); err != nil {
		t.Fatal(err)
	}
	want = []string{"cgroup/c/io.bfq.weight=300", "cgroup/c/io.bfq.weight=254:0 5", "cgroup/c/hugetlb.2MB.max=0"}
	if got := f.takeWrites(); !reflect.DeepEqual(got, want) {
		t.Errorf("bfq writes %q, want %q", got, want)
	}
}

// TestV2Refuses: what cgroup v2 has no file for is refused by New, naming
// the field, before anything exists; controllers that are not enabled fail
// Set.
func TestV2Refuses(t *testing.T) {
	f := newFakeV2(t, allV2, "/")
	v2none := "cgroup v2 has no "
	for _, c := range []struct {
		r   *specs.LinuxResources
		msg string
	}{
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr(uint32(1))}}, "linux.resources.network.classID: " + v2none + "net_cls or net_prio controller"},
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "lo"}}}}, "linux.resources.network.priorities: " + v2none + "net_cls"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr(int64(1000))}}, "linux.resources.cpu.realtimeRuntime: " + v2none + "realtime group scheduling"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimePeriod: ptr(uint64(1000))}}, "linux.resources.cpu.realtimePeriod: " + v2none + "realtime group scheduling"},
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: ptr(uint16(100))}}, "linux.resources.blockIO.leafWeight: " + v2none + "leaf weights"},
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{LeafWeight: ptr(uint16(100))}}}},
			"linux.resources.blockIO.weightDevice[0].leafWeight: " + v2none + "leaf weights"},
	} {
		_, err := newManager(f.host(), Config{Path: "/x", ID: "x", Resources: c.r})
		if !errors.Is(err, ErrNotMounted) || !strings.HasPrefix(err.Error(), c.msg) {
			t.Errorf("New: %v\nwant: %s...", err, c.msg)
		}
	}
	if f.exists("cgroup/x") {
		t.Fatal("New created the cgroup")
	}
	m := newV2Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		r      *specs.LinuxResources
		prefix string
	}{
		{&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1}}}, `linux.resources.hugepageLimits: cgroup controller is not available: the "hugetlb" controller is not enabled`},
		{&specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {HcaObjects: ptr(uint32(1))}}}, `linux.resources.rdma: cgroup controller is not available: the "rdma" controller is not enabled`},
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{Weight: ptr(uint16(5))}}}}, "linux.resources.blockIO.weightDevice[0].weight: 5 is out of range 10-1000"},
	} {
		if err := m.Set(c.r); err == nil || !strings.HasPrefix(err.Error(), c.prefix) {
			t.Errorf("Set: %v\nwant: %s...", err, c.prefix)
		}
	}
	// Kernels before 5.14 / 5.15: no cpu.max.burst, no cpu.idle.
	os.Remove(f.path("cgroup/c/cpu.max.burst"))
	os.Remove(f.path("cgroup/c/cpu.idle"))
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Burst: ptr(uint64(1))}}); err == nil ||
		err.Error() != "linux.resources.cpu.burst: this host's cpu controller has no cpu.max.burst (Linux 5.14+)" {
		t.Errorf("burst without cpu.max.burst: %v", err)
	}
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Burst: ptr(uint64(0)), Idle: ptr(int64(0))}}); err != nil {
		t.Errorf("burst 0, idle 0 without their files: %v", err)
	}
}

// TestUpdateRestoresDeviceLines: a failed update takes back per-device
// lines for devices that had none (v1 throttle: rate 0; v2 io.weight:
// "default") and rewrites the old lines of the others.
func TestUpdateRestoresDeviceLines(t *testing.T) {
	f := newFakeV1(t, append(append([]string{}, hybridHier...), "hugetlb"), nil)
	m := newV1Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	writeAll(t, f.path("blkio/c"), map[string]string{"blkio.throttle.read_bps_device": "8:0 1000"})
	// hugetlb comes after blkio.
	failWrites(t, f.path("hugetlb/c/hugetlb.2MB.limit_in_bytes"))
	f.takeWrites()
	td := func(minor int64, rate uint64) specs.LinuxThrottleDevice {
		return specs.LinuxThrottleDevice{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: minor}, Rate: rate}
	}
	err := Update(m, &specs.LinuxResources{
		BlockIO:        &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{td(0, 2000), td(16, 3000)}},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}},
	})
	if err == nil {
		t.Fatal("Update: no error")
	}
	want := []string{
		"blkio/c/blkio.throttle.read_bps_device=8:0 2000",
		"blkio/c/blkio.throttle.read_bps_device=8:16 3000",
		"hugetlb/c/hugetlb.2MB.limit_in_bytes=2097152",
		"blkio/c/blkio.throttle.read_bps_device=8:16 0",
		"blkio/c/blkio.throttle.read_bps_device=8:0 1000",
	}
	if got := f.takeWrites(); !reflect.DeepEqual(got, want) {
		t.Errorf("writes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	f2 := newFakeV2(t, allV2+" hugetlb", "/")
	m2 := newV2Test(t, f2, Config{Path: "/c", ID: "c"})
	if err := m2.Create(); err != nil {
		t.Fatal(err)
	}
	failWrites(t, f2.path("cgroup/c/hugetlb.2MB.max"))
	f2.takeWrites()
	err = Update(m2, &specs.LinuxResources{
		BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(500)), WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: ptr(uint16(1000))}}},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}},
	})
	if err == nil {
		t.Fatal("Update v2: no error")
	}
	want = []string{
		"cgroup/c/io.weight=4950",
		"cgroup/c/io.weight=8:0 10000",
		"cgroup/c/hugetlb.2MB.max=2097152",
		"cgroup/c/io.weight=8:0 default",
		"cgroup/c/io.weight=default 100",
	}
	if got := f2.takeWrites(); !reflect.DeepEqual(got, want) {
		t.Errorf("v2 writes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
