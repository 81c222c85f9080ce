//go:build cgo

package seccomp

import (
	"errors"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// archInfo is what rt knows about one SCMP_ARCH_* name.
type archInfo struct {
	name  specs.Arch
	scmp  libseccomp.ScmpArch
	audit uint32 // AUDIT_ARCH_* the kernel reports in seccomp_data.arch
	bits  int    // width of the ABI's system call arguments
}

var archTable = []archInfo{
	{specs.ArchX86, libseccomp.ArchX86, unix.AUDIT_ARCH_I386, 32},
	{specs.ArchX86_64, libseccomp.ArchAMD64, unix.AUDIT_ARCH_X86_64, 64},
	{specs.ArchX32, libseccomp.ArchX32, unix.AUDIT_ARCH_X86_64, 64},
	{specs.ArchARM, libseccomp.ArchARM, unix.AUDIT_ARCH_ARM, 32},
	{specs.ArchAARCH64, libseccomp.ArchARM64, unix.AUDIT_ARCH_AARCH64, 64},
	{specs.ArchMIPS, libseccomp.ArchMIPS, unix.AUDIT_ARCH_MIPS, 32},
	{specs.ArchMIPS64, libseccomp.ArchMIPS64, unix.AUDIT_ARCH_MIPS64, 64},
	{specs.ArchMIPS64N32, libseccomp.ArchMIPS64N32, unix.AUDIT_ARCH_MIPS64N32, 64},
	{specs.ArchMIPSEL, libseccomp.ArchMIPSEL, unix.AUDIT_ARCH_MIPSEL, 32},
	{specs.ArchMIPSEL64, libseccomp.ArchMIPSEL64, unix.AUDIT_ARCH_MIPSEL64, 64},
	{specs.ArchMIPSEL64N32, libseccomp.ArchMIPSEL64N32, unix.AUDIT_ARCH_MIPSEL64N32, 64},
	{specs.ArchPPC, libseccomp.ArchPPC, unix.AUDIT_ARCH_PPC, 32},
	{specs.ArchPPC64, libseccomp.ArchPPC64, unix.AUDIT_ARCH_PPC64, 64},
	{specs.ArchPPC64LE, libseccomp.ArchPPC64LE, unix.AUDIT_ARCH_PPC64LE, 64},
	{specs.ArchS390, libseccomp.ArchS390, unix.AUDIT_ARCH_S390, 32},
	{specs.ArchS390X, libseccomp.ArchS390X, unix.AUDIT_ARCH_S390X, 64},
	{specs.ArchPARISC, libseccomp.ArchPARISC, unix.AUDIT_ARCH_PARISC, 32},
	{specs.ArchPARISC64, libseccomp.ArchPARISC64, unix.AUDIT_ARCH_PARISC64, 64},
	{specs.ArchRISCV64, libseccomp.ArchRISCV64, unix.AUDIT_ARCH_RISCV64, 64},
	{specs.ArchLOONGARCH64, libseccomp.ArchLOONGARCH64, unix.AUDIT_ARCH_LOONGARCH64, 64},
	{specs.ArchM68K, libseccomp.ArchM68K, unix.AUDIT_ARCH_M68K, 32},
	{specs.ArchSH, libseccomp.ArchSH, unix.AUDIT_ARCH_SHEL, 32},
	{specs.ArchSHEB, libseccomp.ArchSHEB, unix.AUDIT_ARCH_SH, 32},
}

func archByName(n specs.Arch) (archInfo, bool) {
	for _, a := range archTable {
		if a.name == n {
			return a, true
		}
	}
	return archInfo{}, false
}

func archByScmp(s libseccomp.ScmpArch) (archInfo, bool) {
	for _, a := range archTable {
		if a.scmp == s {
			return a, true
		}
	}
	return archInfo{}, false
}

var operators = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

// notifyRefused are the system calls SCMP_ACT_NOTIFY may not catch: the
// init makes them after Load and before the listener has reached the
// runtime (and so the agent), or the Go runtime makes them on that thread
// whenever it blocks or takes a signal. Notifying one would hang the
// container's start. runc refuses "write" for the same reason.
var notifyRefused = map[string]bool{
	"write":        true,
	"writev":       true,
	"sendmsg":      true,
	"sendto":       true,
	"futex":        true,
	"rt_sigreturn": true,
}

// maxErrno is the largest errno the kernel passes back (MAX_ERRNO).
const maxErrno = 4095

// Compile compiles a linux.seccomp profile into a classic BPF program with
// libseccomp, adding the ENOSYS prologue described in doc.go. The warnings
// name profile entries that were skipped or have no effect (e.g. system
// calls this libseccomp does not know); the caller shows them to the user.
func Compile(s *specs.LinuxSeccomp) (*Program, []string, error) {
	return compile(s, true)
}

// LibVersion is libseccomp's version and the API level it found in this
// kernel (`rt-seccomp version`).
func LibVersion() string { return libVersion() }

// libVersion identifies the compiler for the cache key: libseccomp's
// version and the API level it found in this kernel.
func libVersion() string {
	ma, mi, mc := libseccomp.GetLibraryVersion()
	api, _ := libseccomp.GetAPI()
	return fmt.Sprintf("libseccomp %d.%d.%d api %d", ma, mi, mc, api)
}

func compile(s *specs.LinuxSeccomp, enosys bool) (*Program, []string, error) {
	if s == nil {
		return nil, nil, errors.New("linux.seccomp: no profile")
	}
	var warn []string
	defAct, err := action(s.DefaultAction, s.DefaultErrnoRet, "linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet")
	if err != nil {
		return nil, nil, err
	}
	if defAct == libseccomp.ActNotify {
		return nil, nil, errors.New("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action: the init could not hand the listener over; notify only the system calls the agent handles")
	}
	flags, waitKill, err := filterFlags(s.Flags)
	if err != nil {
		return nil, nil, err
	}

	filter, err := libseccomp.NewFilter(defAct)
	if err != nil {
		return nil, nil, fmt.Errorf("linux.seccomp.defaultAction: %w", err)
	}
	defer filter.Release()

	inFilter, err := addArches(filter, s.Architectures)
	if err != nil {
		return nil, nil, err
	}
	has32 := false
	for _, a := range inFilter {
		has32 = has32 || a.bits == 32
	}

	names := 0
	for _, sc := range s.Syscalls {
		names += len(sc.Names)
	}
	// A binary tree of syscall numbers instead of a linear list for long
	// profiles. (libseccomp 2.5 misbehaves with the tree and no rules.)
	if names > 32 {
		if err := filter.SetOptimize(2); err != nil {
			warn = append(warn, fmt.Sprintf("linux.seccomp: binary-tree filter not available (%v); the filter is a linear list", err))
		}
	}

	notify := false
	for i := range s.Syscalls {
		w, used, err := addSyscallRule(filter, defAct, s, i, has32)
		if err != nil {
			return nil, nil, err
		}
		warn = append(warn, w...)
		notify = notify || used
	}
	if waitKill {
		if notify {
			flags |= unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
		} else {
			warn = append(warn, "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV applies only to SCMP_ACT_NOTIFY rules and the profile has none; ignored")
		}
	}

	prog, err := exportBPF(filter)
	if err != nil {
		return nil, nil, err
	}
	if enosys && wantENOSYS(defAct) {
		pro, err := enosysPrologue(prog, abisOf(inFilter, s))
		if err != nil {
			return nil, nil, err
		}
		prog = append(pro, prog...)
	}
	p := &Program{BPF: encodeBPF(prog), Flags: flags, Notify: notify}
	if err := p.check(); err != nil {
		return nil, nil, err
	}
	return p, warn, nil
}

// action maps a profile action (with its errnoRet) to libseccomp's.
func action(name specs.LinuxSeccompAction, errnoRet *uint, field, errnoField string) (libseccomp.ScmpAction, error) {
	var a libseccomp.ScmpAction
	switch name {
	case specs.ActKill, specs.ActKillThread:
		a = libseccomp.ActKillThread
	case specs.ActKillProcess:
		a = libseccomp.ActKillProcess
	case specs.ActTrap:
		a = libseccomp.ActTrap
	case specs.ActAllow:
		a = libseccomp.ActAllow
	case specs.ActLog:
		a = libseccomp.ActLog
	case specs.ActNotify:
		a = libseccomp.ActNotify
	case specs.ActErrno, specs.ActTrace:
		code := uint(unix.EPERM)
		if errnoRet != nil {
			code = *errnoRet
		}
		if code > maxErrno {
			return 0, fmt.Errorf("%s: %d is not an errno (the largest is %d)", errnoField, code, maxErrno)
		}
		a = libseccomp.ActErrno
		if name == specs.ActTrace {
			a = libseccomp.ActTrace
		}
		return a.SetReturnCode(int16(code)), nil
	case "":
		return 0, fmt.Errorf("%s: required (e.g. SCMP_ACT_ERRNO)", field)
	default:
		return 0, fmt.Errorf("%s: unknown action %q", field, name)
	}
	if errnoRet != nil {
		return 0, fmt.Errorf("%s: %s returns no errno; only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one: remove it", errnoField, name)
	}
	return a, nil
}

// filterFlags maps linux.seccomp.flags to SECCOMP_FILTER_FLAG_* bits.
// WAIT_KILLABLE_RECV is returned apart: it is only valid with a listener.
func filterFlags(fl []specs.LinuxSeccompFlag) (flags uint, waitKill bool, err error) {
	for i, f := range fl {
		switch f {
		case specs.LinuxSeccompFlagLog:
			flags |= unix.SECCOMP_FILTER_FLAG_LOG
		case specs.LinuxSeccompFlagSpecAllow:
			flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
		case specs.LinuxSeccompFlagWaitKillableRecv:
			waitKill = true
		case "SECCOMP_FILTER_FLAG_TSYNC":
			// The filter goes on the thread that execs; the exec leaves
			// no other thread to synchronise.
		default:
			return 0, false, fmt.Errorf("linux.seccomp.flags[%d]: unknown flag %q", i, f)
		}
	}
	return flags, waitKill, nil
}

// addArches adds the profile's architectures to the filter, which already
// has the native one, and returns all of them.
func addArches(filter *libseccomp.ScmpFilter, names []specs.Arch) ([]archInfo, error) {
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: native architecture: %w", err)
	}
	n, ok := archByScmp(native)
	if !ok {
		return nil, fmt.Errorf("linux.seccomp: native architecture %v is not known to rt", native)
	}
	all := []archInfo{n}
	for i, name := range names {
		a, ok := archByName(name)
		if !ok {
			return nil, fmt.Errorf("linux.seccomp.architectures[%d]: unknown architecture %q", i, name)
		}
		if err := filter.AddArch(a.scmp); err != nil {
			if errors.Is(err, unix.EDOM) {
				return nil, fmt.Errorf("linux.seccomp.architectures[%d]: %s cannot be in one filter with %s: their byte orders differ", i, name, n.name)
			}
			return nil, fmt.Errorf("linux.seccomp.architectures[%d]: %s cannot be added to a filter for %s with %s: %w", i, name, n.name, libVersion(), err)
		}
		all = append(all, a)
	}
	return all, nil
}

