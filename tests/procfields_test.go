package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Tests of the newer process and linux fields (docs/process-fields.md):
// process.scheduler, process.ioPriority, process.execCPUAffinity,
// linux.personality, linux.memoryPolicy, linux.netDevices,
// linux.intelRdt. Each effect is observed from inside the container
// (and, for devices, on the host).

// statScript prints nice (field 19), rt_priority (40) and policy (41) of
// /proc/self/stat (the command name, "sh", has no spaces).
const statScript = `set -- $(cat /proc/self/stat); shift 18; echo nice=$1; shift 21; echo rtprio=$1; echo policy=$2`

func TestProcScheduler(t *testing.T) {
	t.Parallel()
	h := newH(t)
	sched := func(sc specs.Scheduler) func(*specs.Spec) {
		return func(s *specs.Spec) { s.Process.Scheduler = &sc }
	}
	got := kv(h.MustSh(statScript, sched(specs.Scheduler{Policy: specs.SchedBatch, Nice: 7})))
	if got["policy"] != "3" || got["nice"] != "7" {
		t.Errorf("SCHED_BATCH nice 7: /proc/self/stat says %v", got)
	}
	got = kv(h.MustSh(statScript, sched(specs.Scheduler{Policy: specs.SchedIdle})))
	if got["policy"] != "5" {
		t.Errorf("SCHED_IDLE: /proc/self/stat says %v", got)
	}
	// A real-time policy: granted, or refused with a reason naming the
	// field (CONFIG_RT_GROUP_SCHED leaves a new cgroup no real-time time).
	r := h.Sh(statScript, sched(specs.Scheduler{Policy: specs.SchedFIFO, Priority: 10}))
	if r.Code == 0 {
		if got := kv(r.Stdout); got["policy"] != "1" || got["rtprio"] != "10" {
			t.Errorf("SCHED_FIFO 10: /proc/self/stat says %v", got)
		}
	} else if !strings.Contains(r.Stderr, "process.scheduler: sched_setattr SCHED_FIFO") {
		t.Errorf("SCHED_FIFO refused without naming the field: %v", r)
	}
	// Invalid values are refused before anything is made.
	r = h.Sh("true", sched(specs.Scheduler{Policy: specs.SchedOther, Nice: 42}))
	if r.Code == 0 || !strings.Contains(r.Stderr, "process.scheduler.nice") {
		t.Errorf("nice 42: %v, want an error naming process.scheduler.nice", r)
	}
	// rt exec applies the exec's process.scheduler too.
	b := h.Bundle(args("sleep", "100"))
	id, _ := h.StartDetached(b)
	pj := writeProcess(t, h, &specs.Process{Args: []string{"sh", "-c", statScript}, Cwd: "/",
		Scheduler: &specs.Scheduler{Policy: specs.SchedBatch, Nice: 3}})
	if got := kv(h.MustRT("exec", "-p", pj, id).Stdout); got["policy"] != "3" || got["nice"] != "3" {
		t.Errorf("exec SCHED_BATCH nice 3: /proc/self/stat says %v", got)
	}
}

func TestProcIOPriority(t *testing.T) {
	t.Parallel()
	h := newH(t)
	io := func(c specs.IOPriorityClass, p int) func(*specs.Spec) {
		return func(s *specs.Spec) { s.Process.IOPriority = &specs.LinuxIOPriority{Class: c, Priority: p} }
	}
	if out := strings.TrimSpace(h.MustSh("ionice -p $$", io(specs.IOPRIO_CLASS_IDLE, 0))); out != "idle" {
		t.Errorf("IOPRIO_CLASS_IDLE: ionice says %q", out)
	}
	if out := strings.TrimSpace(h.MustSh("ionice -p $$", io(specs.IOPRIO_CLASS_BE, 6))); out != "best-effort: prio 6" {
		t.Errorf("IOPRIO_CLASS_BE 6: ionice says %q", out)
	}
	// Children inherit it.
	if out := strings.TrimSpace(h.MustSh("sh -c 'ionice -p $$'", io(specs.IOPRIO_CLASS_BE, 2))); out != "best-effort: prio 2" {
		t.Errorf("IOPRIO_CLASS_BE 2 in a child: ionice says %q", out)
	}
	r := h.Sh("true", io("IOPRIO_CLASS_FOO", 0))
	if r.Code == 0 || !strings.Contains(r.Stderr, "process.ioPriority.class") {
		t.Errorf("unknown class: %v, want an error naming process.ioPriority.class", r)
	}
	b := h.Bundle(args("sleep", "100"))
	id, _ := h.StartDetached(b)
	pj := writeProcess(t, h, &specs.Process{Args: []string{"sh", "-c", "ionice -p $$"}, Cwd: "/",
		IOPriority: &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 1}})
	if out := strings.TrimSpace(h.MustRT("exec", "-p", pj, id).Stdout); out != "best-effort: prio 1" {
		t.Errorf("exec IOPRIO_CLASS_BE 1: ionice says %q", out)
	}
}

