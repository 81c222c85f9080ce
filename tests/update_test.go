package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Tests of `rt update` (and helpers that run on cgroup v1 and v2 alike;
// the v2 runs happen in the cgroup-v2 VM, see tests/cgv2).

// unifiedHost reports whether the host is cgroup v2 only.
func unifiedHost() bool { return fileExists("/sys/fs/cgroup/cgroup.controllers") }

// cgFile returns the host path of a control file of b's cgroup: name v1
// in the ctrl hierarchy, or name v2 on a cgroup v2 host.
func cgFile(b *Bundle, ctrl, v1, v2 string) string {
	if unifiedHost() {
		return filepath.Join("/sys/fs/cgroup", b.Cgroup, v2)
	}
	return filepath.Join("/sys/fs/cgroup", ctrl, b.Cgroup, v1)
}

// cgRead reads a control file of b's cgroup ("" if it does not exist).
func cgRead(b *Bundle, ctrl, v1, v2 string) string {
	data, err := os.ReadFile(cgFile(b, ctrl, v1, v2))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// probeScript is a container init that runs shell lines the test sends
// through the fifo /tmp/cmd and leaves their output in /tmp/out (a poor
// man's exec). The rootfs must be writable.
const probeScript = `mkfifo /tmp/cmd; exec 3<>/tmp/cmd
while read -r line <&3; do eval "$line" > /tmp/out.new 2>&1; mv /tmp/out.new /tmp/out; done`

// probe sends one shell line to a probeScript container and returns its
// output.
func probe(t *testing.T, b *Bundle, line string) string {
	t.Helper()
	out := filepath.Join(b.Rootfs, "tmp", "out")
	os.Remove(out)
	var f *os.File
	if !waitFor(20*time.Second, func() bool {
		var err error
		f, err = os.OpenFile(filepath.Join(b.Rootfs, "tmp", "cmd"), os.O_WRONLY|syscall.O_NONBLOCK, 0)
		return err == nil
	}) {
		t.Fatalf("probe %q: the container does not read its fifo", line)
	}
	_, err := f.WriteString(line + "\n")
	f.Close()
	if err != nil {
		t.Fatalf("probe %q: %v", line, err)
	}
	var data []byte
	if !waitFor(60*time.Second, func() bool {
		data, err = os.ReadFile(out)
		return err == nil
	}) {
		t.Fatalf("probe %q: no answer", line)
	}
	return string(data)
}

// insideCg is a probe line that prints "name=value" for each cgroup file
// (v1 "ctrl/file" or v2 "file") the container sees under /sys/fs/cgroup.
func insideCg(files ...string) string {
	return `for f in ` + strings.Join(files, " ") + `; do [ -e /sys/fs/cgroup/$f ] && echo "$f=$(cat /sys/fs/cgroup/$f)"; done; true`
}

// recorded returns linux.resources of the container's recorded config.
func recorded(t *testing.T, h *H, id string) *specs.LinuxResources {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(h.Root, id, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if s.Linux == nil || s.Linux.Resources == nil {
		return &specs.LinuxResources{}
	}
	return s.Linux.Resources
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestUpdateLimits: rt update writes memory, cpu, pids and cpuset limits
// into the live cgroup (seen on the host and inside the container), also
// while the container is paused; a second update builds on the first;
// refused values change nothing; -1 lifts a limit; a stopped container
// cannot be updated.
func TestUpdateLimits(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(sh(probeScript), writable)
	id, _ := h.StartDetached(b)
	v2 := unifiedHost()

	h.MustRT("update", "--memory", "64M", "--memory-swap", "128M", "--cpu-share", "512",
		"--cpu-quota", "20000", "--cpu-period", "100000", "--pids-limit", "50",
		"--cpuset-cpus", "0", "--cpuset-mems", "0", id)
	want := map[string]string{
		cgFile(b, "memory", "memory.limit_in_bytes", "memory.max"): "67108864",
		cgFile(b, "pids", "pids.max", "pids.max"):                  "50",
		cgFile(b, "cpuset", "cpuset.cpus", "cpuset.cpus"):          "0",
		cgFile(b, "cpuset", "cpuset.mems", "cpuset.mems"):          "0",
	}
	if v2 {
		want[cgFile(b, "", "", "cpu.weight")] = "20" // runc's shares → weight
		want[cgFile(b, "", "", "cpu.max")] = "20000 100000"
		if fileExists(cgFile(b, "", "", "memory.swap.max")) {
			want[cgFile(b, "", "", "memory.swap.max")] = "67108864" // swap alone
		}
	} else {
		want[cgFile(b, "cpu", "cpu.shares", "")] = "512"
		want[cgFile(b, "cpu", "cpu.cfs_quota_us", "")] = "20000"
		want[cgFile(b, "cpu", "cpu.cfs_period_us", "")] = "100000"
		if fileExists(cgFile(b, "memory", "memory.memsw.limit_in_bytes", "")) {
			want[cgFile(b, "memory", "memory.memsw.limit_in_bytes", "")] = "134217728"
		}
	}
	checkFiles := func(when string) {
		t.Helper()
		for p, w := range want {
			if got := hostFile(t, p); got != w {
				t.Errorf("%s: %s = %q, want %q", when, p, got, w)
			}
		}
	}
	checkFiles("after update")
	in := kv(probe(t, b, insideCg("memory/memory.limit_in_bytes", "memory.max", "pids/pids.max", "pids.max",
		"cpu/cpu.cfs_quota_us", "cpu.max", "cpuset/cpuset.cpus", "cpuset.cpus")))
	wantIn := map[string]string{"memory/memory.limit_in_bytes": "67108864", "pids/pids.max": "50",
		"cpu/cpu.cfs_quota_us": "20000", "cpuset/cpuset.cpus": "0"}
	if v2 {
		wantIn = map[string]string{"memory.max": "67108864", "pids.max": "50", "cpu.max": "20000 100000", "cpuset.cpus": "0"}
	}
	for k, w := range wantIn {
		if in[k] != w {
			t.Errorf("inside: /sys/fs/cgroup/%s = %q, want %q (all: %v)", k, in[k], w, in)
		}
	}
	if got := probe(t, b, `grep Cpus_allowed_list /proc/self/status`); !strings.HasSuffix(strings.TrimSpace(got), "\t0") {
		t.Errorf("inside: a new process may run on %q, want CPU 0 only", got)
	}
	rec := recorded(t, h, id)
	if rec.Memory == nil || *rec.Memory.Limit != 64<<20 || *rec.Memory.Swap != 128<<20 || rec.Pids == nil || *rec.Pids.Limit != 50 ||
		rec.CPU == nil || *rec.CPU.Shares != 512 || rec.CPU.Cpus != "0" {
		t.Errorf("recorded resources: %s", jsonString(rec))
	}
	if st := h.State(id); st.Status != specs.StateRunning {
		t.Errorf("status after update: %s", st.Status)
	}

	// Paused: the update applies, the container stays paused. Only the
	// memory limit changes; the recorded swap limit stays.
	h.MustRT("pause", id)
	h.MustRT("update", "--memory", "96M", id)
	if st := h.State(id); st.Status != specs.ContainerState("paused") {
		t.Errorf("status after update of a paused container: %s", st.Status)
	}
	h.MustRT("resume", id)
	want[cgFile(b, "memory", "memory.limit_in_bytes", "memory.max")] = "100663296"
	if v2 && want[cgFile(b, "", "", "memory.swap.max")] != "" {
		want[cgFile(b, "", "", "memory.swap.max")] = "33554432" // 128M - 96M
	}
	checkFiles("after the second update")

	// Refused: the whole update changes nothing, on the host or in the
	// record, and the message names the field.
	before := jsonString(recorded(t, h, id))
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--memory", "256M"}, "linux.resources.memory.swap"},
		{[]string{"--memory", "80M", "--cpuset-cpus", "999"}, "linux.resources.cpu.cpus"},
		{[]string{"--memory", "80M", "--cpu-rt-runtime", "2000000"}, "linux.resources.cpu.realtimeRuntime"},
		{[]string{"--memory", "80M", "--cpu-idle", "2"}, "linux.resources.cpu.idle: 2 is not 0 or 1"},
		{[]string{"--l3-cache-schema", "L3:0=f"}, "linux.intelRdt"},
		{[]string{"--mem-bw-schema", "MB:0=50"}, "linux.intelRdt"},
		{[]string{"--memory", "12Q"}, "--memory"},
		{[]string{"--blkio-weight", "5"}, "linux.resources.blockIO.weight"},
		{[]string{"--pids-limit", "x"}, "--pids-limit"},
	} {
		r := h.RT(append(append([]string{"update"}, c.args...), id)...)
		if r.Code == 0 || !strings.Contains(r.Stderr, c.msg) {
			t.Errorf("update %v: want a failure naming %q: %v", c.args, c.msg, r)
		}
	}
	checkFiles("after refused updates")
	// The device rules were not touched: /dev/null still works.
	if got := probe(t, b, `echo x > /dev/null && echo null=ok`); !strings.Contains(got, "null=ok") {
		t.Errorf("inside, after the updates: %q", got)
	}
	if after := jsonString(recorded(t, h, id)); after != before {
		t.Errorf("refused updates changed the record:\n%s\n%s", before, after)
	}

	// -1 lifts the memory limit (and with it the swap limit).
	h.MustRT("update", "--memory", "-1", id)
	if got := cgRead(b, "memory", "memory.limit_in_bytes", "memory.max"); got != "max" && got != "9223372036854771712" {
		t.Errorf("--memory -1: limit %q", got)
	}

	// Stopped: nothing to update.
	h.MustRT("kill", id, "KILL")
	h.WaitStatus(id, specs.StateStopped)
	if r := h.RT("update", "--memory", "64M", id); r.Code == 0 || !strings.Contains(r.Stderr, "container not running") {
		t.Errorf("update of a stopped container: %v", r)
	}
	if r := h.RT("update", "--memory", "64M", "no-such-"+runToken); r.Code == 0 || !strings.Contains(r.Stderr, "does not exist") {
		t.Errorf("update of a missing container: %v", r)
	}
	h.MustRT("delete", id)
	if d := cgFile(b, "pids", ".", "."); fileExists(d) {
		t.Errorf("delete left the cgroup %s", d)
	}
}

// TestUpdateCPUQuota: a CPU quota set by update holds a busy loop to its
// share (v1 cfs_quota_us, v2 cpu.max), as the stats of rt events show.
func TestUpdateCPUQuota(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(sh(`while :; do :; done`))
	id, _ := h.StartDetached(b)
	// 5%: below what the loop gets even on a loaded machine, so it is
	// throttled.
	h.MustRT("update", "--cpu-quota", "5000", "--cpu-period", "100000", id)
	stats := func() event {
		t.Helper()
		evs := parseEvents(t, h.MustRT("events", "--stats", id).Stdout)
		if len(evs) != 1 || evs[0].Data == nil {
			t.Fatalf("events --stats: %v", evs)
		}
		return evs[0]
	}
	time.Sleep(500 * time.Millisecond)
	a, t0 := stats(), time.Now()
	time.Sleep(2 * time.Second)
	z, t1 := stats(), time.Now()
	used := time.Duration(z.Data.CPU.Usage.Total - a.Data.CPU.Usage.Total)
	wall := t1.Sub(t0)
	if used > wall*15/100 {
		t.Errorf("a busy loop at a 5%% quota used %v of CPU in %v", used, wall)
	}
	if z.Data.CPU.Throttling.ThrottledPeriods <= a.Data.CPU.Throttling.ThrottledPeriods {
		t.Errorf("throttled periods %d then %d: not throttled", a.Data.CPU.Throttling.ThrottledPeriods, z.Data.CPU.Throttling.ThrottledPeriods)
	}
	t.Logf("5%% quota: %v of CPU in %v", used, wall)
	// -1 lifts the quota; the period stays.
	h.MustRT("update", "--cpu-quota", "-1", id)
	want := "max 100000"
	if !unifiedHost() {
		want = "-1"
	}
	if got := cgRead(b, "cpu", "cpu.cfs_quota_us", "cpu.max"); got != want {
		t.Errorf("after --cpu-quota -1: %q, want %q", got, want)
	}
}

// TestUpdateResourcesStdin: --resources - takes a linux.resources object;
// the fields rt refuses at create are refused with create's message.
func TestUpdateResourcesStdin(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(args("sleep", "1000"))
	id, _ := h.StartDetached(b)
	h.MustRTo(RunOpts{Stdin: `{"memory":{"limit":50331648,"swap":-1},"cpu":{"quota":-1,"period":50000},"pids":{"limit":20}}`}, "update", "--resources", "-", id)
	if got := cgRead(b, "memory", "memory.limit_in_bytes", "memory.max"); got != "50331648" {
		t.Errorf("memory limit %q", got)
	}
	if got := cgRead(b, "pids", "pids.max", "pids.max"); got != "20" {
		t.Errorf("pids.max %q", got)
	}
	if unifiedHost() {
		if got := cgRead(b, "", "", "cpu.max"); got != "max 50000" {
			t.Errorf("cpu.max %q", got)
		}
	} else if got := cgRead(b, "cpu", "cpu.cfs_quota_us", ""); got != "-1" {
		t.Errorf("cpu.cfs_quota_us %q", got)
	}
	// A file works too; flags cannot be mixed with it.
	f := filepath.Join(h.Dir, "res.json")
	os.WriteFile(f, []byte(`{"pids":{"limit":30}}`), 0o644)
	h.MustRT("update", "-r", f, id)
	if got := cgRead(b, "pids", "pids.max", "pids.max"); got != "30" {
		t.Errorf("pids.max %q after --resources FILE", got)
	}
	if r := h.RT("update", "-r", f, "--memory", "64M", id); r.Code == 0 || !strings.Contains(r.Stderr, "--memory") {
		t.Errorf("--resources with --memory: %v", r)
	}
	if r := h.RTo(RunOpts{Stdin: `{"memory":`}, "update", "-r", "-", id); r.Code == 0 || !strings.Contains(r.Stderr, "--resources") {
		t.Errorf("bad JSON: %v", r)
	}

	for _, c := range []struct {
		json string
		mut  func(*specs.Spec)
	}{
		{`{"hugepageLimits":[{"pageSize":"2M","limit":2097152}]}`, func(s *specs.Spec) {
			s.Linux.Resources.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2M", Limit: 2097152}}
		}},
		{`{"blockIO":{"throttleReadBpsDevice":[{"major":-1,"minor":0,"rate":1000}]}}`, func(s *specs.Spec) {
			s.Linux.Resources.BlockIO = &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: -1}, Rate: 1000}}}
		}},
		{`{"cpu":{"idle":2}}`, func(s *specs.Spec) {
			idle := int64(2)
			s.Linux.Resources.CPU = &specs.LinuxCPU{Idle: &idle}
		}},
	} {
		up := h.RTo(RunOpts{Stdin: c.json}, "update", "-r", "-", id)
		cr := h.RT("create", "--bundle", h.Bundle(c.mut).Dir, h.ID("refused"))
		if up.Code == 0 || cr.Code == 0 || strings.TrimSpace(up.Stderr) != strings.TrimSpace(cr.Stderr) {
			t.Errorf("%s: update and create should fail alike:\nupdate: %v\ncreate: %v", c.json, up, cr)
		}
	}
}

