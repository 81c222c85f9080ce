package tests

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Tests of the cgroup resources written since issue 4: blockIO throttles
// and per-device weights, cpu burst, idle and realtime, hugepageLimits,
// network and rdma (docs/cgroups.md). Each observes the control files on
// the host (cgroup v1 here; v2 in the cgroup-v2 VM, tests/cgv2), or the
// clear error for what the host lacks, and `rt update` of the same fields.

// blockDev is a whole-disk block device number.
type blockDev struct {
	path         string // a device node on the host
	major, minor int64
}

func (d blockDev) num() string { return fmt.Sprintf("%d:%d", d.major, d.minor) }

func (d blockDev) throttle(rate uint64) []specs.LinuxThrottleDevice {
	return []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: d.major, Minor: d.minor}, Rate: rate}}
}

// scheduler returns the device's I/O scheduler ("bfq", "mq-deadline", ...).
func (d blockDev) scheduler() string {
	s, _ := os.ReadFile(fmt.Sprintf("/sys/dev/block/%s/queue/scheduler", d.num()))
	_, after, _ := strings.Cut(string(s), "[")
	name, _, _ := strings.Cut(after, "]")
	return name
}

func statDev(t *testing.T, path string) blockDev {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK {
		t.Fatalf("%s: not a block device (%v)", path, err)
	}
	return blockDev{path: path, major: int64(unix.Major(st.Rdev)), minor: int64(unix.Minor(st.Rdev))}
}

// testDisk is a whole disk whose limits are only written, never used:
// RT_TEST_IO_DEVICE (the VM's scratch disk), else the disk under "/".
func testDisk(t *testing.T) blockDev {
	t.Helper()
	if p := os.Getenv("RT_TEST_IO_DEVICE"); p != "" {
		return statDev(t, p)
	}
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	num := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	sys, err := filepath.EvalSymlinks("/sys/dev/block/" + num)
	if err != nil {
		t.Skipf("the root filesystem (%s) is not on a block device; set RT_TEST_IO_DEVICE", num)
	}
	if fileExists(filepath.Join(sys, "partition")) {
		sys = filepath.Dir(sys) // the whole disk
	}
	data, err := os.ReadFile(filepath.Join(sys, "dev"))
	if err != nil {
		t.Fatal(err)
	}
	var d blockDev
	if _, err := fmt.Sscanf(strings.TrimSpace(string(data)), "%d:%d", &d.major, &d.minor); err != nil {
		t.Fatal(err)
	}
	return d
}

// scratchDisk is a disk the test may write to: RT_TEST_IO_DEVICE, else (on
// the host) a loop device over a file, detached at the end. It must be
// called before newH, so the container is gone before the detach.
func scratchDisk(t *testing.T) blockDev {
	t.Helper()
	if p := os.Getenv("RT_TEST_IO_DEVICE"); p != "" {
		return statDev(t, p)
	}
	if unifiedHost() {
		t.Skip("needs RT_TEST_IO_DEVICE on cgroup v2 (run in tests/cgv2)")
	}
	if _, err := exec.LookPath("losetup"); err != nil {
		t.Skip("needs losetup for a scratch block device")
	}
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 16<<20); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("losetup: %v: %s", err, out)
	}
	path := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", path).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", path, err, out)
		}
	})
	return statDev(t, path)
}

// deviceLine returns the line of a control file for device num ("" if none).
func deviceLine(t *testing.T, file, num string) string {
	t.Helper()
	for _, l := range lines(hostFile(t, file)) {
		if strings.HasPrefix(l, num+" ") {
			return l
		}
	}
	return ""
}

// v1Mounted reports whether a cgroup v1 hierarchy with ctrl is mounted.
func v1Mounted(ctrl string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		_, post, ok := strings.Cut(sc.Text(), " - ")
		fs := strings.Fields(post)
		if !ok || len(fs) < 3 || fs[0] != "cgroup" {
			continue
		}
		for _, o := range strings.Split(fs[2], ",") {
			if o == ctrl {
				return true
			}
		}
	}
	return false
}

