//go:build cgo

package seccomp

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func u(v uint) *uint { return &v }

// runtimeNames are the system calls the child's Go runtime may make on the
// filtered thread after Load; the strict (default ERRNO) test profiles
// allow them.
var runtimeNames = []string{
	"write", "exit", "exit_group", "futex", "mmap", "munmap", "madvise",
	"mprotect", "rt_sigreturn", "rt_sigprocmask", "rt_sigaction",
	"sigaltstack", "nanosleep", "clock_nanosleep", "sched_yield", "getpid",
	"gettid", "tgkill", "clock_gettime", "read", "close",
}

func mustCompile(t *testing.T, s *specs.LinuxSeccomp) *Program {
	t.Helper()
	p, warn, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warn {
		t.Logf("warning: %s", w)
	}
	return p
}

var atFdcwd = func() uint64 { v := int64(unix.AT_FDCWD); return uint64(v) }()

func rule(action specs.LinuxSeccompAction, errnoRet *uint, names ...string) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: names, Action: action, ErrnoRet: errnoRet}
}

func argRule(name string, errnoRet uint, args ...specs.LinuxSeccompArg) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: []string{name}, Action: specs.ActErrno, ErrnoRet: u(errnoRet), Args: args}
}

// TestLoadErrnoActions: ERRNO with and without errnoRet, errnoRet 0 (fake
// success), TRACE without a tracer (ENOSYS) and LOG (allowed).
func TestLoadErrnoActions(t *testing.T) {
	dir := t.TempDir()
	p := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			rule(specs.ActErrno, u(uint(unix.EXDEV)), "mkdir"),
			rule(specs.ActErrno, nil, "mkdirat"),
			rule(specs.ActErrno, u(0), "rmdir"),
			rule(specs.ActTrace, nil, "getppid"),
			rule(specs.ActLog, nil, "getuid"),
		},
	})
	o := runChild(t, childReq{Program: p, Calls: []call{
		{Name: "mkdir", Nr: unix.SYS_MKDIR, Args: [6]uint64{0, 0o755}, Strs: map[int]string{0: filepath.Join(dir, "a")}},
		{Name: "mkdirat", Nr: unix.SYS_MKDIRAT, Args: [6]uint64{atFdcwd, 0, 0o755}, Strs: map[int]string{1: filepath.Join(dir, "b")}},
		{Name: "rmdir", Nr: unix.SYS_RMDIR, Strs: map[int]string{0: filepath.Join(dir, "missing")}},
		{Name: "getppid", Nr: unix.SYS_GETPPID},
		{Name: "getuid", Nr: unix.SYS_GETUID},
		{Name: "mknodat", Nr: unix.SYS_MKNODAT, Args: [6]uint64{atFdcwd, 0, unix.S_IFIFO | 0o600}, Strs: map[int]string{1: filepath.Join(dir, "fifo")}},
	}})
	o.mustLoad(t)
	o.expect(t, "mkdir", unix.EXDEV)
	o.expect(t, "mkdirat", unix.EPERM)
	o.expect(t, "rmdir", 0)             // errnoRet 0: "succeeds" without running (it would be ENOENT)
	o.expect(t, "getppid", unix.ENOSYS) // TRACE without a tracer
	o.expect(t, "getuid", 0)
	o.expect(t, "mknodat", 0) // not in the profile: allowed
	for _, n := range []string{"a", "b"} {
		if _, err := os.Stat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("%s was made despite the filter: %v", n, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "fifo")); err != nil {
		t.Errorf("the allowed mknodat did not run: %v", err)
	}
}

