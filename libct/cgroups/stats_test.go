package cgroups

import (
	"encoding/json"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string][]uint16{
		"": nil, "0": {0}, "0-3": {0, 1, 2, 3}, "0,2-3,7": {0, 2, 3, 7},
	} {
		got, err := parseCPUList(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseCPUList(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"a", "3-1", "1-", "70000"} {
		if _, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q): no error", bad)
		}
	}
}

func TestParseBlkio(t *testing.T) {
	got, err := parseBlkioV1("8:0 Read 4096\n8:0 Write 512\n8:0 Total 4608\n254:1 7\nTotal 4608\n")
	want := []BlkioEntry{{8, 0, "Read", 4096}, {8, 0, "Write", 512}, {8, 0, "Total", 4608}, {254, 1, "", 7}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseBlkioV1 = %v, %v", got, err)
	}
	if _, err := parseBlkioV1("8:0 Read x"); err == nil {
		t.Error("parseBlkioV1: no error for a bad value")
	}
	bytes, ios, err := parseIOStatV2("254:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n8:0 rbytes=5 wbytes=0 rios=3 wios=0 dbytes=0 dios=0 cost.usage=4\n")
	if err != nil {
		t.Fatal(err)
	}
	wantBytes := []BlkioEntry{{254, 0, "Read", 10}, {254, 0, "Write", 20}, {254, 0, "Discard", 0}, {8, 0, "Read", 5}, {8, 0, "Write", 0}, {8, 0, "Discard", 0}}
	wantIOs := []BlkioEntry{{254, 0, "Read", 1}, {254, 0, "Write", 2}, {254, 0, "Discard", 0}, {8, 0, "Read", 3}, {8, 0, "Write", 0}, {8, 0, "Discard", 0}}
	if !reflect.DeepEqual(bytes, wantBytes) || !reflect.DeepEqual(ios, wantIOs) {
		t.Errorf("parseIOStatV2:\n bytes %v\n ios %v", bytes, ios)
	}
}

func TestStatsV1(t *testing.T) {
	f := newFakeV1(t, hybridHier, nil)
	m := newV1Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	writeAll(t, f.path("cpu,cpuacct/c"), map[string]string{
		"cpu.stat":                  "nr_periods 10\nnr_throttled 4\nthrottled_time 12345\n",
		"cpuacct.usage":             "3000",
		"cpuacct.usage_percpu":      "1000 2000 \n",
		"cpuacct.usage_percpu_sys":  "100 200",
		"cpuacct.usage_percpu_user": "900 1800",
		"cpuacct.usage_sys":         "300",
		"cpuacct.usage_user":        "2700",
	})
	writeAll(t, f.path("cpuset/c"), map[string]string{"cpuset.effective_cpus": "0-1", "cpuset.effective_mems": "0", "cpuset.sched_relax_domain_level": "-1"})
	writeAll(t, f.path("memory/c"), map[string]string{
		"memory.usage_in_bytes": "4096", "memory.max_usage_in_bytes": "8192", "memory.failcnt": "3",
		"memory.limit_in_bytes": "67108864", "memory.stat": "cache 1024\nrss 2048\n",
		"memory.memsw.usage_in_bytes": "4096", "memory.memsw.max_usage_in_bytes": "8192", "memory.memsw.failcnt": "0",
	})
	writeAll(t, f.path("pids/c"), map[string]string{"pids.current": "2", "pids.max": "max"})
	writeAll(t, f.path("blkio/c"), map[string]string{
		"blkio.throttle.io_service_bytes_recursive": "8:0 Read 100\n8:0 Write 200\nTotal 300\n",
		"blkio.throttle.io_serviced_recursive":      "8:0 Read 1\n8:0 Write 2\nTotal 3\n",
	})
	s, err := GetStats(m)
	if err != nil {
		t.Fatal(err)
	}
	if u := s.CPU.Usage; u.Total != 3000 || !reflect.DeepEqual(u.Percpu, []uint64{1000, 2000}) || u.Kernel != 300 || u.User != 2700 ||
		!reflect.DeepEqual(u.PercpuKernel, []uint64{100, 200}) {
		t.Errorf("cpu usage %+v", u)
	}
	if th := s.CPU.Throttling; th != (Throttling{10, 4, 12345}) {
		t.Errorf("throttling %+v", th)
	}
	if !reflect.DeepEqual(s.CPUSet.CPUs, []uint16{0, 1}) || s.CPUSet.SchedRelaxDomainLevel != -1 {
		t.Errorf("cpuset %+v", s.CPUSet)
	}
	if mu := s.Memory.Usage; mu != (MemoryEntry{Limit: 67108864, Usage: 4096, Max: 8192, Failcnt: 3}) {
		t.Errorf("memory usage %+v", mu)
	}
	// The fake's memsw limit is its default: unlimited.
	if s.Memory.Swap.Limit != 9223372036854771712 || s.Memory.Cache != 1024 || s.Memory.Raw["rss"] != 2048 {
		t.Errorf("memory %+v", s.Memory)
	}
	if s.Memory.Kernel != (MemoryEntry{}) {
		t.Errorf("no kmem files, but kernel = %+v", s.Memory.Kernel)
	}
	if s.Pids != (PidsStats{Current: 2}) {
		t.Errorf("pids %+v (max means limit 0)", s.Pids)
	}
	if len(s.Blkio.IoServiceBytesRecursive) != 2 || s.Blkio.IoServicedRecursive[1].Value != 2 {
		t.Errorf("blkio %+v", s.Blkio)
	}
	// A corrupt counter is an error that names the file.
	writeAll(t, f.path("pids/c"), map[string]string{"pids.current": "lots"})
	if _, err := GetStats(m); err == nil || !strings.Contains(err.Error(), "pids.current") {
		t.Errorf("corrupt pids.current: %v", err)
	}
}