// refusedAlike checks a create that must fail with msg: one line, and
// nothing left (state, cgroups). Then the same change as an update of the
// running container id fails with msg too and changes nothing recorded.
func refusedAlike(t *testing.T, h *H, mut func(*specs.Spec), update, id string, msgs ...string) {
	t.Helper()
	b := h.Bundle(args("true"), mut)
	before := dirNames(h.Root)
	r := h.RT("run", "--bundle", b.Dir, h.ID("refused"))
	if r.Code == 0 || !containsAll(r.Stderr, msgs) || len(lines(r.Stderr)) != 1 {
		t.Errorf("create: %v\nwant one line with %q", r, msgs)
	}
	if after := dirNames(h.Root); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("refused create left %v under --root", after)
	}
	if ds := cgroupDirs(b.Cgroup); len(ds) > 0 {
		t.Errorf("refused create left cgroups %v", ds)
	}
	if update == "" {
		return
	}
	rec := jsonString(recorded(t, h, id))
	u := h.RTo(RunOpts{Stdin: update}, "update", "-r", "-", id)
	if u.Code == 0 || !containsAll(u.Stderr, msgs) || strings.Contains(u.Stderr, "restoring") {
		t.Errorf("update %s: %v\nwant a failure with %q", update, u, msgs)
	}
	if after := jsonString(recorded(t, h, id)); after != rec {
		t.Errorf("refused update changed the record:\n%s\n%s", rec, after)
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestResourcesBlockIOThrottle: the four throttles of a disk go to the v1
// blkio.throttle.* files (one "MAJ:MIN RATE" line each) or to one v2
// io.max line; update changes one and lifts another (rate 0); a device
// the kernel refuses changes nothing.
func TestResourcesBlockIOThrottle(t *testing.T) {
	t.Parallel()
	d := testDisk(t)
	h := newH(t)
	b := h.Bundle(args("sleep", "1000"), func(s *specs.Spec) {
		resources(s).BlockIO = &specs.LinuxBlockIO{
			ThrottleReadBpsDevice: d.throttle(1 << 20), ThrottleWriteBpsDevice: d.throttle(2 << 20),
			ThrottleReadIOPSDevice: d.throttle(1000), ThrottleWriteIOPSDevice: d.throttle(2000),
		}
	})
	id, _ := h.StartDetached(b)
	n := d.num()
	check := func(when string, v1 [4]string, v2 string) {
		t.Helper()
		if unifiedHost() {
			if got := deviceLine(t, cgFile(b, "", "", "io.max"), n); got != v2 {
				t.Errorf("%s: io.max line %q, want %q", when, got, v2)
			}
			return
		}
		for i, f := range []string{"read_bps", "write_bps", "read_iops", "write_iops"} {
			want := ""
			if v1[i] != "" {
				want = n + " " + v1[i]
			}
			if got := deviceLine(t, cgFile(b, "blkio", "blkio.throttle."+f+"_device", ""), n); got != want {
				t.Errorf("%s: blkio.throttle.%s_device line %q, want %q", when, f, got, want)
			}
		}
	}
	check("after create", [4]string{"1048576", "2097152", "1000", "2000"}, n+" rbps=1048576 wbps=2097152 riops=1000 wiops=2000")

	h.MustRTo(RunOpts{Stdin: fmt.Sprintf(`{"blockIO":{"throttleReadBpsDevice":[{"major":%d,"minor":%d,"rate":4194304}],
		"throttleWriteIOPSDevice":[{"major":%[1]d,"minor":%[2]d,"rate":0}]}}`, d.major, d.minor)}, "update", "-r", "-", id)
	check("after update", [4]string{"4194304", "2097152", "1000", ""}, n+" rbps=4194304 wbps=2097152 riops=1000 wiops=max")
	if rec := recorded(t, h, id).BlockIO; rec == nil || len(rec.ThrottleReadBpsDevice) != 1 || rec.ThrottleReadBpsDevice[0].Rate != 4<<20 ||
		len(rec.ThrottleWriteIOPSDevice) != 1 || rec.ThrottleWriteIOPSDevice[0].Rate != 0 || len(rec.ThrottleWriteBpsDevice) != 1 {
		t.Errorf("recorded blockIO: %s", jsonString(rec))
	}

	// 0:0 is no disk: the kernel refuses it, and the whole update is undone.
	rec := jsonString(recorded(t, h, id))
	r := h.RTo(RunOpts{Stdin: `{"blockIO":{"throttleReadBpsDevice":[{"major":0,"minor":0,"rate":5}],"throttleWriteBpsDevice":[{"major":` +
		fmt.Sprint(d.major) + `,"minor":` + fmt.Sprint(d.minor) + `,"rate":12345}]}}`}, "update", "-r", "-", id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux.resources.blockIO.throttleReadBpsDevice[1]: ") ||
		!strings.Contains(r.Stderr, "0:0 is not a whole-disk block device") || strings.Contains(r.Stderr, "restoring") {
		t.Errorf("update with device 0:0: %v", r)
	}
	check("after a refused update", [4]string{"4194304", "2097152", "1000", ""}, n+" rbps=4194304 wbps=2097152 riops=1000 wiops=max")
	if after := jsonString(recorded(t, h, id)); after != rec {
		t.Errorf("refused update changed the record:\n%s\n%s", rec, after)
	}
}

// TestResourcesThrottleSlowsWrites: a write throttle set at create holds
// direct writes inside the container to it (3 MiB at 1 MiB/s); update
// with rate 0 lifts it.
func TestResourcesThrottleSlowsWrites(t *testing.T) {
	t.Parallel()
	d := scratchDisk(t)
	h := newH(t)
	b := h.Bundle(sh(probeScript), writable, func(s *specs.Spec) {
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/scratch", Type: "b", Major: d.major, Minor: d.minor})
		resources(s).BlockIO = &specs.LinuxBlockIO{ThrottleWriteBpsDevice: d.throttle(1 << 20)}
	})
	id, _ := h.StartDetached(b)
	timed := func() time.Duration {
		start := time.Now()
		out := probe(t, b, `dd if=/dev/zero of=/dev/scratch bs=64k count=48 oflag=direct 2>&1 && echo dd=ok`)
		if !strings.Contains(out, "dd=ok") {
			t.Fatalf("dd to %s: %s", d.path, out)
		}
		return time.Since(start)
	}
	limited := timed()
	if limited < 2*time.Second {
		t.Errorf("3 MiB at 1 MiB/s took %v", limited)
	}
	h.MustRTo(RunOpts{Stdin: fmt.Sprintf(`{"blockIO":{"throttleWriteBpsDevice":[{"major":%d,"minor":%d,"rate":0}]}}`, d.major, d.minor)},
		"update", "-r", "-", id)
	if free := timed(); free > limited/2 {
		t.Errorf("after lifting the throttle: %v (limited: %v)", free, limited)
	} else {
		t.Logf("3 MiB of direct writes to %s: %v at 1 MiB/s, %v free", d.path, limited, free)
	}
}

// TestResourcesWeightDevice: a per-device weight goes to
// blkio.bfq.weight_device (v1 without CFQ) or io.bfq.weight (v2) when the
// disk uses bfq (the loop device here; the VM's disk if bfq is loaded);
// for a disk on another scheduler the kernel refuses it and the error
// says why.
func TestResourcesWeightDevice(t *testing.T) {
	t.Parallel()
	d := scratchDisk(t)
	if os.Getenv("RT_TEST_IO_DEVICE") == "" && d.scheduler() != "bfq" {
		// Our own loop device: give it bfq.
		sched := fmt.Sprintf("/sys/dev/block/%s/queue/scheduler", d.num())
		if err := os.WriteFile(sched, []byte("bfq"), 0); err != nil {
			t.Logf("no bfq for %s: %v", d.path, err)
		}
	}
	h := newH(t)
	wd := func(w uint16) []specs.LinuxWeightDevice {
		return []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: d.major, Minor: d.minor}, Weight: u16(w)}}
	}
	mut := func(s *specs.Spec) { resources(s).BlockIO = &specs.LinuxBlockIO{WeightDevice: wd(444)} }
	if d.scheduler() != "bfq" {
		t.Logf("%s uses %q, not bfq", d.path, d.scheduler())
		refusedAlike(t, h, mut, "", "", "linux.resources.blockIO.weightDevice[0].weight: ",
			"(per-device weights need the bfq I/O scheduler on "+d.num())
		return
	}
	b := h.Bundle(args("sleep", "1000"), mut)
	id, _ := h.StartDetached(b)
	file := cgFile(b, "blkio", "blkio.bfq.weight_device", "io.bfq.weight")
	if !unifiedHost() && fileExists(cgFile(b, "blkio", "blkio.weight_device", "")) {
		file = cgFile(b, "blkio", "blkio.weight_device", "") // CFQ
	}
	if got := deviceLine(t, file, d.num()); got != d.num()+" 444" {
		t.Errorf("%s: line %q, want %q", file, got, d.num()+" 444")
	}
	t.Logf("%s on bfq: %s", d.path, file)
	h.MustRTo(RunOpts{Stdin: fmt.Sprintf(`{"blockIO":{"weightDevice":[{"major":%d,"minor":%d,"weight":222}]}}`, d.major, d.minor)},
		"update", "-r", "-", id)
	if got := deviceLine(t, file, d.num()); got != d.num()+" 222" {
		t.Errorf("after update: %s line %q", file, got)
	}
}

