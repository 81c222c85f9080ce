package cgroups

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// setter writes one controller's part of LinuxResources. want returns the
// config.json field of the first value that asks something of the
// controller, or "" when r asks nothing of it; New and Set use it to fail
// early when the controller is missing. lifts, if set, reports values that
// are written although they ask nothing (cpu idle or burst 0, which lift
// a setting); without it, set runs when want is not "". New resources are
// new entries here.
type setter struct {
	ctrl  string
	want  func(r *specs.LinuxResources) string
	set   func(dir string, r *specs.LinuxResources) error
	lifts func(r *specs.LinuxResources) bool
}

// writes reports whether s has something of r to write.
func (s setter) writes(r *specs.LinuxResources) bool {
	if s.lifts != nil {
		return s.lifts(r)
	}
	return s.want(r) != ""
}

var v1Setters = []setter{
	{"memory", wantMemory, setMemoryV1, nil},
	{"cpu", wantCPU, setCPUV1, anyCPU},
	{"cpuset", wantCpuset, setCpuset, nil},
	{"pids", wantPids, setPids, nil},
	{"blkio", wantBlkio, setBlkioV1, nil},
	{"hugetlb", wantHugetlb, setHugetlbV1, nil},
	{"net_cls", wantNetCls, setNetCls, nil},
	{"net_prio", wantNetPrio, setNetPrio, nil},
	{"rdma", wantRdma, setRdma, nil},
	{"devices", wantDevices, setDevicesV1, nil},
}

// Field names, as errors print them.
const (
	fMemLimit     = "linux.resources.memory.limit"
	fMemReserve   = "linux.resources.memory.reservation"
	fMemSwap      = "linux.resources.memory.swap"
	fMemSwappy    = "linux.resources.memory.swappiness"
	fMemOOM       = "linux.resources.memory.disableOOMKiller"
	fCPUShares    = "linux.resources.cpu.shares"
	fCPUQuota     = "linux.resources.cpu.quota"
	fCPUPeriod    = "linux.resources.cpu.period"
	fCPUCpus      = "linux.resources.cpu.cpus"
	fCPUMems      = "linux.resources.cpu.mems"
	fPidsLimit    = "linux.resources.pids.limit"
	fBlkioWeight  = "linux.resources.blockIO.weight"
	fDevices      = "linux.resources.devices"
	fUnified      = "linux.resources.unified"
	unsetSwappy   = math.MaxUint64 // -1 in a signed reading: "leave it"
	cpuSharesMin  = 2
	cpuSharesMax  = 262144
	swapFileV1    = "memory.memsw.limit_in_bytes"
	limitFileV1   = "memory.limit_in_bytes"
	defaultAccess = "rwm"
)

func i64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func u64(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}

func wantMemory(r *specs.LinuxResources) string {
	m := r.Memory
	switch {
	case m == nil:
		return ""
	case i64(m.Limit) != 0:
		return fMemLimit
	case i64(m.Reservation) != 0:
		return fMemReserve
	case i64(m.Swap) != 0:
		return fMemSwap
	case m.Swappiness != nil && *m.Swappiness != unsetSwappy:
		return fMemSwappy
	case m.DisableOOMKiller != nil && *m.DisableOOMKiller:
		return fMemOOM
	}
	return ""
}

func wantCpuset(r *specs.LinuxResources) string {
	switch {
	case r.CPU == nil:
		return ""
	case r.CPU.Cpus != "":
		return fCPUCpus
	case r.CPU.Mems != "":
		return fCPUMems
	}
	return ""
}

func wantPids(r *specs.LinuxResources) string {
	if r.Pids != nil && r.Pids.Limit != nil {
		return fPidsLimit
	}
	return ""
}

func wantDevices(r *specs.LinuxResources) string {
	if len(r.Devices) > 0 {
		return fDevices
	}
	return ""
}