func TestStatsV2(t *testing.T) {
	f := newFakeV2(t, allV2+" hugetlb", "/")
	m := newV2Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	writeAll(t, m.dir, map[string]string{
		"cpu.stat":              "usage_usec 30\nuser_usec 20\nsystem_usec 10\nnr_periods 5\nnr_throttled 2\nthrottled_usec 7\n",
		"cpuset.cpus.effective": "0-1", "cpuset.mems.effective": "0",
		"memory.current": "4096", "memory.max": "1048576", "memory.peak": "8192",
		"memory.events":       "low 0\nhigh 0\nmax 6\noom 1\noom_kill 1\n",
		"memory.swap.current": "1024", "memory.swap.max": "max", "memory.swap.events": "high 0\nmax 0\nfail 0\n",
		"memory.stat":  "anon 2048\nfile 512\n",
		"pids.current": "3", "pids.max": "20",
		"io.stat":             "254:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n",
		"hugetlb.2MB.current": "0", "hugetlb.2MB.max": "max", "hugetlb.2MB.events": "max 4\n",
		"hugetlb.2MB.rsvd.current": "0",
	})
	s, err := GetStats(m)
	if err != nil {
		t.Fatal(err)
	}
	if u := s.CPU.Usage; u.Total != 30000 || u.User != 20000 || u.Kernel != 10000 || u.Percpu != nil {
		t.Errorf("cpu usage %+v", u)
	}
	if th := s.CPU.Throttling; th != (Throttling{5, 2, 7000}) {
		t.Errorf("throttling %+v", th)
	}
	if mu := s.Memory.Usage; mu != (MemoryEntry{Limit: 1048576, Usage: 4096, Max: 8192, Failcnt: 6}) {
		t.Errorf("memory usage %+v", mu)
	}
	if sw := s.Memory.Swap; sw.Usage != 5120 || sw.Limit != math.MaxUint64 {
		t.Errorf("swap (memory+swap) %+v", sw)
	}
	if s.Memory.Cache != 512 || s.Pids != (PidsStats{3, 20}) {
		t.Errorf("memory cache %d, pids %+v", s.Memory.Cache, s.Pids)
	}
	if len(s.Blkio.IoServiceBytesRecursive) != 3 || s.Blkio.IoServiceBytesRecursive[1] != (BlkioEntry{254, 0, "Write", 20}) {
		t.Errorf("io %+v", s.Blkio)
	}
	if h := s.Hugetlb; len(h) != 1 || h["2MB"].Failcnt != 4 {
		t.Errorf("hugetlb %+v", h)
	}
	// The JSON has runc's keys.
	b, _ := json.Marshal(s)
	for _, k := range []string{`"cpu":{"usage":{"total":30000`, `"throttling":{"periods":5,"throttledPeriods":2,"throttledTime":7000}`,
		`"pids":{"current":3,"limit":20}`, `"ioServiceBytesRecursive":[`, `"hugetlb":{"2MB":{"failcnt":4}}`, `"intel_rdt":{}`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON lacks %s:\n%s", k, b)
		}
	}
	// Controllers that are not enabled have no files: zero, no error.
	for _, name := range []string{"memory.current", "pids.current", "io.stat"} {
		os.Remove(m.dir + "/" + name)
	}
	if s, err = GetStats(m); err != nil || s.Memory.Usage.Usage != 0 || s.Pids.Current != 0 {
		t.Errorf("without memory, pids, io: %+v, %v", s, err)
	}
}

// TestOOMNotifierV2Fake: the inotify watch on memory.events wakes up on a
// change, and only a rising oom_kill counts.
func TestOOMNotifierV2Fake(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, dir, map[string]string{"memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 2\n"})
	n, err := notifyOOMV2(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	wait := func() bool {
		fds := []unix.PollFd{{Fd: int32(n.Fd()), Events: unix.POLLIN}}
		c, _ := unix.Poll(fds, 2000)
		return c > 0
	}
	if oom, gone, err := n.Check(); oom || gone || err != nil {
		t.Errorf("nothing happened: oom %v gone %v err %v", oom, gone, err)
	}
	writeAll(t, dir, map[string]string{"memory.events": "low 0\nhigh 0\nmax 3\noom 0\noom_kill 2\n"})
	if !wait() {
		t.Fatal("no inotify event for a change")
	}
	if oom, _, _ := n.Check(); oom {
		t.Error("max rose, oom_kill did not: reported an OOM kill")
	}
	writeAll(t, dir, map[string]string{"memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 3\n"})
	if !wait() {
		t.Fatal("no inotify event for a change")
	}
	if oom, _, _ := n.Check(); !oom {
		t.Error("oom_kill rose: no OOM reported")
	}
	os.Remove(dir + "/memory.events")
	if !wait() {
		t.Fatal("no inotify event for the removal")
	}
	if _, gone, _ := n.Check(); !gone {
		t.Error("memory.events removed: not gone")
	}
}