// TestUpdatePids: a pids limit set by update holds inside: with room for
// one more process a fork works, at the limit it fails. Two workers are
// forked before any limit and wait on fifos; each, when woken, forks once.
func TestUpdatePids(t *testing.T) {
	t.Parallel()
	h := newH(t)
	script := `mkfifo /tmp/a /tmp/b
( exec 3<>/tmp/a; read x <&3; ( : ) && echo forked > /tmp/a.out ) & A=$!
( exec 3<>/tmp/b; read x <&3; ( : ) && echo forked > /tmp/b.out ) & B=$!
echo ready > /tmp/ready
wait $A; echo $? > /tmp/a.rc
wait $B; echo $? > /tmp/b.rc
for f in /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max; do [ -e $f ] && read m < $f; done
echo "$m" > /tmp/max`
	b := h.Bundle(sh(script), writable)
	id, _ := h.StartDetached(b)
	tmp := filepath.Join(b.Rootfs, "tmp")
	if !waitFor(20*time.Second, func() bool { return fileExists(filepath.Join(tmp, "ready")) }) {
		t.Fatal("the container did not get ready")
	}
	wake := func(fifo string) {
		t.Helper()
		var f *os.File
		if !waitFor(20*time.Second, func() bool {
			var err error
			f, err = os.OpenFile(filepath.Join(tmp, fifo), os.O_WRONLY|syscall.O_NONBLOCK, 0)
			return err == nil
		}) {
			t.Fatalf("worker %s does not wait on its fifo", fifo)
		}
		f.WriteString("go\n")
		f.Close()
	}
	read := func(name string) string {
		t.Helper()
		var s string
		waitFor(30*time.Second, func() bool {
			data, err := os.ReadFile(filepath.Join(tmp, name))
			s = strings.TrimSpace(string(data))
			return err == nil && s != ""
		})
		return s
	}
	// sh + two workers = 3; a limit of 10 leaves room.
	h.MustRT("update", "--pids-limit", "10", id)
	wake("a")
	if rc, out := read("a.rc"), read("a.out"); rc != "0" || out != "forked" {
		t.Errorf("under pids.max 10: worker rc %q, output %q; want 0, forked", rc, out)
	}
	// Now sh + worker b = 2: at a limit of 2, b's fork fails.
	h.MustRT("update", "--pids-limit", "2", id)
	if got := cgRead(b, "pids", "pids.max", "pids.max"); got != "2" {
		t.Errorf("host pids.max %q, want 2", got)
	}
	wake("b")
	if rc := read("b.rc"); rc == "0" || fileExists(filepath.Join(tmp, "b.out")) {
		t.Errorf("at pids.max 2 the fork worked: worker rc %q", rc)
	}
	if m := read("max"); m != "2" {
		t.Errorf("inside: pids.max %q, want 2", m)
	}
	h.WaitStatus(id, specs.StateStopped)
}