// conditions converts a rule's args. Several conditions on different
// arguments are ANDed in one rule. When two conditions name the same
// argument, each condition becomes a rule of its own (so they are ORed),
// as runc does: profiles written for runc rely on it.
func conditions(args []specs.LinuxSeccompArg, field string, has32 bool) ([][]libseccomp.ScmpCondition, []string, error) {
	if len(args) == 0 {
		return [][]libseccomp.ScmpCondition{nil}, nil, nil
	}
	var warn []string
	var conds []libseccomp.ScmpCondition
	var count [6]int
	same := false
	for j, a := range args {
		f := fmt.Sprintf("%s.args[%d]", field, j)
		if a.Index > 5 {
			return nil, nil, fmt.Errorf("%s.index: %d is out of range: system calls have arguments 0 to 5", f, a.Index)
		}
		op, ok := operators[a.Op]
		if !ok {
			if a.Op == "" {
				return nil, nil, fmt.Errorf("%s.op: required (e.g. SCMP_CMP_EQ)", f)
			}
			return nil, nil, fmt.Errorf("%s.op: unknown operator %q", f, a.Op)
		}
		values := []uint64{a.Value}
		if op == libseccomp.CompareMaskedEqual {
			values = append(values, a.ValueTwo)
		} else if a.ValueTwo != 0 {
			warn = append(warn, fmt.Sprintf("%s.valueTwo: only SCMP_CMP_MASKED_EQ uses it; ignored", f))
		}
		if has32 {
			for _, v := range values {
				if v > 0xffffffff {
					warn = append(warn, fmt.Sprintf("%s: %#x has bits above 32: for the profile's 32-bit architectures libseccomp compares the low 32 bits only", f, v))
					break
				}
			}
		}
		c, err := libseccomp.MakeCondition(a.Index, op, values...)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f, err)
		}
		conds = append(conds, c)
		count[a.Index]++
		same = same || count[a.Index] > 1
	}
	if !same {
		return [][]libseccomp.ScmpCondition{conds}, warn, nil
	}
	rules := make([][]libseccomp.ScmpCondition, len(conds))
	for i, c := range conds {
		rules[i] = []libseccomp.ScmpCondition{c}
	}
	return rules, warn, nil
}