// TestResourcesCPUBurstIdle: cpu.burst and cpu.idle go to
// cpu.cfs_burst_us / cpu.max.burst and cpu.idle; update sets them back
// to 0 (which, for these two, is a value); a burst above the current
// quota is written after the new quota; a burst above the quota and an
// idle of 2 are refused and change nothing.
func TestResourcesCPUBurstIdle(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(args("sleep", "1000"), func(s *specs.Spec) {
		resources(s).CPU = &specs.LinuxCPU{Quota: i64(50000), Period: u64(100000), Burst: u64(20000), Idle: i64(1)}
	})
	id := h.ID("c")
	if r := h.RT("run", "-d", "--bundle", b.Dir, id); r.Code != 0 {
		if strings.Contains(r.Stderr, "this host's cpu controller has no") {
			t.Skipf("an older kernel: %s", r.Stderr)
		}
		t.Fatalf("run: %v", r)
	}
	quota := func() string { return cgRead(b, "cpu", "cpu.cfs_quota_us", "cpu.max") }
	want := func(when, burst, idle, q string) {
		t.Helper()
		if got := cgRead(b, "cpu", "cpu.cfs_burst_us", "cpu.max.burst"); got != burst {
			t.Errorf("%s: burst %q, want %q", when, got, burst)
		}
		if got := cgRead(b, "cpu", "cpu.idle", "cpu.idle"); got != idle {
			t.Errorf("%s: cpu.idle %q, want %q", when, got, idle)
		}
		if got := quota(); got != q && !strings.HasPrefix(got, q+" ") {
			t.Errorf("%s: quota %q, want %q", when, got, q)
		}
	}
	want("after create", "20000", "1", "50000")
	h.MustRT("update", "--cpu-burst", "0", "--cpu-idle", "0", id)
	want("after burst 0, idle 0", "0", "0", "50000")
	// 60000 > the current quota 50000: the kernel takes it only after the
	// new quota.
	h.MustRT("update", "--cpu-quota", "80000", "--cpu-burst", "60000", id)
	want("after quota 80000, burst 60000", "60000", "0", "80000")
	rec := jsonString(recorded(t, h, id))
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--cpu-burst", "90000"}, "linux.resources.cpu.burst: "},
		{[]string{"--cpu-idle", "2"}, "linux.resources.cpu.idle: 2 is not 0 or 1"},
	} {
		r := h.RT(append(append([]string{"update"}, c.args...), id)...)
		if r.Code == 0 || !strings.Contains(r.Stderr, c.msg) || strings.Contains(r.Stderr, "restoring") {
			t.Errorf("update %v: %v, want %q", c.args, r, c.msg)
		}
	}
	want("after refused updates", "60000", "0", "80000")
	if after := jsonString(recorded(t, h, id)); after != rec {
		t.Errorf("refused updates changed the record:\n%s\n%s", rec, after)
	}
}