// TestLoadArgs: each operator, 64-bit values, MASKED_EQ, two arguments
// ANDed, and two conditions on one argument (ORed, as runc). The system
// calls used ignore their arguments, so a non-matching call just succeeds.
func TestLoadArgs(t *testing.T) {
	arg := func(i uint, op specs.LinuxSeccompOperator, v, v2 uint64) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: i, Op: op, Value: v, ValueTwo: v2}
	}
	p := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			argRule("getppid", 201, arg(0, specs.OpNotEqual, 7, 0)),
			argRule("getuid", 202, arg(0, specs.OpLessThan, 10, 0)),
			argRule("getgid", 203, arg(0, specs.OpLessEqual, 10, 0)),
			argRule("geteuid", 204, arg(0, specs.OpEqualTo, 0x1_0000_0005, 0)),
			argRule("getegid", 205, arg(0, specs.OpGreaterEqual, 0x1_0000_0000, 0)),
			argRule("getpgrp", 206, arg(0, specs.OpGreaterThan, 100, 0)),
			argRule("munlockall", 207, arg(0, specs.OpMaskedEqual, 0xff00, 0x1200)),
			argRule("inotify_init", 208, arg(0, specs.OpEqualTo, 1, 0), arg(1, specs.OpEqualTo, 2, 0)),
			argRule("getpgid", 209, arg(0, specs.OpEqualTo, 1, 0), arg(0, specs.OpEqualTo, 2, 0)),
		},
	})
	c := func(name string, nr uint64, a0, a1 uint64) call {
		return call{Name: name, Nr: nr, Args: [6]uint64{a0, a1}}
	}
	o := runChild(t, childReq{Program: p, Calls: []call{
		c("ne-7", unix.SYS_GETPPID, 7, 0), c("ne-8", unix.SYS_GETPPID, 8, 0),
		c("lt-9", unix.SYS_GETUID, 9, 0), c("lt-10", unix.SYS_GETUID, 10, 0),
		c("le-10", unix.SYS_GETGID, 10, 0), c("le-11", unix.SYS_GETGID, 11, 0),
		c("eq-hi5", unix.SYS_GETEUID, 0x1_0000_0005, 0), c("eq-5", unix.SYS_GETEUID, 5, 0), c("eq-2hi5", unix.SYS_GETEUID, 0x2_0000_0005, 0),
		c("ge-ffffffff", unix.SYS_GETEGID, 0xffff_ffff, 0), c("ge-1hi", unix.SYS_GETEGID, 0x1_0000_0000, 0), c("ge-max", unix.SYS_GETEGID, ^uint64(0), 0),
		c("gt-100", unix.SYS_GETPGRP, 100, 0), c("gt-101", unix.SYS_GETPGRP, 101, 0), c("gt-top", unix.SYS_GETPGRP, 1<<63, 0),
		c("mask-12ab", unix.SYS_MUNLOCKALL, 0x12ab, 0), c("mask-13ab", unix.SYS_MUNLOCKALL, 0x13ab, 0), c("mask-hi12ab", unix.SYS_MUNLOCKALL, 1<<40|0x12ab, 0),
		c("and-1-2", unix.SYS_INOTIFY_INIT, 1, 2), c("and-1-3", unix.SYS_INOTIFY_INIT, 1, 3), c("and-0-2", unix.SYS_INOTIFY_INIT, 0, 2),
		c("or-1", unix.SYS_GETPGID, 1, 0), c("or-2", unix.SYS_GETPGID, 2, 0), c("or-0", unix.SYS_GETPGID, 0, 0),
	}})
	o.mustLoad(t)
	for name, want := range map[string]unix.Errno{
		"ne-7": 0, "ne-8": 201,
		"lt-9": 202, "lt-10": 0,
		"le-10": 203, "le-11": 0,
		"eq-hi5": 204, "eq-5": 0, "eq-2hi5": 0,
		"ge-ffffffff": 0, "ge-1hi": 205, "ge-max": 205,
		"gt-100": 0, "gt-101": 206, "gt-top": 206,
		"mask-12ab": 207, "mask-13ab": 0, "mask-hi12ab": 207,
		"and-1-2": 208, "and-1-3": 0, "and-0-2": 0,
		"or-1": 209, "or-2": 209, "or-0": 0,
	} {
		o.expect(t, name, want)
	}
}

