package spec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ngroupsMax is NGROUPS_MAX, the most supplementary groups setgroups(2) takes.
const ngroupsMax = 65536

// ValidateProcess checks a process section. field is its config.json path,
// "process" for config.json and for `exec --process FILE`; error messages
// start with it, e.g. `process.capabilities.bounding[3]: unknown capability
// "CAP_FOO"`. It reads nothing from the host.
func ValidateProcess(p *specs.Process, field string) error {
	if p == nil {
		return fieldErr(field, "missing")
	}
	for _, check := range processChecks {
		if err := check(p, field); err != nil {
			return err
		}
	}
	return nil
}

var processChecks = []func(*specs.Process, string) error{
	checkArgs,
	checkCwd,
	checkEnv,
	checkUser,
	checkCaps,
	checkRlimits,
	checkOOMScoreAdj,
	checkScheduler,
	checkIOPriority,
	checkCPUAffinity,
}

func checkArgs(p *specs.Process, field string) error {
	if len(p.Args) == 0 {
		return fieldErr(field+".args", "must not be empty")
	}
	if p.Args[0] == "" {
		return fieldErr(field+".args[0]", "empty program name")
	}
	for i, a := range p.Args {
		if hasNUL(a) {
			return fieldErr(idx(field+".args", i), "contains a NUL byte")
		}
	}
	return nil
}

func checkCwd(p *specs.Process, field string) error {
	if p.Cwd == "" {
		return fieldErr(field+".cwd", "missing, must be an absolute path")
	}
	return checkAbs(field+".cwd", p.Cwd)
}

func checkEnv(p *specs.Process, field string) error {
	for i, e := range p.Env {
		k, _, ok := strings.Cut(e, "=")
		if !ok || k == "" {
			return fieldErr(idx(field+".env", i), "must be KEY=VALUE: %q", e)
		}
		if hasNUL(e) {
			return fieldErr(idx(field+".env", i), "contains a NUL byte")
		}
	}
	return nil
}

func checkUser(p *specs.Process, field string) error {
	u := p.User
	if u.Umask != nil && *u.Umask > 0o777 {
		return fieldErr(field+".user.umask", "%#o is not a permission mask (0 to 0777)", *u.Umask)
	}
	if len(u.AdditionalGids) > ngroupsMax {
		return fieldErr(field+".user.additionalGids", "%d groups, at most %d allowed", len(u.AdditionalGids), ngroupsMax)
	}
	return nil
}

func checkCaps(p *specs.Process, field string) error {
	c := p.Capabilities
	if c == nil {
		return nil
	}
	for _, set := range []struct {
		name  string
		names []string
	}{
		{"bounding", c.Bounding},
		{"effective", c.Effective},
		{"inheritable", c.Inheritable},
		{"permitted", c.Permitted},
		{"ambient", c.Ambient},
	} {
		for i, n := range set.names {
			if _, ok := CapValue(n); !ok {
				return fieldErr(idx(field+".capabilities."+set.name, i), "unknown capability %q", n)
			}
		}
	}
	return nil
}

func checkRlimits(p *specs.Process, field string) error {
	seen := make(map[string]int)
	for i, r := range p.Rlimits {
		f := idx(field+".rlimits", i)
		if _, ok := RlimitType(r.Type); !ok {
			return fieldErr(f+".type", "unknown rlimit %q", r.Type)
		}
		if j, dup := seen[r.Type]; dup {
			return fieldErr(f+".type", "duplicate rlimit %q (also %s)", r.Type, idx(field+".rlimits", j))
		}
		seen[r.Type] = i
		if r.Soft > r.Hard {
			return fieldErr(f, "soft limit %d is above hard limit %d", r.Soft, r.Hard)
		}
	}
	return nil
}

func checkOOMScoreAdj(p *specs.Process, field string) error {
	if a := p.OOMScoreAdj; a != nil && (*a < -1000 || *a > 1000) {
		return fieldErr(field+".oomScoreAdj", "%d is outside -1000..1000", *a)
	}
	return nil
}