// setMemoryV1 writes the memory and memory+swap limits in the order the
// kernel accepts (memsw must stay >= limit at every step), like runc.
func setMemoryV1(dir string, r *specs.LinuxResources) error {
	m := r.Memory
	limit, swap := i64(m.Limit), i64(m.Swap)
	hasSwap := fileExists(dir, swapFileV1)
	if limit == -1 && swap == 0 && hasSwap {
		swap = -1 // unlimited memory means unlimited memory+swap too
	}
	if !hasSwap {
		swap = 0 // no swap accounting in this kernel: nothing to limit
	}
	swapFirst := false
	if limit != 0 && swap != 0 {
		cur, err := readFile(dir, limitFileV1)
		if err != nil {
			return field(fMemLimit, err)
		}
		curLimit, err := strconv.ParseUint(cur, 10, 64)
		if err != nil {
			return field(fMemLimit, fmt.Errorf("parse %s/%s: %w", dir, limitFileV1, err))
		}
		swapFirst = swap == -1 || curLimit < uint64(swap)
	}
	writeLimit := func() error {
		if limit == 0 {
			return nil
		}
		err := writeFile(dir, limitFileV1, strconv.FormatInt(limit, 10))
		if errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("%s: %w (memory usage is above the new limit)", fMemLimit, err)
		}
		return field(fMemLimit, err)
	}
	writeSwap := func() error {
		if swap == 0 {
			return nil
		}
		return field(fMemSwap, writeFile(dir, swapFileV1, strconv.FormatInt(swap, 10)))
	}
	steps := []func() error{writeLimit, writeSwap}
	if swapFirst {
		steps = []func() error{writeSwap, writeLimit}
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	if v := i64(m.Reservation); v != 0 {
		if err := writeFile(dir, "memory.soft_limit_in_bytes", strconv.FormatInt(v, 10)); err != nil {
			return field(fMemReserve, err)
		}
	}
	if m.Swappiness != nil && *m.Swappiness != unsetSwappy {
		if *m.Swappiness > 100 {
			return fmt.Errorf("%s: %d is out of range 0-100", fMemSwappy, *m.Swappiness)
		}
		if err := writeFile(dir, "memory.swappiness", strconv.FormatUint(*m.Swappiness, 10)); err != nil {
			return field(fMemSwappy, err)
		}
	}
	if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
		if err := writeFile(dir, "memory.oom_control", "1"); err != nil {
			return field(fMemOOM, err)
		}
	}
	return nil
}

// setCpuset is the same for v1 and v2.
func setCpuset(dir string, r *specs.LinuxResources) error {
	if r.CPU.Cpus != "" {
		if err := writeFile(dir, "cpuset.cpus", r.CPU.Cpus); err != nil {
			return field(fCPUCpus, err)
		}
	}
	if r.CPU.Mems != "" {
		if err := writeFile(dir, "cpuset.mems", r.CPU.Mems); err != nil {
			return field(fCPUMems, err)
		}
	}
	return nil
}

// setPids is the same for v1 and v2: a limit <= 0 means no limit.
func setPids(dir string, r *specs.LinuxResources) error {
	val := "max"
	if l := *r.Pids.Limit; l > 0 {
		val = strconv.FormatInt(l, 10)
	}
	return field(fPidsLimit, writeFile(dir, "pids.max", val))
}

// setDevicesV1 denies everything, then applies the rules in order.
//
// TODO: on an update of a running container this briefly denies all devices;
// runc diffs against devices.list to avoid that.
func setDevicesV1(dir string, r *specs.LinuxResources) error {
	rules := make([]string, len(r.Devices))
	for i, d := range r.Devices {
		s, err := deviceRule(d)
		if err != nil {
			return fmt.Errorf("%s[%d]: %w", fDevices, i, err)
		}
		rules[i] = s
	}
	if err := writeFile(dir, "devices.deny", "a"); err != nil {
		return field(fDevices, err)
	}
	for i, d := range r.Devices {
		file := "devices.deny"
		if d.Allow {
			file = "devices.allow"
		}
		if err := writeFile(dir, file, rules[i]); err != nil {
			return fmt.Errorf("%s[%d]: %w", fDevices, i, err)
		}
	}
	return nil
}

// deviceRule formats a device cgroup rule as "c 1:3 rwm" ("a" for all).
func deviceRule(d specs.LinuxDeviceCgroup) (string, error) {
	access := d.Access
	if access == "" {
		access = defaultAccess
	}
	for _, c := range access {
		if c != 'r' && c != 'w' && c != 'm' {
			return "", fmt.Errorf("access %q: only r, w and m are allowed", d.Access)
		}
	}
	num := func(p *int64) (string, error) {
		switch {
		case p == nil || *p == -1:
			return "*", nil
		case *p < 0 || *p > math.MaxUint32:
			return "", fmt.Errorf("device number %d out of range", *p)
		}
		return strconv.FormatInt(*p, 10), nil
	}
	switch d.Type {
	case "", "a":
		return "a", nil
	case "c", "b":
	default:
		return "", fmt.Errorf("type %q: must be a, b or c", d.Type)
	}
	major, err := num(d.Major)
	if err != nil {
		return "", err
	}
	minor, err := num(d.Minor)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %s:%s %s", d.Type, major, minor, access), nil
}