// TestUpdateUnifiedIOMax (cgroup v2 with a scratch block device, as in the
// cgroup-v2 VM: RT_TEST_IO_DEVICE=/dev/vda): an io.max write limit set by
// update through linux.resources.unified slows direct writes to the
// device inside the container; lifting it makes them fast again.
func TestUpdateUnifiedIOMax(t *testing.T) {
	dev := os.Getenv("RT_TEST_IO_DEVICE")
	if dev == "" || !unifiedHost() {
		t.Skip("needs cgroup v2 and RT_TEST_IO_DEVICE (a scratch block device; run in tests/cgv2)")
	}
	t.Parallel()
	var st syscall.Stat_t
	if err := syscall.Stat(dev, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFBLK {
		t.Fatalf("RT_TEST_IO_DEVICE %s: not a block device (%v)", dev, err)
	}
	major, minor := int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	h := newH(t)
	b := h.Bundle(sh(probeScript), writable, func(s *specs.Spec) {
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/scratch", Type: "b", Major: major, Minor: minor})
	})
	id, _ := h.StartDetached(b)
	ddLine := `dd if=/dev/zero of=/dev/scratch bs=64k count=48 oflag=direct 2>&1 && echo dd=ok`
	timed := func() (time.Duration, string) {
		start := time.Now()
		out := probe(t, b, ddLine)
		return time.Since(start), out
	}
	free, out := timed()
	if !strings.Contains(out, "dd=ok") {
		t.Fatalf("dd to the device: %s", out)
	}
	devNum := fmt.Sprintf("%d:%d", major, minor)
	h.MustRTo(RunOpts{Stdin: `{"unified":{"io.max":"` + devNum + ` wbps=1048576"}}`}, "update", "-r", "-", id)
	if got := cgRead(b, "", "", "io.max"); !strings.Contains(got, devNum+" rbps=max wbps=1048576") {
		t.Errorf("io.max = %q", got)
	}
	limited, out := timed()
	if !strings.Contains(out, "dd=ok") || limited < 2*time.Second || limited < free+time.Second {
		t.Errorf("3 MiB at 1 MiB/s took %v (unlimited: %v): %s", limited, free, out)
	}
	h.MustRTo(RunOpts{Stdin: `{"unified":{"io.max":"` + devNum + ` wbps=max"}}`}, "update", "-r", "-", id)
	if again, _ := timed(); again > limited/2+time.Second {
		t.Errorf("after lifting io.max: %v (limited: %v)", again, limited)
	}
	t.Logf("3 MiB of direct writes: %v free, %v at 1 MiB/s", free, limited)
}

// MustRTo runs rt with options and fails the test unless it exits 0.
func (h *H) MustRTo(o RunOpts, args ...string) Result {
	h.t.Helper()
	r := h.RTo(o, args...)
	if r.Code != 0 {
		h.t.Fatalf("unexpected failure: %v", r)
	}
	return r
}
