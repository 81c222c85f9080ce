package initstage

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// applySchedIO applies process.scheduler (sched_setattr(2)) and
// process.ioPriority (ioprio_set(2)) to the calling thread: the init's
// locked main thread, the one that execs and so becomes the process
// (both attributes are kept across execve and inherited by children).
// It runs while rt's privileges still hold (SCHED_FIFO, SCHED_RR, a
// negative nice and IOPRIO_CLASS_RT need CAP_SYS_NICE or CAP_SYS_ADMIN)
// and before the seccomp filter, which may forbid these calls.
func applySchedIO(p *specs.Process) error {
	if s := p.Scheduler; s != nil {
		attr, err := schedAttr(s)
		if err != nil {
			return err
		}
		if err := unix.SchedSetAttr(0, attr, 0); err != nil {
			return fmt.Errorf("process.scheduler: sched_setattr %s: %w%s", s.Policy, err, schedHint(s, err))
		}
	}
	if io := p.IOPriority; io != nil {
		v, err := ioprioValue(io)
		if err != nil {
			return err
		}
		if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, uintptr(v)); e != 0 {
			hint := ""
			if e == unix.EPERM {
				hint = " (IOPRIO_CLASS_RT needs CAP_SYS_ADMIN or CAP_SYS_NICE)"
			}
			return fmt.Errorf("process.ioPriority: ioprio_set %s %d: %w%s", io.Class, io.Priority, e, hint)
		}
	}
	return nil
}

// Scheduling policies and flags of sched_setattr(2) (<linux/sched.h>).
var (
	schedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
		specs.SchedOther: 0, specs.SchedFIFO: 1, specs.SchedRR: 2, specs.SchedBatch: 3,
		specs.SchedISO: 4, specs.SchedIdle: 5, specs.SchedDeadline: 6,
	}
	schedFlags = map[specs.LinuxSchedulerFlag]uint64{
		specs.SchedFlagResetOnFork: 0x01, specs.SchedFlagReclaim: 0x02,
		specs.SchedFlagDLOverrun: 0x04, specs.SchedFlagKeepPolicy: 0x08,
		specs.SchedFlagKeepParams: 0x10, specs.SchedFlagUtilClampMin: 0x20,
		specs.SchedFlagUtilClampMax: 0x40,
	}
)

// schedAttr translates process.scheduler (validated by the host).
func schedAttr(s *specs.Scheduler) (*unix.SchedAttr, error) {
	pol, ok := schedPolicies[s.Policy]
	if !ok {
		return nil, fmt.Errorf("process.scheduler.policy: unknown policy %q", s.Policy)
	}
	a := &unix.SchedAttr{
		Policy: pol, Nice: s.Nice, Priority: uint32(s.Priority),
		Runtime: s.Runtime, Deadline: s.Deadline, Period: s.Period,
	}
	for i, f := range s.Flags {
		v, ok := schedFlags[f]
		if !ok {
			return nil, fmt.Errorf("process.scheduler.flags[%d]: unknown flag %q", i, f)
		}
		a.Flags |= v
	}
	return a, nil
}

func schedHint(s *specs.Scheduler, err error) string {
	switch {
	case errors.Is(err, unix.EPERM) && (s.Policy == specs.SchedFIFO || s.Policy == specs.SchedRR):
		return " (real-time policies need CAP_SYS_NICE, and with CONFIG_RT_GROUP_SCHED a cgroup v1 cpu controller whose cpu.rt_runtime_us is not 0)"
	case errors.Is(err, unix.EPERM) && s.Nice < 0:
		return " (a negative nice needs CAP_SYS_NICE)"
	case errors.Is(err, unix.EINVAL) && s.Policy == specs.SchedISO:
		return " (Linux does not implement SCHED_ISO)"
	case s.Policy == specs.SchedDeadline:
		return " (SCHED_DEADLINE needs runtime <= deadline <= period, period >= 1024ns, and a CPU affinity spanning the whole root domain)"
	}
	return ""
}

// ioprio_set(2) constants (<linux/ioprio.h>).
const (
	ioprioWhoProcess = 1
	ioprioClassShift = 13
)

var ioprioClasses = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT: 1, specs.IOPRIO_CLASS_BE: 2, specs.IOPRIO_CLASS_IDLE: 3,
}

// ioprioValue encodes process.ioPriority as IOPRIO_PRIO_VALUE(class, data).
func ioprioValue(io *specs.LinuxIOPriority) (int, error) {
	c, ok := ioprioClasses[io.Class]
	if !ok {
		return 0, fmt.Errorf("process.ioPriority.class: unknown class %q", io.Class)
	}
	if io.Priority < 0 || io.Priority > 7 {
		return 0, fmt.Errorf("process.ioPriority.priority: %d is outside 0..7", io.Priority)
	}
	return c<<ioprioClassShift | io.Priority, nil
}
