//go:build cgo

package seccomp

import (
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

func nativeAudit() uint32 {
	n, err := libseccomp.GetNativeArch()
	if err != nil {
		return 0
	}
	a, _ := archByScmp(n)
	return a.audit
}

// The prologue is checked against libseccomp's own program in the BPF
// interpreter, for inputs no process here can make: i386, x32 without x32
// in the profile, foreign arches, numbers far out of range.

func compileBoth(t *testing.T, s *specs.LinuxSeccomp) (patched, plain []unix.SockFilter) {
	t.Helper()
	p, _, err := compile(s, true)
	if err != nil {
		t.Fatal(err)
	}
	q, _, err := compile(s, false)
	if err != nil {
		t.Fatal(err)
	}
	return decodeBPF(p.BPF), decodeBPF(q.BPF)
}

func eval(t *testing.T, prog []unix.SockFilter, arch, nr uint32, args [6]uint64) uint32 {
	t.Helper()
	r, err := runBPF(prog, seccompData{nr: nr, arch: arch, args: args})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sweep is the set of numbers tried for one arch.
func sweep() []uint32 {
	var ns []uint32
	for n := uint32(0); n < 1100; n++ {
		ns = append(ns, n, x32SyscallBit|n)
	}
	return append(ns, 0x3fffffff, 0x7fffffff, 0x80000000, 0xbfffffff, 0xc0000000, 0xffffd8ec, 0xfffffff0, 0xffffffff)
}

// checkAgainstPlain asserts the prologue's contract for one arch (and one
// class of numbers, x32 or not): the patched program answers exactly as
// libseccomp's, except that above some bound every number that got the
// default action gets ENOSYS instead. It returns that bound (the first
// ENOSYS number), or -1.
func checkAgainstPlain(t *testing.T, patched, plain []unix.SockFilter, arch uint32, nums []uint32, args [6]uint64, def uint32) int64 {
	t.Helper()
	first := int64(-1)
	for _, nr := range nums {
		rp, rb := eval(t, patched, arch, nr, args), eval(t, plain, arch, nr, args)
		if rp == rb {
			if first >= 0 && rb == def && rp != retENOSYS {
				t.Errorf("arch %#x nr %#x: default %#x above the ENOSYS bound %#x", arch, nr, rb, first)
			}
			continue
		}
		if rp != retENOSYS || rb != def {
			t.Fatalf("arch %#x nr %#x: patched %#x, libseccomp %#x (default %#x)", arch, nr, rp, rb, def)
		}
		if first < 0 {
			first = int64(nr)
		}
	}
	return first
}

func split(nums []uint32) (low, x32 []uint32) {
	for _, n := range nums {
		if n >= x32SyscallBit {
			x32 = append(x32, n)
		} else {
			low = append(low, n)
		}
	}
	return low, x32
}

func TestENOSYSPrologue(t *testing.T) {
	if nativeAudit() != unix.AUDIT_ARCH_X86_64 {
		t.Skip("expectations are written for x86_64")
	}
	errno := func(e unix.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e) }
	personality := specs.LinuxSyscall{Names: []string{"personality"}, Action: specs.ActAllow,
		Args: []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpEqualTo, Value: 8}}}
	cases := []struct {
		name string
		s    *specs.LinuxSeccomp
		def  uint32
		// want: first ENOSYS number per (arch, x32 class); -1 = none.
		want map[string]int64
	}{
		{
			name: "x86_64 only",
			s: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
				rule(specs.ActAllow, nil, "read", "write", "openat"), personality,
			}},
			def: errno(unix.EPERM),
			// x32 numbers are not touched: libseccomp kills them as a bad arch.
			want: map[string]int64{"x86_64": unix.SYS_OPENAT + 1, "x86_64/x32": -1, "i386": -1},
		},
		{
			name: "with x32 and i386",
			s: &specs.LinuxSeccomp{DefaultAction: specs.ActKillProcess,
				Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
				Syscalls: []specs.LinuxSyscall{
					rule(specs.ActAllow, nil, "read", "rt_sigreturn"),
					rule(specs.ActErrno, u(5), "openat2"),
				}},
			def: unix.SECCOMP_RET_KILL_PROCESS,
			want: map[string]int64{
				"x86_64":     unix.SYS_OPENAT2 + 1,
				"x86_64/x32": x32SyscallBit | 514, // x32 rt_sigreturn is 513
				"i386":       437 + 1,
			},
		},
		{
			// i386 multiplexes socket(2) through socketcall; libseccomp
			// also matches the direct call (359), which a name lookup
			// (socket -> pseudo number) would miss.
			name: "i386 socket",
			s: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
				Architectures: []specs.Arch{specs.ArchX86},
				Syscalls:      []specs.LinuxSyscall{rule(specs.ActAllow, nil, "read", "socket")}},
			def:  errno(unix.EPERM),
			want: map[string]int64{"x86_64": unix.SYS_SOCKET + 1, "x86_64/x32": -1, "i386": 359 + 1},
		},
		{
			name: "foreign arch",
			s: &specs.LinuxSeccomp{DefaultAction: specs.ActTrap,
				Architectures: []specs.Arch{specs.ArchAARCH64},
				Syscalls:      []specs.LinuxSyscall{rule(specs.ActAllow, nil, "read", "mkdirat")}},
			def:  unix.SECCOMP_RET_TRAP,
			want: map[string]int64{"x86_64": unix.SYS_MKDIRAT + 1, "aarch64": 63 + 1, "i386": -1}, // read is 63 on aarch64
		},
		{
			name: "redundant rules still count",
			s: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
				rule(specs.ActAllow, nil, "read"),
				rule(specs.ActErrno, nil, "getppid"), // same as the default: not in the filter
			}},
			def: errno(unix.EPERM),
			// libseccomp's program does not compare getppid (110), but the
			// profile names it: it keeps EPERM, ENOSYS starts above it.
			want: map[string]int64{"x86_64": unix.SYS_GETPPID + 1},
		},
	}
	arches := map[string]uint32{"x86_64": unix.AUDIT_ARCH_X86_64, "i386": unix.AUDIT_ARCH_I386, "aarch64": unix.AUDIT_ARCH_AARCH64}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			patched, plain := compileBoth(t, c.s)
			for key, want := range c.want {
				arch, class, _ := strings.Cut(key, "/")
				low, hi := split(sweep())
				nums := low
				if class == "x32" {
					nums = hi
				}
				got := checkAgainstPlain(t, patched, plain, arches[arch], nums, [6]uint64{}, c.def)
				if got != want {
					t.Errorf("%s: first ENOSYS at %#x, want %#x", key, got, want)
				}
			}
			// Unknown arch: libseccomp's bad-arch action, untouched.
			for _, nr := range []uint32{0, 500, 0xffffffff} {
				if rp, rb := eval(t, patched, 0x1234, nr, [6]uint64{}), eval(t, plain, 0x1234, nr, [6]uint64{}); rp != rb {
					t.Errorf("unknown arch nr %d: %#x vs %#x", nr, rp, rb)
				}
			}
		})
	}
}