// TestLoadENOSYS: with a strict default, a system call above the highest
// one the profile names gets ENOSYS, one below it gets the default errno,
// a listed-but-denied one keeps its errno; the same for x32 numbers, which
// keep their own bound under AUDIT_ARCH_X86_64. Without the prologue the
// same calls get the default errno.
func TestLoadENOSYS(t *testing.T) {
	s := &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: u(uint(unix.EDOM)),
		Architectures:   []specs.Arch{specs.ArchX86_64, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			rule(specs.ActAllow, nil, runtimeNames...),
			rule(specs.ActErrno, u(uint(unix.ELOOP)), "openat2"),
		},
	}
	const x32 = x32SyscallBit
	calls := []call{
		{Name: "mkdirat", Nr: unix.SYS_MKDIRAT, Args: [6]uint64{atFdcwd, 0, 0o755}, Strs: map[int]string{1: filepath.Join(t.TempDir(), "d")}},
		{Name: "clone3", Nr: unix.SYS_CLONE3},
		{Name: "openat2", Nr: unix.SYS_OPENAT2},
		{Name: "pidfd_getfd", Nr: unix.SYS_PIDFD_GETFD, Args: [6]uint64{^uint64(0), ^uint64(0)}},
		{Name: "faccessat2", Nr: unix.SYS_FACCESSAT2, Args: [6]uint64{atFdcwd}, Strs: map[int]string{1: "/"}},
		{Name: "x32-mkdirat", Nr: x32 | unix.SYS_MKDIRAT},
		{Name: "x32-500", Nr: x32 | 500},
		{Name: "x32-openat2", Nr: x32 | unix.SYS_OPENAT2},
		{Name: "x32-600", Nr: x32 | 600},
	}

	o := runChild(t, childReq{Program: mustCompile(t, s), Calls: calls})
	o.mustLoad(t)
	o.expect(t, "mkdirat", unix.EDOM)
	o.expect(t, "clone3", unix.EDOM)
	o.expect(t, "openat2", unix.ELOOP)
	o.expect(t, "pidfd_getfd", unix.ENOSYS)
	o.expect(t, "faccessat2", unix.ENOSYS)
	o.expect(t, "x32-mkdirat", unix.EDOM)
	o.expect(t, "x32-500", unix.EDOM)
	o.expect(t, "x32-openat2", unix.ELOOP)
	o.expect(t, "x32-600", unix.ENOSYS)

	plain, _, err := compile(s, false)
	if err != nil {
		t.Fatal(err)
	}
	o = runChild(t, childReq{Program: plain, Calls: calls})
	o.mustLoad(t)
	for _, n := range []string{"pidfd_getfd", "faccessat2", "x32-600"} {
		o.expect(t, n, unix.EDOM)
	}
}

// TestLoadKill: KILL_PROCESS kills the Go child; KILL / KILL_THREAD and TRAP
// kill an exec'd single-threaded program with SIGSYS before it acts.
func TestLoadKill(t *testing.T) {
	t.Run("KILL_PROCESS", func(t *testing.T) {
		p := mustCompile(t, &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{rule(specs.ActKillProcess, nil, "getppid")},
		})
		o := runChild(t, childReq{Program: p, Calls: []call{{Name: "getppid", Nr: unix.SYS_GETPPID}}})
		if !o.signaledBy(unix.SIGSYS) || len(o.results) != 0 {
			t.Fatalf("want the child killed by SIGSYS before reporting, got %v, results %v, stderr %q", o.state, o.results, o.stderr)
		}
	})
	for _, act := range []specs.LinuxSeccompAction{specs.ActKill, specs.ActKillThread, specs.ActTrap} {
		t.Run(string(act), func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "x")
			p := mustCompile(t, &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls:      []specs.LinuxSyscall{rule(act, nil, "mkdir", "mkdirat")},
			})
			o := runChild(t, childReq{Program: p, Exec: []string{"/bin/mkdir", target}})
			o.mustLoad(t)
			if !o.signaledBy(unix.SIGSYS) {
				t.Errorf("want mkdir killed by SIGSYS, got %v, output %q, stderr %q", o.state, o.rest, o.stderr)
			}
			if _, err := os.Stat(target); !os.IsNotExist(err) {
				t.Errorf("mkdir made %s: %v", target, err)
			}
		})
	}
	t.Run("TRAP-in-Go", func(t *testing.T) {
		p := mustCompile(t, &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{rule(specs.ActTrap, nil, "getppid")},
		})
		o := runChild(t, childReq{Program: p, Calls: []call{{Name: "getppid", Nr: unix.SYS_GETPPID}}})
		// The Go runtime turns a SIGSYS from seccomp (si_code SYS_SECCOMP=1) into a crash.
		if o.state.ExitCode() != 2 || !strings.Contains(o.stderr, "SIGSYS: bad system call") || !strings.Contains(o.stderr, "sigcode=1") {
			t.Fatalf("want a Go SIGSYS crash with sigcode=1, got %v, stderr %q", o.state, o.stderr)
		}
	})
}

