package cgroups

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// linux.resources.cpu (but cpus and mems, which are cpuset's): shares,
// CFS quota, period and burst, idle, and (v1 only) realtime runtime and
// period. v1: cpu.shares, cpu.cfs_{quota,period,burst}_us, cpu.idle,
// cpu.rt_{runtime,period}_us; v2: cpu.weight, cpu.max, cpu.max.burst,
// cpu.idle. Burst and idle are written when given, 0 included (0 lifts
// them); the others only when not 0.

func wantCPU(r *specs.LinuxResources) string {
	c := r.CPU
	switch {
	case c == nil:
		return ""
	case u64(c.Shares) != 0:
		return fCPUShares
	case i64(c.Quota) != 0:
		return fCPUQuota
	case u64(c.Period) != 0:
		return fCPUPeriod
	case u64(c.Burst) != 0:
		return fCPUBurst
	case i64(c.RealtimeRuntime) != 0:
		return fCPURtRuntime
	case u64(c.RealtimePeriod) != 0:
		return fCPURtPeriod
	case i64(c.Idle) != 0:
		return fCPUIdle
	}
	return ""
}

// anyCPU: r gives a cpu value to write, a 0 burst or idle included.
func anyCPU(r *specs.LinuxResources) bool {
	return wantCPU(r) != "" || (r.CPU != nil && (r.CPU.Burst != nil || r.CPU.Idle != nil))
}

func setCPUV1(dir string, r *specs.LinuxResources) error {
	c := r.CPU
	idleFirst, skipShares := idleOrder(dir, c)
	if idleFirst {
		if err := setIdle(dir, c); err != nil {
			return err
		}
	}
	if shares := u64(c.Shares); shares != 0 && !skipShares {
		if err := writeFile(dir, "cpu.shares", strconv.FormatUint(shares, 10)); err != nil {
			return field(fCPUShares, err)
		}
		// The kernel clamps silently; say so instead.
		got, err := readFile(dir, "cpu.shares")
		if err != nil {
			return field(fCPUShares, err)
		}
		if g, err := strconv.ParseUint(got, 10, 64); err == nil && g != shares {
			if shares > g {
				return fmt.Errorf("%s: %d is above the maximum the kernel allows (%d)", fCPUShares, shares, g)
			}
			return fmt.Errorf("%s: %d is below the minimum the kernel allows (%d)", fCPUShares, shares, g)
		}
	}
	quota, period := i64(c.Quota), u64(c.Period)
	retryPeriod := false
	if period != 0 {
		err := writeFile(dir, "cpu.cfs_period_us", strconv.FormatUint(period, 10))
		// A period smaller than the current one can be refused (EINVAL)
		// while the old quota is in place: retry after the quota.
		if err != nil && (quota == 0 || !errors.Is(err, unix.EINVAL)) {
			return field(fCPUPeriod, err)
		}
		retryPeriod = err != nil
	}
	retryBurst, err := setBurst(dir, "cpu.cfs_burst_us", c, quota != 0)
	if err != nil {
		return err
	}
	if quota != 0 {
		if err := writeFile(dir, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10)); err != nil {
			return field(fCPUQuota, err)
		}
		if retryPeriod {
			if err := writeFile(dir, "cpu.cfs_period_us", strconv.FormatUint(period, 10)); err != nil {
				return field(fCPUPeriod, err)
			}
		}
		if retryBurst {
			if _, err := setBurst(dir, "cpu.cfs_burst_us", c, false); err != nil {
				return err
			}
		}
	}
	if !idleFirst {
		if err := setIdle(dir, c); err != nil {
			return err
		}
	}
	return setRealtime(dir, c)
}

func setCPUV2(dir string, r *specs.LinuxResources) error {
	c := r.CPU
	idleFirst, skipShares := idleOrder(dir, c)
	if idleFirst {
		if err := setIdle(dir, c); err != nil {
			return err
		}
	}
	if shares := u64(c.Shares); shares != 0 && !skipShares {
		w := strconv.FormatUint(sharesToWeight(shares), 10)
		if err := writeFile(dir, "cpu.weight", w); err != nil {
			return field(fCPUShares, err)
		}
	}
	quota, period := i64(c.Quota), u64(c.Period)
	setMax := quota != 0 || period != 0
	retryBurst, err := setBurst(dir, "cpu.max.burst", c, setMax)
	if err != nil {
		return err
	}
	if setMax {
		val := "max"
		if quota > 0 {
			val = strconv.FormatInt(quota, 10)
		}
		if period != 0 {
			val += " " + strconv.FormatUint(period, 10)
		}
		f := fCPUQuota
		if quota == 0 {
			f = fCPUPeriod
		}
		if err := writeFile(dir, "cpu.max", val); err != nil {
			return field(f, err)
		}
		if retryBurst {
			if _, err := setBurst(dir, "cpu.max.burst", c, false); err != nil {
				return err
			}
		}
	}
	if !idleFirst {
		return setIdle(dir, c)
	}
	return nil
}

