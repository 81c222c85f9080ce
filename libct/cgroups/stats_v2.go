package cgroups

import "math"

// stats fills s from the v2 cgroup. Files of controllers that are not
// enabled are missing and leave their part zero.
func (m *v2Manager) stats(s *Stats) error {
	r := &statReader{dir: m.dir}
	statsCPUV2(r, s)
	statsCpusetV2(r, s)
	statsMemoryV2(r, s)
	statsPids(r, s)
	statsIOV2(r, s)
	statsHugetlbV2(r, s)
	return r.err
}

// statsCPUV2 reads cpu.stat (microseconds) into nanoseconds.
func statsCPUV2(r *statReader, s *Stats) {
	st := r.keyed("cpu.stat")
	s.CPU.Usage.Total = st["usage_usec"] * 1000
	s.CPU.Usage.User = st["user_usec"] * 1000
	s.CPU.Usage.Kernel = st["system_usec"] * 1000
	s.CPU.Throttling = Throttling{
		Periods:          st["nr_periods"],
		ThrottledPeriods: st["nr_throttled"],
		ThrottledTime:    st["throttled_usec"] * 1000,
	}
}

func statsCpusetV2(r *statReader, s *Stats) {
	s.CPUSet.CPUs = r.list("cpuset.cpus.effective")
	s.CPUSet.Mems = r.list("cpuset.mems.effective")
}

// addLimits adds two limits, where the largest uint64 means unlimited.
func addLimits(a, b uint64) uint64 {
	if a == math.MaxUint64 || b == math.MaxUint64 || a+b < a {
		return math.MaxUint64
	}
	return a + b
}

// statsMemoryV2 reports memory as v1 would: Swap is memory+swap (usage and
// limit), as runc does, so the numbers mean the same on both versions.
func statsMemoryV2(r *statReader, s *Stats) {
	if !fileExists(r.dir, "memory.current") {
		return
	}
	m := &s.Memory
	events := r.keyed("memory.events")
	m.Usage = MemoryEntry{
		Usage:   r.uint("memory.current"),
		Limit:   r.uint("memory.max"),
		Failcnt: events["max"],
	}
	if fileExists(r.dir, "memory.peak") {
		m.Usage.Max = r.uint("memory.peak")
	}
	if fileExists(r.dir, "memory.swap.current") {
		m.Swap = MemoryEntry{
			Usage: m.Usage.Usage + r.uint("memory.swap.current"),
			Limit: addLimits(m.Usage.Limit, r.uint("memory.swap.max")),
		}
		if ev := r.keyed("memory.swap.events"); ev != nil {
			m.Swap.Failcnt = ev["max"]
		}
	}
	m.Raw = r.keyed("memory.stat")
	m.Cache = m.Raw["file"]
}

func statsIOV2(r *statReader, s *Stats) {
	str := r.str("io.stat")
	if str == "" {
		return
	}
	bytes, ios, err := parseIOStatV2(str)
	if err != nil {
		r.fail("io.stat", err)
	}
	s.Blkio.IoServiceBytesRecursive = bytes
	s.Blkio.IoServicedRecursive = ios
}

func statsHugetlbV2(r *statReader, s *Stats) {
	for _, size := range hugePageSizes(r.dir, "hugetlb.", ".current") {
		p := "hugetlb." + size + "."
		h := HugetlbStat{Usage: r.uint(p + "current")}
		if ev := r.keyed(p + "events"); ev != nil {
			h.Failcnt = ev["max"]
		}
		s.Hugetlb[size] = h
	}
}