// TestLoadFlags: LOG and SPEC_ALLOW reach seccomp(2) and are accepted.
func TestLoadFlags(t *testing.T) {
	p := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, "SECCOMP_FILTER_FLAG_TSYNC"},
		Syscalls:      []specs.LinuxSyscall{rule(specs.ActErrno, u(uint(unix.EXDEV)), "getppid")},
	})
	if p.Flags != unix.SECCOMP_FILTER_FLAG_LOG|unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW {
		t.Fatalf("flags %#x", p.Flags)
	}
	o := runChild(t, childReq{Program: p, Calls: []call{{Name: "getppid", Nr: unix.SYS_GETPPID}}})
	o.mustLoad(t)
	o.expect(t, "getppid", unix.EXDEV)
}

// TestLoadNeedsNoNewPrivs: without no_new_privs and without CAP_SYS_ADMIN
// the kernel refuses, and the error says what to do; with CAP_SYS_ADMIN
// alone it loads.
func TestLoadNeedsNoNewPrivs(t *testing.T) {
	p := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{rule(specs.ActErrno, nil, "getppid")},
	})
	o := runChild(t, childReq{Program: p, NoNNP: true, DropCaps: true})
	if o.loaded || !strings.Contains(o.loadErr, "no_new_privs") || !strings.Contains(o.loadErr, "CAP_SYS_ADMIN") {
		t.Fatalf("want a load error naming no_new_privs, got loaded=%v %q", o.loaded, o.loadErr)
	}
	if os.Geteuid() == 0 {
		o = runChild(t, childReq{Program: p, NoNNP: true, Calls: []call{{Name: "getppid", Nr: unix.SYS_GETPPID}}})
		o.mustLoad(t)
		o.expect(t, "getppid", unix.EPERM)
	}
}

// TestLoadRejects: programs Load refuses before any system call, and the
// kernel probe that names an unsupported flag.
func TestLoadRejects(t *testing.T) {
	good := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{rule(specs.ActErrno, nil, "getppid")}})
	for name, c := range map[string]struct {
		p    *Program
		want string
	}{
		"nil":           {nil, "no compiled program"},
		"empty":         {&Program{}, "empty"},
		"partial":       {&Program{BPF: make([]byte, 7)}, "not a whole number"},
		"too long":      {&Program{BPF: make([]byte, 8*(maxInsns+1))}, "more than the kernel's limit"},
		"unknown flag":  {&Program{BPF: good.BPF, Flags: 1 << 12}, "linux.seccomp.flags: unknown filter flag bits 0x1000"},
		"wait killable": {&Program{BPF: good.BPF, Flags: unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV}, "needs a rule with SCMP_ACT_NOTIFY"},
	} {
		fd, err := Load(c.p)
		if err == nil || fd != -1 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Load = %d, %v; want an error with %q", name, fd, err, c.want)
		}
	}
	// seccomp(2) with a NULL program installs nothing: EINVAL for an
	// unknown flag, EFAULT for a known one.
	err := unsupportedFlag(&Program{}, 1<<12|unix.SECCOMP_FILTER_FLAG_LOG)
	if err == nil || !strings.Contains(err.Error(), "linux.seccomp.flags: filter flag 0x1000 is not supported by this kernel") {
		t.Errorf("unsupportedFlag = %v", err)
	}
	if err := unsupportedFlag(&Program{Notify: true}, unix.SECCOMP_FILTER_FLAG_LOG|unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV); err != nil {
		t.Errorf("supported flags reported: %v", err)
	}
}