// idleOrder: an idle cgroup (cpu.idle 1) refuses shares and weights
// (EINVAL). So idle 0 is written first, and idle 1 after the shares,
// which are skipped when the cgroup is idle already (the kernel keeps no
// weight for an idle cgroup; they are written when idle goes back to 0).
func idleOrder(dir string, c *specs.LinuxCPU) (idleFirst, skipShares bool) {
	if c.Idle == nil {
		return false, false
	}
	if *c.Idle == 0 {
		return true, false
	}
	cur, err := readFile(dir, "cpu.idle")
	return false, err == nil && cur == "1"
}

// setIdle writes cpu.idle when given. Idle 0 on a kernel without the file
// (before Linux 5.15) is what the cgroup has anyway.
func setIdle(dir string, c *specs.LinuxCPU) error {
	if c.Idle == nil {
		return nil
	}
	if !fileExists(dir, "cpu.idle") {
		if *c.Idle == 0 {
			return nil
		}
		return lacks(fCPUIdle, "this host's cpu controller has no cpu.idle (Linux 5.15+)")
	}
	return field(fCPUIdle, writeFile(dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10)))
}

// setBurst writes the CFS burst (file: cpu.cfs_burst_us or cpu.max.burst)
// when given. A burst above the current quota is refused (EINVAL); when
// the quota is about to change (canRetry) that is reported as retry, and
// the caller writes the burst again after the quota, as runc does.
func setBurst(dir, file string, c *specs.LinuxCPU, canRetry bool) (retry bool, err error) {
	if c.Burst == nil {
		return false, nil
	}
	if !fileExists(dir, file) {
		if *c.Burst == 0 {
			return false, nil
		}
		return false, lacks(fCPUBurst, "this host's cpu controller has no %s (Linux 5.14+)", file)
	}
	err = writeFile(dir, file, strconv.FormatUint(*c.Burst, 10))
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, unix.EINVAL) && canRetry:
		return true, nil
	case errors.Is(err, unix.EINVAL):
		return false, fmt.Errorf("%s: %w (the burst may not exceed %s)", fCPUBurst, err, fCPUQuota)
	}
	return false, field(fCPUBurst, err)
}

// setRealtime writes cpu.rt_period_us and cpu.rt_runtime_us (v1) when not
// 0. With both, the order keeps the intermediate runtime/period ratio the
// smaller one, as runc does: the period first if old runtime × old period
// < new runtime × new period. The kernel admits a runtime only within
// what the parent cgroup has left; rt, like runc, never raises a parent's.
func setRealtime(dir string, c *specs.LinuxCPU) error {
	period, runtime := u64(c.RealtimePeriod), i64(c.RealtimeRuntime)
	if period == 0 && runtime == 0 {
		return nil
	}
	f := fCPURtRuntime
	if runtime == 0 {
		f = fCPURtPeriod
	}
	if !fileExists(dir, "cpu.rt_runtime_us") {
		return lacks(f, "this host's cpu controller has no cpu.rt_runtime_us (realtime group scheduling, CONFIG_RT_GROUP_SCHED, is off)")
	}
	writePeriod := func() error {
		return rtError(dir, fCPURtPeriod, writeFile(dir, "cpu.rt_period_us", strconv.FormatUint(period, 10)))
	}
	writeRuntime := func() error {
		return rtError(dir, fCPURtRuntime, writeFile(dir, "cpu.rt_runtime_us", strconv.FormatInt(runtime, 10)))
	}
	switch {
	case runtime == 0:
		return writePeriod()
	case period == 0:
		return writeRuntime()
	}
	oldPeriod, err1 := readInt(dir, "cpu.rt_period_us")
	oldRuntime, err2 := readInt(dir, "cpu.rt_runtime_us")
	if err := errors.Join(err1, err2); err != nil {
		return field(f, err)
	}
	steps := []func() error{writeRuntime, writePeriod}
	if oldRuntime*oldPeriod < runtime*int64(period) {
		steps = []func() error{writePeriod, writeRuntime}
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// rtError explains the usual EINVAL: the parent's budget.
func rtError(dir, name string, err error) error {
	if !errors.Is(err, unix.EINVAL) {
		return field(name, err)
	}
	parent := filepath.Dir(dir)
	pr, _ := readFile(parent, "cpu.rt_runtime_us")
	pp, _ := readFile(parent, "cpu.rt_period_us")
	return fmt.Errorf("%s: %w (the runtime must fit in what the parent cgroup %s has left of its cpu.rt_runtime_us %s per cpu.rt_period_us %s, and not exceed the period; rt, like runc, does not raise a parent's budget)",
		name, err, parent, pr, pp)
}

func readInt(dir, name string) (int64, error) {
	s, err := readFile(dir, name)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(s, 10, 64)
}