// TestENOSYSDefaultProfile runs the contract over the Docker-like profile
// with argument values its rules test.
func TestENOSYSDefaultProfile(t *testing.T) {
	if nativeAudit() != unix.AUDIT_ARCH_X86_64 {
		t.Skip("expectations are written for x86_64")
	}
	patched, plain := compileBoth(t, loadDefaultProfile(t))
	def := unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	low, hi := split(sweep())
	for _, args := range [][6]uint64{{}, {8}, {40}, {0xffffffff}, {0x7e020000}} {
		for _, a := range []struct {
			arch uint32
			nums []uint32
			want int64
		}{
			{unix.AUDIT_ARCH_X86_64, low, 450},                // futex_waitv (449) is the last it names
			{unix.AUDIT_ARCH_X86_64, hi, x32SyscallBit | 548}, // x32 numbers end at 547
			{unix.AUDIT_ARCH_I386, low, 450},
			{unix.AUDIT_ARCH_I386, hi, 0x3fffffff + 1},
		} {
			if got := checkAgainstPlain(t, patched, plain, a.arch, a.nums, args, def); got != a.want {
				t.Errorf("arch %#x args %v: first ENOSYS %#x, want %#x", a.arch, args, got, a.want)
			}
		}
	}
}

// TestENOSYSSkipped: no prologue when the default already lets new calls
// through or already answers ENOSYS.
func TestENOSYSSkipped(t *testing.T) {
	for _, s := range []*specs.LinuxSeccomp{
		{DefaultAction: specs.ActAllow},
		{DefaultAction: specs.ActLog},
		{DefaultAction: specs.ActTrace},
		{DefaultAction: specs.ActErrno, DefaultErrnoRet: u(uint(unix.ENOSYS))},
	} {
		s.Syscalls = []specs.LinuxSyscall{rule(specs.ActKillProcess, nil, "mount")}
		patched, plain := compileBoth(t, s)
		if len(patched) != len(plain) {
			t.Errorf("%s: prologue of %d instructions added", s.DefaultAction, len(patched)-len(plain))
		}
	}
}

// TestComparedNumbersMerge: a comparison reached with the arch unknown on
// one path counts for every arch.
func TestComparedNumbersMerge(t *testing.T) {
	j := func(op uint16, k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | op | unix.BPF_K, K: k, Jt: jt, Jf: jf}
	}
	ld := func(off uint32) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}
	}
	ret := unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K}
	prog := []unix.SockFilter{
		ld(offArch),
		j(unix.BPF_JEQ, 1, 0, 2), // arch 1 -> 2, else -> 4
		ld(offNr),
		j(unix.BPF_JEQ, 10, 0, 0), // arch 1 only
		ld(offNr),                 // reached from arch 1 and from "not 1"
		j(unix.BPF_JEQ, 20, 0, 0),
		ret,
	}
	got := comparedNumbers(prog)
	if fmt.Sprint(got[1]) != "[10 20]" || len(got) != 1 {
		t.Errorf("comparedNumbers = %v", got)
	}
}
