package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The cpu resources of cgroups_resources_test.go: burst, idle and
// realtime (the helpers are there).

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