// loadDefaultProfile reads the Docker-like profile in shared/perf; it may be
// a seccomp object or a whole config.json.
func loadDefaultProfile(t testing.TB) *specs.LinuxSeccomp {
	t.Helper()
	// RT_SHARED (set by make test), else shared/ beside the repository.
	shared := os.Getenv("RT_SHARED")
	if shared == "" {
		shared = filepath.Join("..", "..", "..", "shared")
	}
	path := filepath.Join(shared, "perf", "seccomp-default.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("default profile: %v (set RT_SHARED)", err)
	}
	var cfg specs.Spec
	if err := json.Unmarshal(b, &cfg); err == nil && cfg.Linux != nil && cfg.Linux.Seccomp != nil {
		return cfg.Linux.Seccomp
	}
	var s specs.LinuxSeccomp
	if err := json.Unmarshal(b, &s); err != nil || s.DefaultAction == "" {
		t.Fatalf("%s is neither a seccomp object nor a config with linux.seccomp: %v", path, err)
	}
	return &s
}

// TestDefaultProfile: the Docker-like default profile leaves a busybox
// workload working (files, fork+exec) and denies unshare and mount with
// EPERM; clone3 gets its listed ENOSYS, and a call newer than the profile
// gets ENOSYS from the prologue (EPERM without it).
func TestDefaultProfile(t *testing.T) {
	s := loadDefaultProfile(t)
	dir := t.TempDir()
	calls := []call{
		{Name: "unshare", Nr: unix.SYS_UNSHARE, Args: [6]uint64{unix.CLONE_NEWNS}},
		{Name: "mount", Nr: unix.SYS_MOUNT, Strs: map[int]string{0: "none", 1: "/nonexistent-rt-seccomp-test", 2: "tmpfs"}},
		{Name: "clone3", Nr: unix.SYS_CLONE3},
		{Name: "cachestat", Nr: unix.SYS_CACHESTAT, Args: [6]uint64{^uint64(0)}},
		{Name: "getppid", Nr: unix.SYS_GETPPID},
		{Name: "personality-query", Nr: unix.SYS_PERSONALITY, Args: [6]uint64{0xffffffff}},
		{Name: "personality-set", Nr: unix.SYS_PERSONALITY, Args: [6]uint64{0x0040000}},
		{Name: "socket-vsock", Nr: unix.SYS_SOCKET, Args: [6]uint64{unix.AF_VSOCK, unix.SOCK_STREAM}},
		{Name: "socket-unix", Nr: unix.SYS_SOCKET, Args: [6]uint64{unix.AF_UNIX, unix.SOCK_STREAM}},
	}
	script := `D=` + dir + `
echo hello > "$D/f" && cat "$D/f"
/bin/true && echo exec-ok
busybox mkdir "$D/d" && busybox ls "$D" | busybox tr '\n' ' ' && echo
if busybox unshare -m /bin/true 2>"$D/err"; then echo unshare-allowed; else echo unshare-denied; cat "$D/err"; fi
`
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("no busybox")
	}
	o := runChild(t, childReq{Program: mustCompile(t, s), Calls: calls, Exec: []string{busybox, "sh", "-c", script}})
	o.mustLoad(t)
	o.expect(t, "unshare", unix.EPERM)
	o.expect(t, "mount", unix.EPERM)
	o.expect(t, "clone3", unix.ENOSYS)
	o.expect(t, "cachestat", unix.ENOSYS)
	o.expect(t, "getppid", 0)
	o.expect(t, "personality-query", 0)
	o.expect(t, "personality-set", unix.EPERM)
	o.expect(t, "socket-vsock", unix.EPERM)
	o.expect(t, "socket-unix", 0)
	if !o.state.Success() {
		t.Errorf("busybox sh failed: %v, stderr %q", o.state, o.stderr)
	}
	for _, want := range []string{"hello", "exec-ok", "d f", "unshare-denied", "Operation not permitted"} {
		if !strings.Contains(o.rest, want) {
			t.Errorf("workload output lacks %q:\n%s\nstderr: %s", want, o.rest, o.stderr)
		}
	}

	plain, _, err := compile(s, false)
	if err != nil {
		t.Fatal(err)
	}
	o = runChild(t, childReq{Program: plain, Calls: calls[3:4]})
	o.mustLoad(t)
	o.expect(t, "cachestat", unix.EPERM)
}