// addSyscallRule adds linux.seccomp.syscalls[i] to the filter. It reports
// whether the rule added a SCMP_ACT_NOTIFY action.
func addSyscallRule(filter *libseccomp.ScmpFilter, defAct libseccomp.ScmpAction, s *specs.LinuxSeccomp, i int, has32 bool) ([]string, bool, error) {
	sc := s.Syscalls[i]
	field := fmt.Sprintf("linux.seccomp.syscalls[%d]", i)
	if len(sc.Names) == 0 {
		return nil, false, fmt.Errorf("%s.names: empty: list at least one system call", field)
	}
	act, err := action(sc.Action, sc.ErrnoRet, field+".action", field+".errnoRet")
	if err != nil {
		return nil, false, err
	}
	if act == libseccomp.ActNotify {
		if s.ListenerPath == "" {
			return nil, false, fmt.Errorf("linux.seccomp.listenerPath: required because %s.action is SCMP_ACT_NOTIFY: name the agent's socket", field)
		}
		if api, _ := libseccomp.GetAPI(); api < 6 {
			return nil, false, fmt.Errorf("%s.action: SCMP_ACT_NOTIFY needs libseccomp API level 6 (Linux 5.7+), this is %s", field, libVersion())
		}
	}
	rules, warn, err := conditions(sc.Args, field, has32)
	if err != nil {
		return nil, false, err
	}
	used := false
	for j, name := range sc.Names {
		if name == "" {
			return nil, false, fmt.Errorf("%s.names[%d]: empty system call name", field, j)
		}
		if act == libseccomp.ActNotify && notifyRefused[name] {
			return nil, false, fmt.Errorf("%s.action: SCMP_ACT_NOTIFY cannot be used for %q: rt's init needs it before the listener reaches the agent", field, name)
		}
		nr, err := libseccomp.GetSyscallFromName(name)
		if err != nil {
			warn = append(warn, fmt.Sprintf("%s.names[%d]: unknown system call %q skipped (%s)", field, j, name, libVersion()))
			continue
		}
		if act == defAct {
			// Same as the default: nothing to add (libseccomp refuses it).
			continue
		}
		for _, conds := range rules {
			if len(conds) == 0 {
				err = filter.AddRule(nr, act)
			} else {
				err = filter.AddRuleConditional(nr, act, conds)
			}
			if err != nil {
				return nil, false, fmt.Errorf("%s: adding %q with %s: %w", field, name, sc.Action, err)
			}
		}
		used = used || act == libseccomp.ActNotify
	}
	return warn, used, nil
}

