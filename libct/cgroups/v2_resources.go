package cgroups

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var v2Setters = []setter{
	{"memory", wantMemoryV2, setMemoryV2, nil},
	{"cpu", wantCPU, setCPUV2, anyCPU},
	{"cpuset", wantCpuset, setCpuset, nil},
	{"pids", wantPids, setPids, nil},
	{"io", wantBlkio, setIOV2, nil},
	{"hugetlb", wantHugetlb, setHugetlbV2, nil},
	{"rdma", wantRdma, setRdma, nil},
	// Devices are an eBPF program (devices_v2.go), set by Set.
	// memory.swappiness and disableOOMKiller have no v2 file: ignored.
	// network and cpu realtime have no v2 controller: checkV2 refuses them.
}

func wantMemoryV2(r *specs.LinuxResources) string {
	m := r.Memory
	switch {
	case m == nil:
		return ""
	case i64(m.Limit) != 0:
		return fMemLimit
	case i64(m.Swap) != 0:
		return fMemSwap
	case i64(m.Reservation) != 0:
		return fMemReserve
	}
	return ""
}

// numToStr formats a v2 limit: 0 is "unset" (""), -1 is "max".
func numToStr(v int64) string {
	switch v {
	case 0:
		return ""
	case -1:
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// swapV2 converts the OCI swap value (memory+swap, as in v1) to v2's
// memory.swap.max (swap alone), as runc does.
func swapV2(swap, limit int64) (int64, error) {
	switch {
	case limit == -1 && swap == 0:
		return -1, nil // unlimited memory: unlimited swap too
	case swap == -1 || swap == 0:
		return swap, nil
	case limit == 0 || limit == -1:
		return 0, errors.New("a swap limit needs a memory limit")
	case limit < 0:
		return 0, fmt.Errorf("invalid memory limit %d", limit)
	case swap < limit:
		return 0, fmt.Errorf("memory+swap limit %d is below the memory limit %d", swap, limit)
	}
	return swap - limit, nil
}

func setMemoryV2(dir string, r *specs.LinuxResources) error {
	m := r.Memory
	limit, swap := i64(m.Limit), i64(m.Swap)
	if limit != 0 || swap != 0 {
		s, err := swapV2(swap, limit)
		if err != nil {
			return field(fMemSwap, err)
		}
		val := numToStr(s)
		if val == "" && swap > 0 {
			val = "0" // swap == limit: no swap at all
		}
		if val != "" {
			err := writeFile(dir, "memory.swap.max", val)
			// No swap accounting: "no swap" and "any swap" are moot.
			if err != nil && !(errors.Is(err, os.ErrNotExist) && (val == "max" || val == "0")) {
				return field(fMemSwap, err)
			}
		}
		if val := numToStr(limit); val != "" {
			if err := writeFile(dir, "memory.max", val); err != nil {
				return field(fMemLimit, err)
			}
		}
	}
	if val := numToStr(i64(m.Reservation)); val != "" {
		if err := writeFile(dir, "memory.low", val); err != nil {
			return field(fMemReserve, err)
		}
	}
	return nil
}

// sharesToWeight converts v1 cpu.shares (2-262144) to v2 cpu.weight
// (1-10000) with runc's formula.
func sharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	shares = min(max(shares, cpuSharesMin), cpuSharesMax)
	return 1 + ((shares-2)*9999)/262142
}

// blkioToIOWeight converts a v1 blkio weight (10-1000) to v2 io.weight
// (1-10000) with runc's formula.
func blkioToIOWeight(w uint16) uint64 {
	return 1 + (uint64(w)-10)*9999/990
}

// checkV2 validates what can be validated before anything exists, and
// refuses what cgroup v2 cannot do (runc ignores these silently on v2; rt,
// like crun for realtime, says so).
func checkV2(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if err := CheckResources(r); err != nil {
		return err
	}
	if f := wantNetCls(r); f != "" || wantNetPrio(r) != "" {
		if f == "" {
			f = fPriorities
		}
		return lacks(f, "cgroup v2 has no net_cls or net_prio controller; classify the container's traffic by cgroup path instead (nftables \"socket cgroupv2\", or an eBPF program)")
	}
	if c := r.CPU; c != nil && (i64(c.RealtimeRuntime) != 0 || u64(c.RealtimePeriod) != 0) {
		f := fCPURtRuntime
		if i64(c.RealtimeRuntime) == 0 {
			f = fCPURtPeriod
		}
		return lacks(f, "cgroup v2 has no realtime group scheduling (cpu.rt_runtime_us and cpu.rt_period_us are cgroup v1 only)")
	}
	if b := r.BlockIO; b != nil {
		if u16(b.LeafWeight) != 0 {
			return lacks(fLeafWeight, "cgroup v2 has no leaf weights (io.weight and io.bfq.weight have no leaf variant)")
		}
		for i, wd := range b.WeightDevice {
			if u16(wd.LeafWeight) != 0 {
				return lacks(fmt.Sprintf("%s[%d].leafWeight", fWeightDevice, i), "cgroup v2 has no leaf weights (io.weight and io.bfq.weight have no leaf variant)")
			}
		}
	}
	if r.Devices != nil {
		if _, err := deviceProgram(r.Devices); err != nil {
			return err
		}
	}
	for k := range r.Unified {
		if err := checkUnifiedKey(k); err != nil {
			return fmt.Errorf("%s[%q]: %w", fUnified, k, err)
		}
	}
	return nil
}

func checkUnifiedKey(k string) error {
	switch {
	case strings.ContainsAny(k, "/\x00") || strings.Contains(k, ".."):
		return errors.New("must be a file name (no \"/\" or \"..\")")
	case k == "cgroup.procs" || k == "cgroup.threads":
		return errors.New("moving processes is not a resource")
	}
	ctrl, param, ok := strings.Cut(k, ".")
	if !ok || ctrl == "" || param == "" {
		return errors.New("must have the form CONTROLLER.PARAMETER")
	}
	return nil
}

// setUnified writes linux.resources.unified verbatim, in key order, after the
// typed resources so that it wins. Multi-line values (io.max) are written one
// line at a time, as the kernel reads one rule per write.
func setUnified(dir string, u map[string]string, have map[string]bool) error {
	keys := make([]string, 0, len(u))
	for k := range u {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := fmt.Sprintf("%s[%q]", fUnified, k)
		ctrl, _, _ := strings.Cut(k, ".")
		if have != nil && ctrl != "cgroup" && !have[ctrl] {
			return fmt.Errorf("%s: %w: the %q controller is not enabled for %s", name, ErrNotMounted, ctrl, dir)
		}
		lines := strings.Split(u[k], "\n")
		for i, line := range lines {
			if line == "" && i > 0 {
				continue // trailing newline
			}
			if err := writeFile(dir, k, line); err != nil {
				return field(name, err)
			}
		}
	}
	return nil
}
