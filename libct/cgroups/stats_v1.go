package cgroups

import (
	"errors"
	"math"
)

// clockTicks is USER_HZ, the unit of cpuacct.stat (100 on Linux).
const clockTicks = 100

// stats fills s from the v1 hierarchies the container is in.
func (m *v1Manager) stats(s *Stats) error {
	var errs []error
	for _, part := range []struct {
		ctrl string
		fill func(r *statReader, s *Stats)
	}{
		{"cpu", statsCPUThrottleV1},
		{"cpuacct", statsCPUAcctV1},
		{"cpuset", statsCpusetV1},
		{"memory", statsMemoryV1},
		{"pids", statsPids},
		{"blkio", statsBlkioV1},
		{"hugetlb", statsHugetlbV1},
	} {
		dir, ok := m.paths[part.ctrl]
		if !ok {
			continue
		}
		r := &statReader{dir: dir}
		part.fill(r, s)
		errs = append(errs, r.err)
	}
	return errors.Join(errs...)
}

func statsCPUThrottleV1(r *statReader, s *Stats) {
	st := r.keyed("cpu.stat")
	s.CPU.Throttling = Throttling{
		Periods:          st["nr_periods"],
		ThrottledPeriods: st["nr_throttled"],
		ThrottledTime:    st["throttled_time"],
	}
}

func statsCPUAcctV1(r *statReader, s *Stats) {
	u := &s.CPU.Usage
	u.Total = r.uint("cpuacct.usage")
	u.Percpu = r.uints("cpuacct.usage_percpu")
	if fileExists(r.dir, "cpuacct.usage_percpu_sys") {
		u.PercpuKernel = r.uints("cpuacct.usage_percpu_sys")
		u.PercpuUser = r.uints("cpuacct.usage_percpu_user")
	}
	if fileExists(r.dir, "cpuacct.usage_sys") {
		u.Kernel = r.uint("cpuacct.usage_sys")
		u.User = r.uint("cpuacct.usage_user")
		return
	}
	// Older kernels: only cpuacct.stat, in clock ticks.
	st := r.keyed("cpuacct.stat")
	u.Kernel = st["system"] * (1e9 / clockTicks)
	u.User = st["user"] * (1e9 / clockTicks)
}

func statsCpusetV1(r *statReader, s *Stats) {
	c := &s.CPUSet
	c.CPUs = r.list("cpuset.effective_cpus")
	c.Mems = r.list("cpuset.effective_mems")
	c.CPUExclusive = r.uint("cpuset.cpu_exclusive")
	c.MemHardwall = r.uint("cpuset.mem_hardwall")
	c.MemExclusive = r.uint("cpuset.mem_exclusive")
	c.MemoryMigrate = r.uint("cpuset.memory_migrate")
	c.MemorySpreadPage = r.uint("cpuset.memory_spread_page")
	c.MemorySpreadSlab = r.uint("cpuset.memory_spread_slab")
	c.MemoryPressure = r.uint("cpuset.memory_pressure")
	c.SchedLoadBalance = r.uint("cpuset.sched_load_balance")
	c.SchedRelaxDomainLevel = r.int("cpuset.sched_relax_domain_level")
}

// memEntryV1 reads <prefix>usage_in_bytes, max_usage_in_bytes, failcnt and
// limit_in_bytes; a kernel without that group (no swap accounting, no kmem)
// leaves it zero.
func memEntryV1(r *statReader, prefix string) MemoryEntry {
	if !fileExists(r.dir, prefix+"usage_in_bytes") {
		return MemoryEntry{}
	}
	return MemoryEntry{
		Usage:   r.uint(prefix + "usage_in_bytes"),
		Max:     r.uint(prefix + "max_usage_in_bytes"),
		Failcnt: r.uint(prefix + "failcnt"),
		Limit:   r.uint(prefix + "limit_in_bytes"),
	}
}

func statsMemoryV1(r *statReader, s *Stats) {
	m := &s.Memory
	m.Usage = memEntryV1(r, "memory.")
	m.Swap = memEntryV1(r, "memory.memsw.")
	m.Kernel = memEntryV1(r, "memory.kmem.")
	m.KernelTCP = memEntryV1(r, "memory.kmem.tcp.")
	m.Raw = r.keyed("memory.stat")
	m.Cache = m.Raw["cache"]
}

// statsPids is the same for v1 and v2; "max" (no limit) reads as 0.
func statsPids(r *statReader, s *Stats) {
	s.Pids.Current = r.uint("pids.current")
	if l := r.uint("pids.max"); l != math.MaxUint64 {
		s.Pids.Limit = l
	}
}

// statsBlkioV1 prefers the CFQ/BFQ counters and falls back to the throttle
// ones, which every kernel with blkio keeps.
func statsBlkioV1(r *statReader, s *Stats) {
	b := &s.Blkio
	read := func(name string) []BlkioEntry {
		str := r.str(name)
		if str == "" {
			return nil
		}
		e, err := parseBlkioV1(str)
		if err != nil {
			r.fail(name, err)
		}
		return e
	}
	for _, prefix := range []string{"blkio.", "blkio.bfq."} {
		if !fileExists(r.dir, prefix+"io_serviced_recursive") {
			continue
		}
		b.IoServicedRecursive = read(prefix + "io_serviced_recursive")
		if len(b.IoServicedRecursive) == 0 {
			continue // the scheduler is not in use: its counters stay empty
		}
		b.IoServiceBytesRecursive = read(prefix + "io_service_bytes_recursive")
		b.IoQueuedRecursive = read(prefix + "io_queued_recursive")
		b.IoServiceTimeRecursive = read(prefix + "io_service_time_recursive")
		b.IoWaitTimeRecursive = read(prefix + "io_wait_time_recursive")
		b.IoMergedRecursive = read(prefix + "io_merged_recursive")
		b.IoTimeRecursive = read(prefix + "time_recursive")
		b.SectorsRecursive = read(prefix + "sectors_recursive")
		return
	}
	b.IoServicedRecursive = read("blkio.throttle.io_serviced_recursive")
	b.IoServiceBytesRecursive = read("blkio.throttle.io_service_bytes_recursive")
}

func statsHugetlbV1(r *statReader, s *Stats) {
	for _, size := range hugePageSizes(r.dir, "hugetlb.", ".usage_in_bytes") {
		p := "hugetlb." + size + "."
		s.Hugetlb[size] = HugetlbStat{
			Usage:   r.uint(p + "usage_in_bytes"),
			Max:     r.uint(p + "max_usage_in_bytes"),
			Failcnt: r.uint(p + "failcnt"),
		}
	}
}