func TestProcPersonality(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("LINUX32 shows as i686 on x86_64 only")
	}
	t.Parallel()
	h := newH(t)
	pers := func(d specs.LinuxPersonalityDomain) func(*specs.Spec) {
		return func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: d} }
	}
	if out := strings.TrimSpace(h.MustSh("uname -m", pers(specs.PerLinux32))); out != "i686" {
		t.Errorf("LINUX32: uname -m says %q, want i686", out)
	}
	if out := strings.TrimSpace(h.MustSh("uname -m", pers(specs.PerLinux))); out != "x86_64" {
		t.Errorf("LINUX: uname -m says %q, want x86_64", out)
	}
	r := h.Sh("true", func(s *specs.Spec) {
		s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}}
	})
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux.personality.flags") {
		t.Errorf("personality flag: %v, want an error naming linux.personality.flags", r)
	}
	// Processes of rt exec have the container's personality too.
	b := h.Bundle(args("sleep", "100"), pers(specs.PerLinux32))
	id, _ := h.StartDetached(b)
	if out := strings.TrimSpace(h.MustRT("exec", id, "uname", "-m").Stdout); out != "i686" {
		t.Errorf("exec in a LINUX32 container: uname -m says %q, want i686", out)
	}
}

func TestProcMemoryPolicy(t *testing.T) {
	if !fileExists("/proc/self/numa_maps") {
		t.Skip("kernel without CONFIG_NUMA")
	}
	t.Parallel()
	h := newH(t)
	mp := func(m specs.LinuxMemoryPolicy) func(*specs.Spec) {
		return func(s *specs.Spec) { s.Linux.MemoryPolicy = &m }
	}
	// The policy of the first mapping (the program's text) shows the task's.
	const policy = `head -n 1 /proc/self/numa_maps | cut -d " " -f 2`
	for _, c := range []struct {
		m    specs.LinuxMemoryPolicy
		want string
	}{
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}}, "bind=static:0"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0"}, "interleave:0"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred, Nodes: "0"}, "prefer:0"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolLocal}, "local"},
		{specs.LinuxMemoryPolicy{}, "default"},
	} {
		if out := strings.TrimSpace(h.MustSh(policy, mp(c.m))); out != c.want {
			t.Errorf("%+v: numa_maps says %q, want %q", c.m, out, c.want)
		}
	}
	for _, c := range []struct {
		m     specs.LinuxMemoryPolicy
		field string
	}{
		{specs.LinuxMemoryPolicy{Mode: "INTERLEAVE", Nodes: "0"}, "linux.memoryPolicy.mode"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{"badflag"}}, "linux.memoryPolicy.flags[0]"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-9876543210"}, "linux.memoryPolicy.nodes"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind}, "linux.memoryPolicy.nodes"},
		// Node 1000 does not exist: the kernel says so, rt names the field.
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "1000"}, "linux.memoryPolicy: set_mempolicy"},
	} {
		b := h.Bundle(args("true"), mp(c.m))
		entries := dirNames(h.Root)
		r := h.Run(b, RunOpts{})
		if r.Code == 0 || !strings.Contains(r.Stderr, c.field) {
			t.Errorf("%+v: %v, want an error naming %s", c.m, r, c.field)
		}
		if after := dirNames(h.Root); strings.Join(after, ",") != strings.Join(entries, ",") {
			t.Errorf("%+v: left %v under --root", c.m, after)
		}
	}
	// Processes of rt exec have the container's policy too.
	b := h.Bundle(args("sleep", "100"), mp(specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred, Nodes: "0",
		Flags: []specs.MemoryPolicyFlagType{specs.MpolFRelativeNodes}}))
	id, _ := h.StartDetached(b)
	if out := strings.TrimSpace(h.MustRT("exec", id, "sh", "-c", policy).Stdout); out != "prefer=relative:0" {
		t.Errorf("exec with MPOL_PREFERRED relative 0: numa_maps says %q", out)
	}
}

