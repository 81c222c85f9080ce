package libct

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/nsenter"
	"github.com/rt-oci/rt/spec"
)

// Thread attributes a container's processes inherit from rt: its
// linux.personality, its linux.memoryPolicy and, for `rt exec`, the
// initial CPU affinity of process.execCPUAffinity. The kernel copies all
// three from the thread that clones and keeps them across execve, so rt
// sets them on a thread of its own that then spawns the init: the raw
// child, the init stage and the workload all have them, from the first
// instruction on and before any seccomp filter (which may forbid
// personality(2) or set_mempolicy(2)). That thread ends with the spawn,
// so rt itself keeps its own attributes. docs/process-fields.md.
type threadAttrs struct {
	personality *uintptr                 // personality(2) persona; nil: unchanged
	mpol        *specs.LinuxMemoryPolicy // set_mempolicy(2) with mpolMode, mpolNodes
	mpolMode    int
	mpolNodes   *unix.CPUSet // nodemask (same bit layout); nil: empty
	cpus        *unix.CPUSet // sched_setaffinity(2); nil: unchanged
}

// Personality domains (<linux/personality.h>).
const (
	perLinux   = 0x0000
	perLinux32 = 0x0008
)

// newThreadAttrs reads the attributes from the container's linux section
// and, for an exec, the process's execCPUAffinity (nil for the
// container's init: the runtime-spec does not apply it there).
func newThreadAttrs(l *specs.Linux, aff *specs.CPUAffinity) (*threadAttrs, error) {
	t := &threadAttrs{}
	if l != nil && l.Personality != nil {
		var p uintptr
		switch l.Personality.Domain {
		case specs.PerLinux:
			p = perLinux
		case specs.PerLinux32:
			p = perLinux32
		default:
			return nil, fmt.Errorf("linux.personality.domain: unknown domain %q", l.Personality.Domain)
		}
		t.personality = &p
	}
	if l != nil && l.MemoryPolicy != nil {
		if err := t.memoryPolicy(l.MemoryPolicy); err != nil {
			return nil, err
		}
	}
	if aff != nil && aff.Initial != "" {
		set, err := cpuSet(aff.Initial, "process.execCPUAffinity.initial")
		if err != nil {
			return nil, err
		}
		t.cpus = set
	}
	return t, nil
}

func (t *threadAttrs) memoryPolicy(m *specs.LinuxMemoryPolicy) error {
	if m.Mode == "" && m.Nodes == "" && len(m.Flags) == 0 {
		return nil // {} is no policy
	}
	mode, ok := spec.MemoryPolicyModes[m.Mode]
	if !ok {
		return fmt.Errorf("linux.memoryPolicy.mode: invalid memory policy mode %q", m.Mode)
	}
	for i, f := range m.Flags {
		v, ok := spec.MemoryPolicyFlags[f]
		if !ok {
			return fmt.Errorf("linux.memoryPolicy.flags[%d]: invalid memory policy flag %q", i, f)
		}
		mode |= v
	}
	nodes, err := spec.ParseList(m.Nodes, spec.MaxNUMANode+1, "node")
	if err != nil {
		return fmt.Errorf("linux.memoryPolicy.nodes: %w", err)
	}
	t.mpol, t.mpolMode = m, mode
	if len(nodes) > 0 {
		t.mpolNodes = &unix.CPUSet{}
		for _, n := range nodes {
			t.mpolNodes.Set(n)
		}
	}
	return nil
}

func (t *threadAttrs) empty() bool {
	return t.personality == nil && t.mpol == nil && t.cpus == nil
}

// apply sets the attributes on the calling thread, which must be locked.
func (t *threadAttrs) apply() error {
	if t.personality != nil {
		if _, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, *t.personality, 0, 0); e != 0 {
			return fmt.Errorf("linux.personality: personality(%#x): %w", *t.personality, e)
		}
	}
	if m := t.mpol; m != nil {
		if err := unix.SetMemPolicy(t.mpolMode, t.mpolNodes); err != nil {
			return fmt.Errorf("linux.memoryPolicy: set_mempolicy(%s, nodes %q, flags %v): %w%s", m.Mode, m.Nodes, m.Flags, err, mpolHint(err))
		}
	}
	if t.cpus != nil {
		if err := unix.SchedSetaffinity(0, t.cpus); err != nil {
			return fmt.Errorf("process.execCPUAffinity.initial: sched_setaffinity: %w (are those CPUs online and allowed to rt?)", err)
		}
	}
	return nil
}

