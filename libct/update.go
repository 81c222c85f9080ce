package libct

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-oci/rt/libct/cgroups"
	"github.com/rt-oci/rt/libct/state"
)

// Update changes the resource limits of a created, running or paused
// container, as `runc update` does. r holds only what changes: nil
// pointers, zero numbers and empty strings leave a value as it is (-1 means
// "no limit" where the runtime-spec allows it). The change is merged into
// the container's recorded config (the config.json copy in its state
// directory), the touched sections are written to the live cgroup, and the
// record is saved, so a later update builds on this one.
//
// Device rules change only when r.Devices is non-nil and differs from the
// recorded linux.resources.devices; the other limits never touch them (on
// cgroup v2 the eBPF program stays attached as it is).
func Update(root, id string, r *specs.LinuxResources) error {
	if r == nil {
		r = &specs.LinuxResources{}
	}
	h, st, err := open(root, id)
	if err != nil {
		return err
	}
	defer h.Close()
	switch Status(st) {
	case StatusCreated, StatusRunning, StatusPaused:
	default:
		return fmt.Errorf("cannot update container %q: %w", id, ErrNotRunning)
	}
	if err := checkUpdate(r); err != nil {
		return err
	}
	raw, err := os.ReadFile(h.ConfigPath())
	if err != nil {
		return fmt.Errorf("update container %q: its recorded config: %w", id, err)
	}
	s := &specs.Spec{}
	if err := json.Unmarshal(raw, s); err != nil {
		return fmt.Errorf("update container %q: its recorded config %s: %w", id, h.ConfigPath(), err)
	}
	if s.Linux == nil {
		s.Linux = &specs.Linux{}
	}
	merged, apply := mergeResources(s.Linux.Resources, r)
	if err := checkMerged(merged); err != nil {
		return err
	}
	if apply.Devices != nil {
		s.Linux.Resources = merged
		apply.Devices = withDeviceRules(s).Devices
	}
	if st.CgroupPaths == nil {
		return fmt.Errorf("update container %q: no cgroup recorded", id)
	}
	cg, err := cgroups.Load(st.CgroupPaths)
	if err != nil {
		return fmt.Errorf("update container %q: %w", id, err)
	}
	if err := checkBeforeUpdate(cg, merged, r); err != nil {
		return err
	}
	if err := cgroups.Update(cg, apply); err != nil {
		return fmt.Errorf("update container %q: %w", id, err)
	}
	if err := saveResources(h, raw, merged); err != nil {
		return fmt.Errorf("update container %q: the cgroup is updated but the record is not: %w", id, err)
	}
	return nil
}