func TestProcExecCPUAffinity(t *testing.T) {
	if a := hostAffinity(t, os.Getpid()); !strings.HasPrefix(a, "0-") && !strings.HasPrefix(a, "0,1") {
		t.Skipf("needs CPUs 0 and 1 (this test may use %s)", a)
	}
	t.Parallel()
	h := newH(t)
	const cpus = `grep Cpus_allowed_list /proc/self/status | cut -f 2`
	// config.json's execCPUAffinity is the default of rt exec without
	// --process; the runtime-spec does not apply it to the init.
	b := h.Bundle(args("sleep", "100"), func(s *specs.Spec) {
		s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "1", Final: "0"}
	})
	id, pid := h.StartDetached(b)
	if got := hostAffinity(t, pid); got == "0" {
		t.Errorf("the init took execCPUAffinity.final: Cpus_allowed_list %s", got)
	}
	log := filepath.Join(h.Dir, "exec.log")
	out := strings.TrimSpace(h.MustRT("--debug", "--log", log, "exec", id, "sh", "-c", cpus).Stdout)
	if out != "0" {
		t.Errorf("exec with final 0: Cpus_allowed_list %q", out)
	}
	if l := hostFile(t, log); !strings.Contains(l, "CPU affinity 1 before the final one") {
		t.Errorf("exec with initial 1: rt's log does not show the process on CPU 1 before the final affinity:\n%s", l)
	}
	os.Remove(log)
	// process.json: only initial; afterwards the process may use every CPU
	// of the container again.
	pj := writeProcess(t, h, &specs.Process{Args: []string{"sh", "-c", cpus}, Cwd: "/",
		ExecCPUAffinity: &specs.CPUAffinity{Initial: "1"}})
	out = strings.TrimSpace(h.MustRT("--debug", "--log", log, "exec", "-p", pj, id).Stdout)
	if out == "1" {
		t.Errorf("exec with only initial 1: the process stayed on CPU 1")
	}
	if l := hostFile(t, log); !strings.Contains(l, "CPU affinity 1 before the final one") {
		t.Errorf("exec with initial 1: rt's log does not show the process on CPU 1:\n%s", l)
	}
	// Only final.
	pj = writeProcess(t, h, &specs.Process{Args: []string{"sh", "-c", cpus}, Cwd: "/",
		ExecCPUAffinity: &specs.CPUAffinity{Final: "1"}})
	if out := strings.TrimSpace(h.MustRT("exec", "-p", pj, id).Stdout); out != "1" {
		t.Errorf("exec with final 1: Cpus_allowed_list %q", out)
	}
	// Bad lists name the field; CPUs the machine lacks too.
	for _, c := range []struct {
		aff   specs.CPUAffinity
		field string
	}{
		{specs.CPUAffinity{Final: "1-0"}, "process.execCPUAffinity.final"},
		{specs.CPUAffinity{Final: "1000"}, "process.execCPUAffinity.final"},
		{specs.CPUAffinity{Initial: "1000"}, "process.execCPUAffinity.initial"},
	} {
		pj := writeProcess(t, h, &specs.Process{Args: []string{"true"}, Cwd: "/", ExecCPUAffinity: &c.aff})
		if r := h.RT("exec", "-p", pj, id); r.Code == 0 || !strings.Contains(r.Stderr, c.field) {
			t.Errorf("exec with %+v: %v, want an error naming %s", c.aff, r, c.field)
		}
	}
}