func mpolHint(err error) string {
	if errors.Is(err, unix.EINVAL) {
		return " (are the nodes online, allowed to rt, and right for the mode and flags?)"
	}
	return ""
}

// spawnWithAttrs runs spawn (nsenter.Spawn, or a wrapper that clones on
// the calling thread) on a fresh OS thread that first takes on the
// container's inherited attributes (see threadAttrs): l is the
// container's linux section, aff the execCPUAffinity of an `rt exec`
// process (nil for create); prep, when set, runs on that thread after
// them (a time namespace for the children: timens.go). With nothing to
// do it just calls spawn.
func spawnWithAttrs(l *specs.Linux, aff *specs.CPUAffinity, prep func() error, spawn func() (*nsenter.Process, error)) (*nsenter.Process, error) {
	t, err := newThreadAttrs(l, aff)
	if err != nil {
		return nil, err
	}
	if t.empty() && prep == nil {
		return spawn()
	}
	type result struct {
		p   *nsenter.Process
		err error
	}
	done := make(chan result, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine, and its
		// changed attributes with it.
		runtime.LockOSThread()
		if err := t.apply(); err != nil {
			done <- result{nil, err}
			return
		}
		if prep != nil {
			if err := prep(); err != nil {
				done <- result{nil, err}
				return
			}
		}
		p, err := spawn()
		done <- result{p, err}
	}()
	r := <-done
	return r.p, r.err
}

// setFinalAffinity applies process.execCPUAffinity.final to an `rt exec`
// process once it is in the container's cgroups (pid is its only thread
// or the thread that execs), as runc does. Without final but with initial
// it resets the affinity to every CPU, which the kernel narrows to the
// container's cpuset: the process must not stay on the initial CPUs. With
// neither it does nothing.
func setFinalAffinity(pid int, aff *specs.CPUAffinity) error {
	if aff == nil || (aff.Initial == "" && aff.Final == "") {
		return nil
	}
	// What the process ran on until now: the initial CPUs (--debug).
	var was unix.CPUSet
	if unix.SchedGetaffinity(pid, &was) == nil {
		logrus.Debugf("exec: process %d: CPU affinity %s before the final one", pid, cpuListString(&was))
	}
	var set *unix.CPUSet
	if aff.Final != "" {
		var err error
		if set, err = cpuSet(aff.Final, "process.execCPUAffinity.final"); err != nil {
			return err
		}
	} else {
		set = &unix.CPUSet{}
		for i := 0; i < len(set)*64; i++ {
			set.Set(i)
		}
	}
	if err := unix.SchedSetaffinity(pid, set); err != nil {
		if aff.Final == "" {
			return fmt.Errorf("process.execCPUAffinity: reset the CPU affinity after initial: %w", err)
		}
		return fmt.Errorf("process.execCPUAffinity.final %q: sched_setaffinity: %w (are those CPUs in the container's cpuset?)", aff.Final, err)
	}
	return nil
}

// cpuListString formats a CPU mask as a list such as "0-3,7".
func cpuListString(set *unix.CPUSet) string {
	var parts []string
	n := len(set) * 64
	for i := 0; i < n; i++ {
		if !set.IsSet(i) {
			continue
		}
		j := i
		for j+1 < n && set.IsSet(j+1) {
			j++
		}
		if j > i {
			parts = append(parts, strconv.Itoa(i)+"-"+strconv.Itoa(j))
		} else {
			parts = append(parts, strconv.Itoa(i))
		}
		i = j
	}
	return strings.Join(parts, ",")
}

// cpuSet parses a CPU list ("0-3,7") of field into a CPU mask.
func cpuSet(list, field string) (*unix.CPUSet, error) {
	cpus, err := spec.ParseList(list, len(unix.CPUSet{})*64, "CPU")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	set := &unix.CPUSet{}
	for _, c := range cpus {
		set.Set(c)
	}
	return set, nil
}