// mergeResources returns old with the changes of r (merged, what the record
// keeps) and the sections r touches, complete (apply, what is written: a
// section is written whole because values depend on each other, e.g. swap
// on the memory limit and cpu.max on quota and period).
func mergeResources(old, r *specs.LinuxResources) (merged, apply *specs.LinuxResources) {
	m := &specs.LinuxResources{}
	if old != nil {
		b, _ := json.Marshal(old) // a deep copy
		_ = json.Unmarshal(b, m)
	}
	apply = &specs.LinuxResources{}
	if mem := r.Memory; mem != nil {
		if m.Memory == nil {
			m.Memory = &specs.LinuxMemory{}
		}
		touched := setI64(&m.Memory.Limit, mem.Limit)
		touched = setI64(&m.Memory.Reservation, mem.Reservation) || touched
		if setI64(&m.Memory.Swap, mem.Swap) {
			touched = true
		} else if isI64(mem.Limit, -1) {
			// No memory limit and no word on swap: no swap limit
			// either (runc and cgroup v1 behave so).
			m.Memory.Swap = ptr(int64(-1))
		}
		if mem.Swappiness != nil && *mem.Swappiness != 1<<64-1 {
			m.Memory.Swappiness = ptr(*mem.Swappiness)
			touched = true
		}
		if mem.DisableOOMKiller != nil {
			m.Memory.DisableOOMKiller = ptr(*mem.DisableOOMKiller)
			touched = true
		}
		if mem.CheckBeforeUpdate != nil {
			m.Memory.CheckBeforeUpdate = ptr(*mem.CheckBeforeUpdate)
		}
		if touched {
			apply.Memory = m.Memory
		}
	}
	if c := r.CPU; c != nil {
		if m.CPU == nil {
			m.CPU = &specs.LinuxCPU{}
		}
		touched := setU64(&m.CPU.Shares, c.Shares)
		touched = setI64(&m.CPU.Quota, c.Quota) || touched
		touched = setU64(&m.CPU.Period, c.Period) || touched
		if c.Cpus != "" {
			m.CPU.Cpus, touched = c.Cpus, true
		}
		if c.Mems != "" {
			m.CPU.Mems, touched = c.Mems, true
		}
		touched = setI64(&m.CPU.RealtimeRuntime, c.RealtimeRuntime) || touched
		touched = setU64(&m.CPU.RealtimePeriod, c.RealtimePeriod) || touched
		// Burst and idle 0 are values (no burst, not idle), not "unset".
		if c.Burst != nil {
			m.CPU.Burst, touched = ptr(*c.Burst), true
		}
		if c.Idle != nil {
			m.CPU.Idle, touched = ptr(*c.Idle), true
		}
		if touched {
			apply.CPU = m.CPU
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil && *p.Limit != 0 {
		m.Pids = &specs.LinuxPids{Limit: ptr(*p.Limit)}
		apply.Pids = m.Pids
	}
	if b := r.BlockIO; b != nil {
		if m.BlockIO == nil {
			m.BlockIO = &specs.LinuxBlockIO{}
		}
		if mergeBlockIO(m.BlockIO, b) {
			apply.BlockIO = m.BlockIO
		}
	}
	if len(r.HugepageLimits) > 0 {
		m.HugepageLimits = mergeHugepages(m.HugepageLimits, r.HugepageLimits)
		apply.HugepageLimits = m.HugepageLimits
	}
	if n := r.Network; n != nil && ((n.ClassID != nil && *n.ClassID != 0) || len(n.Priorities) > 0) {
		if m.Network == nil {
			m.Network = &specs.LinuxNetwork{}
		}
		if n.ClassID != nil && *n.ClassID != 0 {
			m.Network.ClassID = ptr(*n.ClassID)
		}
		m.Network.Priorities = mergePriorities(m.Network.Priorities, n.Priorities)
		apply.Network = m.Network
	}
	if len(r.Rdma) > 0 {
		if m.Rdma == nil {
			m.Rdma = map[string]specs.LinuxRdma{}
		}
		for dev, l := range r.Rdma {
			old := m.Rdma[dev]
			if l.HcaHandles != nil {
				old.HcaHandles = ptr(*l.HcaHandles)
			}
			if l.HcaObjects != nil {
				old.HcaObjects = ptr(*l.HcaObjects)
			}
			m.Rdma[dev] = old
		}
		apply.Rdma = m.Rdma
	}
	if len(r.Unified) > 0 {
		if m.Unified == nil {
			m.Unified = map[string]string{}
		}
		apply.Unified = map[string]string{}
		for k, v := range r.Unified {
			m.Unified[k] = v
			apply.Unified[k] = v
		}
	}
	if r.Devices != nil && !reflect.DeepEqual(normDevices(r.Devices), normDevices(m.Devices)) {
		m.Devices = r.Devices
		apply.Devices = r.Devices
	}
	return m, apply
}

// mergeBlockIO merges the change b into m and reports whether b sets
// anything. Per-device entries replace the entry of the same device
// (a weight entry field by field); a throttle rate 0 lifts a limit and
// stays recorded as such.
func mergeBlockIO(m, b *specs.LinuxBlockIO) bool {
	touched := false
	if b.Weight != nil && *b.Weight != 0 {
		m.Weight, touched = ptr(*b.Weight), true
	}
	if b.LeafWeight != nil && *b.LeafWeight != 0 {
		m.LeafWeight, touched = ptr(*b.LeafWeight), true
	}
	for _, wd := range b.WeightDevice {
		touched = true
		i := slices.IndexFunc(m.WeightDevice, func(o specs.LinuxWeightDevice) bool {
			return o.Major == wd.Major && o.Minor == wd.Minor
		})
		if i < 0 {
			m.WeightDevice = append(m.WeightDevice, specs.LinuxWeightDevice{LinuxBlockIODevice: wd.LinuxBlockIODevice})
			i = len(m.WeightDevice) - 1
		}
		if wd.Weight != nil {
			m.WeightDevice[i].Weight = ptr(*wd.Weight)
		}
		if wd.LeafWeight != nil {
			m.WeightDevice[i].LeafWeight = ptr(*wd.LeafWeight)
		}
	}
	for _, l := range []struct{ dst, src *[]specs.LinuxThrottleDevice }{
		{&m.ThrottleReadBpsDevice, &b.ThrottleReadBpsDevice},
		{&m.ThrottleWriteBpsDevice, &b.ThrottleWriteBpsDevice},
		{&m.ThrottleReadIOPSDevice, &b.ThrottleReadIOPSDevice},
		{&m.ThrottleWriteIOPSDevice, &b.ThrottleWriteIOPSDevice},
	} {
		for _, td := range *l.src {
			touched = true
			*l.dst = upsert(*l.dst, td, func(o specs.LinuxThrottleDevice) bool {
				return o.Major == td.Major && o.Minor == td.Minor
			})
		}
	}
	return touched
}

// mergeHugepages replaces the limits of the page sizes in change.
func mergeHugepages(old, change []specs.LinuxHugepageLimit) []specs.LinuxHugepageLimit {
	for _, l := range change {
		old = upsert(old, l, func(o specs.LinuxHugepageLimit) bool { return o.Pagesize == l.Pagesize })
	}
	return old
}

// mergePriorities replaces the priorities of the interfaces in change.
func mergePriorities(old, change []specs.LinuxInterfacePriority) []specs.LinuxInterfacePriority {
	for _, p := range change {
		old = upsert(old, p, func(o specs.LinuxInterfacePriority) bool { return o.Name == p.Name })
	}
	return old
}

// upsert replaces the entry of list for which same is true by v (its key
// fields are equal), or appends v.
func upsert[T any](list []T, v T, same func(T) bool) []T {
	if i := slices.IndexFunc(list, same); i >= 0 {
		list[i] = v
		return list
	}
	return append(list, v)
}

func ptr[T any](v T) *T { return &v }

func isI64(p *int64, v int64) bool { return p != nil && *p == v }

// setI64 sets *dst to *src unless src is nil or 0; it reports a change.
func setI64(dst **int64, src *int64) bool {
	if src == nil || *src == 0 {
		return false
	}
	*dst = ptr(*src)
	return true
}

func setU64(dst **uint64, src *uint64) bool {
	if src == nil || *src == 0 {
		return false
	}
	*dst = ptr(*src)
	return true
}

// normDevices makes two rule lists comparable: "" and "a" are one type, ""
// and "rwm" one access.
func normDevices(d []specs.LinuxDeviceCgroup) []specs.LinuxDeviceCgroup {
	out := make([]specs.LinuxDeviceCgroup, len(d))
	for i, r := range d {
		if r.Type == "" {
			r.Type = "a"
		}
		if r.Access == "" {
			r.Access = "rwm"
		}
		out[i] = r
	}
	return out
}

// checkUpdate refuses values that can never be right, before anything is
// written (cgroups.CheckResources: the same checks and messages as create).
func checkUpdate(r *specs.LinuxResources) error {
	if err := cgroups.CheckResources(r); err != nil {
		return err
	}
	if m := r.Memory; m != nil {
		for _, f := range []struct {
			name string
			v    *int64
		}{
			{"linux.resources.memory.limit", m.Limit},
			{"linux.resources.memory.reservation", m.Reservation},
			{"linux.resources.memory.swap", m.Swap},
		} {
			if f.v != nil && *f.v < -1 {
				return fmt.Errorf("%s: %d is not a size (use -1 for no limit)", f.name, *f.v)
			}
		}
		if m.Swappiness != nil && *m.Swappiness > 100 && *m.Swappiness != 1<<64-1 {
			return fmt.Errorf("linux.resources.memory.swappiness: %d is out of range 0-100", *m.Swappiness)
		}
	}
	if c := r.CPU; c != nil {
		if c.Quota != nil && *c.Quota < -1 {
			return fmt.Errorf("linux.resources.cpu.quota: %d is invalid (use -1 for no limit)", *c.Quota)
		}
		if c.Shares != nil && *c.Shares != 0 && (*c.Shares < 2 || *c.Shares > 262144) {
			return fmt.Errorf("linux.resources.cpu.shares: %d is out of range 2-262144", *c.Shares)
		}
	}
	if b := r.BlockIO; b != nil && b.Weight != nil && *b.Weight != 0 && (*b.Weight < 10 || *b.Weight > 1000) {
		return fmt.Errorf("linux.resources.blockIO.weight: %d is out of range 10-1000", *b.Weight)
	}
	return nil
}

// checkMerged refuses a combination that the kernel would refuse.
func checkMerged(m *specs.LinuxResources) error {
	if m.Memory == nil || m.Memory.Limit == nil || m.Memory.Swap == nil {
		return nil
	}
	limit, swap := *m.Memory.Limit, *m.Memory.Swap
	if limit > 0 && swap > 0 && swap < limit {
		return fmt.Errorf("linux.resources.memory.swap: memory+swap %d is below linux.resources.memory.limit %d (swap counts memory plus swap; raise it or set -1)", swap, limit)
	}
	return nil
}

// checkBeforeUpdate honours linux.resources.memory.checkBeforeUpdate: a
// new memory limit below the current usage is refused instead of making
// the kernel reclaim (or OOM-kill) to get under it.
func checkBeforeUpdate(cg cgroups.Manager, merged, r *specs.LinuxResources) error {
	m := merged.Memory
	if m == nil || m.CheckBeforeUpdate == nil || !*m.CheckBeforeUpdate || r.Memory == nil || r.Memory.Limit == nil || *r.Memory.Limit <= 0 {
		return nil
	}
	s, err := cgroups.GetStats(cg)
	if err != nil {
		return err
	}
	if limit := uint64(*r.Memory.Limit); limit < s.Memory.Usage.Usage {
		return fmt.Errorf("linux.resources.memory.limit: %d is below the current usage %d (memory.checkBeforeUpdate is set)", limit, s.Memory.Usage.Usage)
	}
	return nil
}

// saveResources replaces linux.resources in the recorded config.json and
// leaves every other byte's meaning alone (unknown fields included).
func saveResources(h *state.Handle, raw []byte, r *specs.LinuxResources) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return err
	}
	var linux map[string]json.RawMessage
	if l, ok := top["linux"]; ok && string(l) != "null" {
		if err := json.Unmarshal(l, &linux); err != nil {
			return err
		}
	}
	if linux == nil {
		linux = map[string]json.RawMessage{}
	}
	rb, err := json.Marshal(r)
	if err != nil {
		return err
	}
	linux["resources"] = rb
	lb, err := json.Marshal(linux)
	if err != nil {
		return err
	}
	top["linux"] = lb
	out, err := json.Marshal(top)
	if err != nil {
		return err
	}
	return state.WriteFileAtomic(h.ConfigPath(), out, 0o600)
}

// ErrNoIntelRdt is returned for --l3-cache-schema and --mem-bw-schema.
var ErrNoIntelRdt = errors.New("linux.intelRdt: not supported yet (and this host has no resctrl)")

// ParseMemory parses a memory size as runc's update flags do (Docker's
// RAMInBytes): a number, optionally with a fraction, then an optional
// binary unit k, m, g, t or p (any case, optionally followed by "i" and/or
// "b"): "512M", "1.5g", "64KiB", "100". "-1" means no limit.
func ParseMemory(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	m := sizeRE().FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size (examples: 512M, 1.5G, 65536, -1 for no limit)", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	mult := 1.0
	if m[2] != "" {
		mult = math.Pow(1024, float64(strings.Index("kmgtp", strings.ToLower(m[2]))+1))
	}
	v *= mult
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(v), nil
}

var sizeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$`) })