var (
	schedPolicies = map[specs.LinuxSchedulerPolicy]bool{
		specs.SchedOther: true, specs.SchedFIFO: true, specs.SchedRR: true,
		specs.SchedBatch: true, specs.SchedISO: true, specs.SchedIdle: true,
		specs.SchedDeadline: true,
	}
	schedFlags = map[specs.LinuxSchedulerFlag]bool{
		specs.SchedFlagResetOnFork: true, specs.SchedFlagReclaim: true,
		specs.SchedFlagDLOverrun: true, specs.SchedFlagKeepPolicy: true,
		specs.SchedFlagKeepParams: true, specs.SchedFlagUtilClampMin: true,
		specs.SchedFlagUtilClampMax: true,
	}
)

// checkScheduler follows sched_setattr(2), as runc's validator does.
func checkScheduler(p *specs.Process, field string) error {
	s := p.Scheduler
	if s == nil {
		return nil
	}
	f := field + ".scheduler"
	if s.Policy == "" {
		return fieldErr(f+".policy", "missing")
	}
	if !schedPolicies[s.Policy] {
		return fieldErr(f+".policy", "unknown policy %q", s.Policy)
	}
	for i, fl := range s.Flags {
		if !schedFlags[fl] {
			return fieldErr(idx(f+".flags", i), "unknown flag %q", fl)
		}
	}
	if s.Nice < -20 || s.Nice > 19 {
		return fieldErr(f+".nice", "%d is outside -20..19", s.Nice)
	}
	if s.Priority != 0 && s.Policy != specs.SchedFIFO && s.Policy != specs.SchedRR {
		return fieldErr(f+".priority", "only allowed with SCHED_FIFO or SCHED_RR")
	}
	if s.Priority < 0 || s.Priority > 99 {
		return fieldErr(f+".priority", "%d is outside 0..99", s.Priority)
	}
	if s.Policy != specs.SchedDeadline && (s.Runtime != 0 || s.Deadline != 0 || s.Period != 0) {
		return fieldErr(f, "runtime, deadline and period are only allowed with SCHED_DEADLINE")
	}
	return nil
}

var ioPrioClasses = map[specs.IOPriorityClass]bool{
	specs.IOPRIO_CLASS_RT: true, specs.IOPRIO_CLASS_BE: true, specs.IOPRIO_CLASS_IDLE: true,
}

func checkIOPriority(p *specs.Process, field string) error {
	io := p.IOPriority
	if io == nil {
		return nil
	}
	if !ioPrioClasses[io.Class] {
		return fieldErr(field+".ioPriority.class", "unknown class %q (want IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE)", io.Class)
	}
	if io.Priority < 0 || io.Priority > 7 {
		return fieldErr(field+".ioPriority.priority", "%d is outside 0..7", io.Priority)
	}
	return nil
}

func checkCPUAffinity(p *specs.Process, field string) error {
	a := p.ExecCPUAffinity
	if a == nil {
		return nil
	}
	if err := checkCPUList(a.Initial); err != nil {
		return fieldErr(field+".execCPUAffinity.initial", "%w", err)
	}
	if err := checkCPUList(a.Final); err != nil {
		return fieldErr(field+".execCPUAffinity.final", "%w", err)
	}
	return nil
}

// maxCPU bounds CPU numbers in a list (the kernel's NR_CPUS is at most 8192).
const maxCPU = 8192

// checkCPUList accepts "" and cpuset lists such as "0-3,7".
func checkCPUList(s string) error {
	_, err := ParseList(s, maxCPU, "CPU")
	return err
}

// ParseList parses a cpuset-style list such as "0-3,7" (CPUs in
// process.execCPUAffinity, NUMA nodes in linux.memoryPolicy.nodes) into
// its members in ascending order, each below limit. "" is the empty list.
// kind names the members in errors ("CPU", "node").
func ParseList(s string, limit int, kind string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	seen := map[int]bool{}
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a || b >= limit {
			return nil, fmt.Errorf("invalid %s list %q: bad element %q (numbers 0..%d, ranges as 0-3)", kind, s, part, limit-1)
		}
		for i := a; i <= b; i++ {
			if !seen[i] {
				seen[i] = true
				out = append(out, i)
			}
		}
	}
	sort.Ints(out)
	return out, nil
}