func TestNetDevices(t *testing.T) {
	t.Parallel()
	h := newH(t)
	// A dummy interface if the kernel has them, else one end of a veth
	// pair (its peer stays on the host). Both are virtual: they go away
	// with the container's network namespace.
	mk := func(n int) (dev, peer string) {
		dev = "rtnd" + runToken + string(rune('a'+n))
		if exec.Command("ip", "link", "add", dev, "type", "dummy").Run() != nil {
			peer = dev + "p"
			if out, err := exec.Command("ip", "link", "add", dev, "type", "veth", "peer", "name", peer).CombinedOutput(); err != nil {
				t.Skipf("cannot make a test interface: %v: %s", err, out)
			}
		}
		t.Cleanup(func() { exec.Command("ip", "link", "del", dev).Run() })
		return dev, peer
	}
	linkExists := func(n string) bool { return exec.Command("ip", "link", "show", "dev", n).Run() == nil }
	netdevs := func(m map[string]specs.LinuxNetDevice) func(*specs.Spec) {
		return func(s *specs.Spec) { s.Linux.NetDevices = m }
	}

	dev, peer := mk(0)
	if out, err := exec.Command("ip", "addr", "add", "10.77.5.9/24", "dev", dev).CombinedOutput(); err != nil {
		t.Fatalf("ip addr add: %v: %s", err, out)
	}
	b := h.Bundle(args("sleep", "100"), netdevs(map[string]specs.LinuxNetDevice{dev: {Name: "ctnet0"}}))
	id, _ := h.StartDetached(b)
	if linkExists(dev) {
		t.Errorf("%s is still on the host after create", dev)
	}
	got := kv(h.MustRT("exec", id, "sh", "-c",
		`echo names=$(ls /sys/class/net | tr '\n' ' '); echo flags=$(cat /sys/class/net/ctnet0/flags); `+
			`grep -q 10.77.5.9 /proc/net/fib_trie && echo addr=yes`).Stdout)
	if got["names"] != "ctnet0 lo" {
		t.Errorf("interfaces in the container: %q, want ctnet0 and lo", got["names"])
	}
	if f, err := strconv.ParseUint(strings.TrimPrefix(got["flags"], "0x"), 16, 32); err != nil || f&syscall.IFF_UP == 0 {
		t.Errorf("ctnet0 flags %q: not up", got["flags"])
	}
	if got["addr"] != "yes" {
		t.Errorf("ctnet0 lost its address 10.77.5.9")
	}
	h.MustRT("delete", "--force", id)
	// Virtual devices die with the namespace (the kernel would move a
	// physical one back); a veth takes its peer along.
	if !waitFor(10*time.Second, func() bool { return !linkExists(dev) && (peer == "" || !linkExists(peer)) }) {
		t.Errorf("%s (or its peer) still exists after delete", dev)
	}

	// A name ending in %d is numbered by the kernel.
	dev, _ = mk(1)
	out := h.MustSh("ls /sys/class/net | tr '\n' ' '", netdevs(map[string]specs.LinuxNetDevice{dev: {Name: "eth%d"}}))
	if strings.TrimSpace(out) != "eth0 lo" {
		t.Errorf("eth%%d: interfaces in the container %q, want eth0 and lo", out)
	}

	// A create that fails after the move gives the device back, under its
	// host name.
	dev, _ = mk(2)
	b = h.Bundle(args("/no/such/program"), netdevs(map[string]specs.LinuxNetDevice{dev: {Name: "ctnet1"}}))
	if r := h.Run(b, RunOpts{}); r.Code == 0 {
		t.Errorf("run of a missing program succeeded: %v", r)
	}
	if !linkExists(dev) {
		t.Errorf("%s is gone after a failed create, want it back on the host", dev)
	}

	// Refused before anything moves: a missing host device, no new network
	// namespace, a name taken inside.
	for _, c := range []struct {
		name  string
		mut   func(*specs.Spec)
		field string
	}{
		{"missing device", netdevs(map[string]specs.LinuxNetDevice{"rtnd-nosuch": {}}), `linux.netDevices["rtnd-nosuch"]`},
		{"joined netns", func(s *specs.Spec) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{dev: {}}
			for i, ns := range s.Linux.Namespaces {
				if ns.Type == specs.NetworkNamespace {
					s.Linux.Namespaces[i].Path = "/proc/" + strconv.Itoa(os.Getpid()) + "/ns/net"
				}
			}
		}, "linux.netDevices: needs a new network namespace"},
		{"no netns", func(s *specs.Spec) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{dev: {}}
			var keep []specs.LinuxNamespace
			for _, ns := range s.Linux.Namespaces {
				if ns.Type != specs.NetworkNamespace {
					keep = append(keep, ns)
				}
			}
			s.Linux.Namespaces = keep
		}, "linux.netDevices: needs a network namespace"},
		{"lo inside", netdevs(map[string]specs.LinuxNetDevice{dev: {Name: "lo"}}), "linux.netDevices[\"" + dev + "\"].name"},
	} {
		b := h.Bundle(args("true"), c.mut)
		r := h.Run(b, RunOpts{})
		if r.Code == 0 || !strings.Contains(r.Stderr, c.field) {
			t.Errorf("%s: %v, want an error naming %s", c.name, r, c.field)
		}
		if !linkExists(dev) {
			t.Fatalf("%s: %s left the host", c.name, dev)
		}
	}
}

func TestIntelRdtNeedsResctrl(t *testing.T) {
	if strings.Contains(hostFile(t, "/proc/self/mountinfo"), " - resctrl ") {
		t.Skip("resctrl is mounted here; this checks the error without it")
	}
	t.Parallel()
	h := newH(t)
	b := h.Bundle(args("true"), func(s *specs.Spec) {
		s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "rt-test", L3CacheSchema: "L3:0=f"}
	})
	entries := dirNames(h.Root)
	r := h.Run(b, RunOpts{})
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux.intelRdt") || !strings.Contains(r.Stderr, "resctrl") || len(lines(r.Stderr)) != 1 {
		t.Errorf("intelRdt without resctrl: %v, want one line naming linux.intelRdt and resctrl", r)
	}
	if after := dirNames(h.Root); strings.Join(after, ",") != strings.Join(entries, ",") {
		t.Errorf("left %v under --root", after)
	}
}

// writeProcess writes p (with user 0:0 unless set) as a process.json for
// `rt exec --process` and returns its path.
func writeProcess(t *testing.T, h *H, p *specs.Process) string {
	t.Helper()
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(h.Dir, "process-*.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// hostAffinity is Cpus_allowed_list of a host process.
func hostAffinity(t *testing.T, pid int) string {
	for _, l := range lines(hostFile(t, "/proc/"+strconv.Itoa(pid)+"/status")) {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
