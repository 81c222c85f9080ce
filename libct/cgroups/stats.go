package cgroups

// Stats is a snapshot of a container's cgroup counters. Its JSON form is
// the "data" of a stats event of `rt events`, shaped like runc's `events
// --stats` output so that tools reading runc's output read rt's too. Values
// a hierarchy does not offer stay zero (or empty).
type Stats struct {
	CPU     CPUStats               `json:"cpu"`
	CPUSet  CPUSetStats            `json:"cpuset"`
	Memory  MemoryStats            `json:"memory"`
	Pids    PidsStats              `json:"pids"`
	Blkio   BlkioStats             `json:"blkio"`
	Hugetlb map[string]HugetlbStat `json:"hugetlb"`
	// IntelRdt and NetworkInterfaces are always empty (rt has neither);
	// they are there so the shape matches runc's.
	IntelRdt          struct{} `json:"intel_rdt"`
	NetworkInterfaces []any    `json:"network_interfaces"`
}

// CPUStats: usage in nanoseconds and CFS throttling.
type CPUStats struct {
	Usage      CPUUsage   `json:"usage,omitempty"`
	Throttling Throttling `json:"throttling,omitempty"`
}

// CPUUsage is in nanoseconds. Per-CPU figures exist only on cgroup v1
// (cpuacct).
type CPUUsage struct {
	Total        uint64   `json:"total,omitempty"`
	Percpu       []uint64 `json:"percpu,omitempty"`
	PercpuKernel []uint64 `json:"percpu_kernel,omitempty"`
	PercpuUser   []uint64 `json:"percpu_user,omitempty"`
	Kernel       uint64   `json:"kernel"`
	User         uint64   `json:"user"`
}

// Throttling counts CFS bandwidth periods; ThrottledTime is in nanoseconds.
type Throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

// CPUSetStats lists the CPUs and memory nodes in effect, and (v1 only) the
// cpuset flags.
type CPUSetStats struct {
	CPUs                  []uint16 `json:"cpus,omitempty"`
	CPUExclusive          uint64   `json:"cpu_exclusive"`
	Mems                  []uint16 `json:"mems,omitempty"`
	MemHardwall           uint64   `json:"mem_hardwall"`
	MemExclusive          uint64   `json:"mem_exclusive"`
	MemoryMigrate         uint64   `json:"memory_migrate"`
	MemorySpreadPage      uint64   `json:"memory_spread_page"`
	MemorySpreadSlab      uint64   `json:"memory_spread_slab"`
	MemoryPressure        uint64   `json:"memory_pressure"`
	SchedLoadBalance      uint64   `json:"sched_load_balance"`
	SchedRelaxDomainLevel int64    `json:"sched_relax_domain_level"`
}

// MemoryEntry is one memory counter: usage, its peak, the limit (the
// largest uint64 when unlimited) and how often the limit was hit.
type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// MemoryStats: Usage is memory, Swap is memory+swap (as on cgroup v1; on v2
// it is computed the same way), Kernel and KernelTCP are v1's kmem counters,
// Raw is memory.stat.
type MemoryStats struct {
	Cache     uint64            `json:"cache,omitempty"`
	Usage     MemoryEntry       `json:"usage,omitempty"`
	Swap      MemoryEntry       `json:"swap,omitempty"`
	Kernel    MemoryEntry       `json:"kernel,omitempty"`
	KernelTCP MemoryEntry       `json:"kernelTCP,omitempty"`
	Raw       map[string]uint64 `json:"raw,omitempty"`
}

// PidsStats: Limit is 0 when there is no limit.
type PidsStats struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

// BlkioEntry is one device's counter for one operation ("Read", "Write",
// "Sync", "Async", "Discard", "Total").
type BlkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

// BlkioStats: bytes and operations per device (v1 blkio, v2 io.stat).
type BlkioStats struct {
	IoServiceBytesRecursive []BlkioEntry `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []BlkioEntry `json:"ioServicedRecursive,omitempty"`
	IoQueuedRecursive       []BlkioEntry `json:"ioQueueRecursive,omitempty"`
	IoServiceTimeRecursive  []BlkioEntry `json:"ioServiceTimeRecursive,omitempty"`
	IoWaitTimeRecursive     []BlkioEntry `json:"ioWaitTimeRecursive,omitempty"`
	IoMergedRecursive       []BlkioEntry `json:"ioMergedRecursive,omitempty"`
	IoTimeRecursive         []BlkioEntry `json:"ioTimeRecursive,omitempty"`
	SectorsRecursive        []BlkioEntry `json:"sectorsRecursive,omitempty"`
}

// HugetlbStat is one huge page size ("2MB", "1GB"): usage, peak (v1) and
// how often an allocation failed at the limit.
type HugetlbStat struct {
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// GetStats reads the counters of m's cgroup. A controller whose files are
// missing (not mounted on v1, not enabled on v2) leaves its part zero;
// other read errors are returned.
func GetStats(m Manager) (*Stats, error) {
	s := &Stats{Hugetlb: map[string]HugetlbStat{}}
	var err error
	switch m := m.(type) {
	case *v1Manager:
		err = m.stats(s)
	case *v2Manager:
		err = m.stats(s)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}