// TestResourcesCPURealtime: on v1, cpu.rt_runtime_us and cpu.rt_period_us
// under a parent cgroup that has a realtime budget (made by the test, as
// an admin would: neither rt nor runc raises a parent's budget); a
// runtime the parent cannot cover is refused at create and at update,
// naming the parent's budget, and leaves nothing. On v2 (no realtime
// group scheduling) both fields are refused.
func TestResourcesCPURealtime(t *testing.T) {
	t.Parallel()
	rt := func(runtime int64, period uint64) func(*specs.Spec) {
		return func(s *specs.Spec) {
			resources(s).CPU = &specs.LinuxCPU{RealtimeRuntime: i64(runtime), RealtimePeriod: u64(period)}
		}
	}
	if unifiedHost() {
		h := newH(t)
		refusedAlike(t, h, rt(10000, 1000000), "", "", "linux.resources.cpu.realtimeRuntime: cgroup v2 has no realtime group scheduling")
		refusedAlike(t, h, func(s *specs.Spec) { resources(s).CPU = &specs.LinuxCPU{RealtimePeriod: u64(1000000)} }, "", "",
			"linux.resources.cpu.realtimePeriod: cgroup v2 has no realtime group scheduling")
		return
	}
	if !fileExists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us") {
		h := newH(t)
		refusedAlike(t, h, rt(10000, 1000000), "", "", "linux.resources.cpu.realtimeRuntime: this host's cpu controller has no cpu.rt_runtime_us")
		return
	}
	// The parent with a budget of 20 ms per second, removed after the
	// containers (this cleanup runs after newH's).
	parent := fmt.Sprintf("/rt-itest-%s-%d", runToken, counter.Add(1))
	pdir := filepath.Join("/sys/fs/cgroup/cpu", parent)
	if err := os.Mkdir(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unix.Rmdir(pdir); err != nil {
			t.Errorf("remove %s: %v", pdir, err)
		}
		if ds := cgroupDirs(parent); len(ds) > 0 {
			t.Errorf("left behind: %v", ds)
		}
	})
	if err := os.WriteFile(filepath.Join(pdir, "cpu.rt_runtime_us"), []byte("20000"), 0); err != nil {
		t.Skipf("cannot give %s a realtime budget (the host's own budget is spent?): %v", pdir, err)
	}
	h := newH(t)
	under := func(p string) func(*specs.Spec) {
		return func(s *specs.Spec) { s.Linux.CgroupsPath = p + fmt.Sprintf("/c%d", counter.Add(1)) }
	}
	b := h.Bundle(args("sleep", "1000"), under(parent), rt(10000, 500000))
	id, _ := h.StartDetached(b)
	check := func(when, runtime, period string) {
		t.Helper()
		if got := cgRead(b, "cpu", "cpu.rt_runtime_us", ""); got != runtime {
			t.Errorf("%s: cpu.rt_runtime_us %q, want %q", when, got, runtime)
		}
		if got := cgRead(b, "cpu", "cpu.rt_period_us", ""); got != period {
			t.Errorf("%s: cpu.rt_period_us %q, want %q", when, got, period)
		}
	}
	check("after create", "10000", "500000")
	h.MustRT("update", "--cpu-rt-runtime", "15000", "--cpu-rt-period", "1000000", id)
	check("after update", "15000", "1000000")
	// More than the parent's 20000 per second.
	msg := "linux.resources.cpu.realtimeRuntime: write " + cgFile(b, "cpu", "cpu.rt_runtime_us", "") +
		": invalid argument (the runtime must fit in what the parent cgroup " + pdir + " has left of its cpu.rt_runtime_us 20000 per cpu.rt_period_us 1000000"
	r := h.RT("update", "--cpu-rt-runtime", "30000", id)
	if r.Code == 0 || !strings.Contains(r.Stderr, msg) {
		t.Errorf("update beyond the parent's budget: %v\nwant %q", r, msg)
	}
	check("after a refused update", "15000", "1000000")

	// A parent without a budget (rt makes it, with 0): create fails, and
	// takes the parent it made with it.
	other := fmt.Sprintf("/rt-itest-%s-%d", runToken, counter.Add(1))
	refusedAlike(t, h, func(s *specs.Spec) { under(other)(s); rt(1000, 0)(s) }, "", "",
		"(the runtime must fit in what the parent cgroup /sys/fs/cgroup/cpu"+other+" has left of its cpu.rt_runtime_us 0")
	if ds := cgroupDirs(other); len(ds) > 0 {
		t.Errorf("refused create left its parent cgroup %v", ds)
	}
}

