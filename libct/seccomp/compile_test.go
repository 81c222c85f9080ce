//go:build cgo

package seccomp

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestCompileFieldErrors(t *testing.T) {
	allow := func(names ...string) specs.LinuxSyscall { return rule(specs.ActAllow, nil, names...) }
	base := func(sc ...specs.LinuxSyscall) *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: sc}
	}
	withArgs := func(args ...specs.LinuxSeccompArg) *specs.LinuxSeccomp {
		return base(allow("read"), specs.LinuxSyscall{Names: []string{"personality"}, Action: specs.ActAllow, Args: args})
	}
	for _, c := range []struct {
		name string
		s    *specs.LinuxSeccomp
		want string
	}{
		{"nil", nil, "linux.seccomp: no profile"},
		{"no default", &specs.LinuxSeccomp{}, "linux.seccomp.defaultAction: required"},
		{"unknown default", &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_FOO"}, `linux.seccomp.defaultAction: unknown action "SCMP_ACT_FOO"`},
		{"notify default", &specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: "/x"}, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"},
		{"errno on allow default", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, DefaultErrnoRet: u(1)}, "linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW returns no errno"},
		{"errno too big", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: u(5000)}, "linux.seccomp.defaultErrnoRet: 5000 is not an errno"},
		{"unknown arch", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86, "SCMP_ARCH_FOO"}}, `linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_FOO"`},
		{"arch libseccomp lacks", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchM68K}}, "linux.seccomp.architectures[0]: SCMP_ARCH_M68K cannot be added"},
		{"big-endian arch", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchS390X}}, "linux.seccomp.architectures[0]: SCMP_ARCH_S390X cannot be in one filter with"},
		{"unknown flag", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, "SECCOMP_FILTER_FLAG_FOO"}}, `linux.seccomp.flags[1]: unknown flag "SECCOMP_FILTER_FLAG_FOO"`},
		{"unknown action", base(allow("read"), allow("write"), allow("close"), rule("SCMP_ACT_FOO", nil, "openat")), `linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"`},
		{"no action", base(rule("", nil, "openat")), "linux.seccomp.syscalls[0].action: required"},
		{"no names", base(specs.LinuxSyscall{Action: specs.ActAllow}), "linux.seccomp.syscalls[0].names: empty"},
		{"empty name", base(allow("read", "")), "linux.seccomp.syscalls[0].names[1]: empty system call name"},
		{"errnoRet on allow", base(rule(specs.ActAllow, u(1), "read")), "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_ALLOW returns no errno"},
		{"errnoRet on kill", base(rule(specs.ActKillProcess, u(1), "read")), "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_KILL_PROCESS returns no errno"},
		{"errnoRet too big", base(rule(specs.ActErrno, u(70000), "read")), "linux.seccomp.syscalls[0].errnoRet: 70000 is not an errno"},
		{"arg index", withArgs(specs.LinuxSeccompArg{Index: 0, Op: specs.OpEqualTo}, specs.LinuxSeccompArg{Index: 6, Op: specs.OpEqualTo}), "linux.seccomp.syscalls[1].args[1].index: 6 is out of range"},
		{"unknown op", withArgs(specs.LinuxSeccompArg{Index: 0, Op: "SCMP_CMP_FOO"}), `linux.seccomp.syscalls[1].args[0].op: unknown operator "SCMP_CMP_FOO"`},
		{"no op", withArgs(specs.LinuxSeccompArg{Index: 0}), "linux.seccomp.syscalls[1].args[0].op: required"},
		{"notify without listener", base(rule(specs.ActNotify, nil, "mknod")), "linux.seccomp.listenerPath: required because linux.seccomp.syscalls[0].action is SCMP_ACT_NOTIFY"},
		{"notify on write", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/x", Syscalls: []specs.LinuxSyscall{rule(specs.ActNotify, nil, "mknod", "write")}}, `linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY cannot be used for "write"`},
		{"notify on sendmsg", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/x", Syscalls: []specs.LinuxSyscall{rule(specs.ActNotify, nil, "sendmsg")}}, `SCMP_ACT_NOTIFY cannot be used for "sendmsg"`},
	} {
		p, _, err := Compile(c.s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Compile = %v, %v; want an error with %q", c.name, p, err, c.want)
		}
	}
}

func TestCompileWarnings(t *testing.T) {
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86},
		Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv},
		Syscalls: []specs.LinuxSyscall{
			rule(specs.ActAllow, nil, "read", "foo_bar", "write"),
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{
				{Index: 0, Op: specs.OpEqualTo, Value: 8, ValueTwo: 3},
				{Index: 1, Op: specs.OpEqualTo, Value: 1 << 40},
			}},
		},
	}
	p, warn, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(warn, "\n")
	for _, want := range []string{
		`linux.seccomp.syscalls[0].names[1]: unknown system call "foo_bar" skipped`,
		"linux.seccomp.syscalls[1].args[0].valueTwo: only SCMP_CMP_MASKED_EQ uses it",
		"linux.seccomp.syscalls[1].args[1]: 0x10000000000 has bits above 32",
		"linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV applies only to SCMP_ACT_NOTIFY rules",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	if len(warn) != 4 {
		t.Errorf("%d warnings, want 4:\n%s", len(warn), all)
	}
	if p.Flags != 0 || p.Notify {
		t.Errorf("flags %#x notify %v", p.Flags, p.Notify)
	}
}

func TestCompileDefaultProfile(t *testing.T) {
	p, warn, err := Compile(loadDefaultProfile(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(warn) != 0 {
		t.Errorf("warnings: %q", warn)
	}
	if p.Flags != 0 || p.Notify || p.Len() < 100 || p.Len() > maxInsns {
		t.Errorf("program: %d instructions, flags %#x, notify %v", p.Len(), p.Flags, p.Notify)
	}
	t.Logf("default profile: %d instructions", p.Len())
}

// TestProgramJSON: the Program survives the bootstrap message.
func TestProgramJSON(t *testing.T) {
	p := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		ListenerPath:  "/run/agent.sock",
		Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagWaitKillableRecv},
		Syscalls:      []specs.LinuxSyscall{rule(specs.ActNotify, nil, "mknod")},
	})
	j, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q Program
	if err := json.Unmarshal(j, &q); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.BPF, q.BPF) || q.Flags != unix.SECCOMP_FILTER_FLAG_LOG|unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV || !q.Notify {
		t.Errorf("round trip: %s", j)
	}
	if err := q.check(); err != nil {
		t.Error(err)
	}
}

// TestCompileDeterministic: the same profile compiles to the same bytes
// (the cache and the bootstrap message rely on it).
func TestCompileDeterministic(t *testing.T) {
	s := loadDefaultProfile(t)
	a, b := mustCompile(t, s), mustCompile(t, s)
	if !bytes.Equal(a.BPF, b.BPF) {
		t.Error("two compilations of one profile differ")
	}
}