// exportBPF returns libseccomp's program. libseccomp 2.5 exports only to
// a file descriptor, so it goes through a memfd.
func exportBPF(filter *libseccomp.ScmpFilter) ([]unix.SockFilter, error) {
	fd, err := unix.MemfdCreate("rt-seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: exporting the filter: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "rt-seccomp-bpf")
	defer f.Close()
	if err := filter.ExportBPF(f); err != nil {
		return nil, fmt.Errorf("linux.seccomp: exporting the filter: %w", err)
	}
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<24))
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: exporting the filter: %w", err)
	}
	if len(b) == 0 || len(b)%sockFilterSize != 0 {
		return nil, fmt.Errorf("linux.seccomp: libseccomp exported %d bytes, not a BPF program", len(b))
	}
	return decodeBPF(b), nil
}

// wantENOSYS tells whether the prologue is worth adding: not when the
// default already lets new system calls through (ALLOW, LOG; TRACE, whose
// tracer decides, and without a tracer the kernel answers ENOSYS itself)
// or already answers ENOSYS.
func wantENOSYS(def libseccomp.ScmpAction) bool {
	switch def {
	case libseccomp.ActAllow, libseccomp.ActLog:
		return false
	case libseccomp.ActErrno.SetReturnCode(int16(unix.ENOSYS)):
		return false
	}
	return def&0xffff != libseccomp.ActTrace
}

// abisOf groups the filter's architectures by AUDIT_ARCH_* value, with
// bounds raised to the numbers of every name the profile lists, whatever
// the rule's action (a rule equal to the default is not in libseccomp's
// program, yet the profile names it and it keeps the default's answer).
func abisOf(arches []archInfo, s *specs.LinuxSeccomp) []abiBounds {
	var out []abiBounds
	for _, a := range arches {
		i := 0
		for i < len(out) && out[i].audit != a.audit {
			i++
		}
		if i == len(out) {
			out = append(out, abiBounds{audit: a.audit})
		}
		switch a.scmp {
		case libseccomp.ArchX32:
			out[i].x32InFilter = true
		case libseccomp.ArchS390, libseccomp.ArchS390X:
			out[i].s390 = true
		}
	}
	for _, a := range arches {
		b := &out[0]
		for i := range out {
			if out[i].audit == a.audit {
				b = &out[i]
			}
		}
		for _, sc := range s.Syscalls {
			for _, name := range sc.Names {
				if nr, err := libseccomp.GetSyscallFromNameByArch(name, a.scmp); err == nil {
					b.raise(uint32(nr))
				}
			}
		}
	}
	return out
}