// TestResourcesHostLacks: hugepageLimits, network and rdma, and leaf
// weights, where this host has them (the files are written, update
// changes them), else the error naming the field and what is missing, at
// create and at update alike. This host (v1 hybrid): no hugetlb, net_cls,
// net_prio or rdma hierarchy, no CFQ leaf weights. The VM (v2): hugetlb,
// rdma without devices; no network controllers and no leaf weights.
func TestResourcesHostLacks(t *testing.T) {
	t.Parallel()
	h := newH(t)
	v2 := unifiedHost()
	run := h.Bundle(args("sleep", "1000"))
	runID, _ := h.StartDetached(run)
	pageSize := hugePageSize()
	type files map[string]string // control file (v1 "ctrl/file", v2 "file") → want
	cases := []struct {
		name        string
		mut, change func(*specs.Spec)
		update      string // the change as rt update JSON
		lacks       string // the error, when the host lacks it
		files       files  // else: after create
		updated     files  // and after update
	}{{
		name: "hugepageLimits",
		mut: func(s *specs.Spec) {
			resources(s).HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: pageSize, Limit: 4 << 20}}
		},
		update: `{"hugepageLimits":[{"pageSize":"` + pageSize + `","limit":0}]}`,
		lacks:  "linux.resources.hugepageLimits: no hugetlb controller in this host's cgroup v1 hierarchies",
		files: files{"hugetlb/hugetlb." + pageSize + ".limit_in_bytes": "4194304",
			"hugetlb." + pageSize + ".max": "4194304", "hugetlb." + pageSize + ".rsvd.max": "4194304"},
		updated: files{"hugetlb/hugetlb." + pageSize + ".limit_in_bytes": "0", "hugetlb." + pageSize + ".max": "0"},
	}, {
		name:    "network.classID",
		mut:     func(s *specs.Spec) { resources(s).Network = &specs.LinuxNetwork{ClassID: u32(0x100001)} },
		update:  `{"network":{"classID":1048578}}`,
		lacks:   "linux.resources.network.classID: no net_cls controller in this host's cgroup v1 hierarchies",
		files:   files{"net_cls/net_cls.classid": "1048577"},
		updated: files{"net_cls/net_cls.classid": "1048578"},
	}, {
		name: "network.priorities",
		mut: func(s *specs.Spec) {
			resources(s).Network = &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "lo", Priority: 5}}}
		},
		update:  `{"network":{"priorities":[{"name":"lo","priority":6}]}}`,
		lacks:   "linux.resources.network.priorities: no net_prio controller in this host's cgroup v1 hierarchies",
		files:   files{"net_prio/net_prio.ifpriomap": "lo 5"},
		updated: files{"net_prio/net_prio.ifpriomap": "lo 6"},
	}, {
		name: "rdma",
		mut: func(s *specs.Spec) {
			resources(s).Rdma = map[string]specs.LinuxRdma{"rtnodev0": {HcaHandles: u32(1)}}
		},
		update: `{"rdma":{"rtnodev0":{"hcaHandles":1}}}`,
		// With the controller but without RDMA devices, the kernel
		// refuses the name.
		lacks: `linux.resources.rdma["rtnodev0"]: write `,
	}, {
		name:    "blockIO.leafWeight",
		mut:     func(s *specs.Spec) { resources(s).BlockIO = &specs.LinuxBlockIO{LeafWeight: u16(300)} },
		update:  `{"blockIO":{"leafWeight":300}}`,
		lacks:   "linux.resources.blockIO.leafWeight: this host's blkio controller has no blkio.leaf_weight",
		files:   files{"blkio/blkio.leaf_weight": "300"},
		updated: files{"blkio/blkio.leaf_weight": "300"},
	}}
	for _, c := range cases {
		lacks := c.lacks
		switch {
		case c.name == "hugepageLimits" && pageSize == "":
			lacks = "linux.resources.hugepageLimits[0].pageSize: "
		case v2 && strings.HasPrefix(c.name, "network"):
			lacks = "linux.resources." + c.name + ": cgroup v2 has no net_cls or net_prio controller"
		case v2 && c.name == "blockIO.leafWeight":
			lacks = "linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weights"
		case v2 && c.name == "rdma", v2 && c.name == "hugepageLimits":
			if c.name == "rdma" && !strings.Contains(hostFile(t, "/sys/fs/cgroup/cgroup.subtree_control"), "rdma") {
				lacks = `linux.resources.rdma: cgroup controller is not available: the "rdma" controller is not enabled`
			} else if c.name == "hugepageLimits" {
				lacks = ""
			}
		case v2:
		case c.name == "hugepageLimits" && v1Mounted("hugetlb"),
			c.name == "network.classID" && v1Mounted("net_cls"),
			c.name == "network.priorities" && v1Mounted("net_prio"),
			c.name == "blockIO.leafWeight" && fileExists("/sys/fs/cgroup/blkio/blkio.weight"): // CFQ
			lacks = ""
		case c.name == "rdma" && !v1Mounted("rdma"):
			lacks = "linux.resources.rdma: no rdma controller in this host's cgroup v1 hierarchies"
		}
		if lacks != "" {
			t.Logf("%s: the host lacks it", c.name)
			refusedAlike(t, h, c.mut, c.update, runID, lacks)
			continue
		}
		t.Logf("%s: the host has it", c.name)
		b := h.Bundle(args("sleep", "1000"), c.mut)
		id, _ := h.StartDetached(b)
		checkFiles := func(when string, fs files) {
			t.Helper()
			for f, want := range fs {
				ctrl, name, isV1 := strings.Cut(f, "/")
				if isV1 == v2 {
					continue
				}
				p := cgFile(b, ctrl, name, f)
				if v2 && !fileExists(p) && strings.Contains(f, ".rsvd.") {
					continue // before Linux 5.7
				}
				if got := hostFile(t, p); got != want && !strings.Contains("\n"+got+"\n", "\n"+want+"\n") {
					t.Errorf("%s: %s: %s = %q, want %q", c.name, when, p, got, want)
				}
			}
		}
		checkFiles("after create", c.files)
		h.MustRTo(RunOpts{Stdin: c.update}, "update", "-r", "-", id)
		checkFiles("after update", c.updated)
		h.MustRT("delete", "--force", id)
	}
}

// hugePageSize returns the host's smallest huge page size in cgroup file
// form ("2MB"), or "" if it has none.
func hugePageSize() string {
	ents, _ := os.ReadDir("/sys/kernel/mm/hugepages")
	var kb uint64
	for _, e := range ents {
		var size uint64
		if _, err := fmt.Sscanf(e.Name(), "hugepages-%dkB", &size); err == nil && (kb == 0 || size < kb) {
			kb = size
		}
	}
	if kb != 0 {
		switch {
		case kb >= 1<<20 && kb%(1<<20) == 0:
			return fmt.Sprintf("%dGB", kb>>20)
		case kb >= 1<<10 && kb%(1<<10) == 0:
			return fmt.Sprintf("%dMB", kb>>10)
		default:
			return fmt.Sprintf("%dKB", kb)
		}
	}
	return ""
}
