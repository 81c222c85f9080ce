package cgroups

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// String disassembles the instructions compileDevices emits.
func (i bpfInsn) String() string {
	reg := func(r uint8) string { return fmt.Sprintf("r%d", r) }
	cls, op, src := i.code&0x07, i.code&0xf0, i.code&0x08
	switch {
	case i.code == unix.BPF_LDX|unix.BPF_MEM|unix.BPF_W:
		return fmt.Sprintf("ldxw %s, [%s%+d]", reg(i.dst()), reg(i.src()), i.off)
	case cls == unix.BPF_ALU:
		name := map[uint8]string{unix.BPF_AND: "and32", unix.BPF_RSH: "rsh32", unix.BPF_MOV: "mov32"}[op]
		if src == unix.BPF_X {
			return fmt.Sprintf("%s %s, %s", name, reg(i.dst()), reg(i.src()))
		}
		return fmt.Sprintf("%s %s, %#x", name, reg(i.dst()), uint32(i.imm))
	case i.code == unix.BPF_JMP|unix.BPF_EXIT:
		return "exit"
	case cls == unix.BPF_JMP:
		name := map[uint8]string{unix.BPF_JNE: "jne", unix.BPF_JEQ: "jeq"}[op]
		if src == unix.BPF_X {
			return fmt.Sprintf("%s %s, %s, %+d", name, reg(i.dst()), reg(i.src()), i.off)
		}
		return fmt.Sprintf("%s %s, %#x, %+d", name, reg(i.dst()), uint32(i.imm), i.off)
	}
	return fmt.Sprintf("unknown %#02x", i.code)
}

func disasm(prog []bpfInsn) string {
	var b strings.Builder
	for _, i := range prog {
		b.WriteString(i.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func devRules(t *testing.T, rules ...specs.LinuxDeviceCgroup) []devRule {
	t.Helper()
	r, err := parseDeviceRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var (
	denyAll  = specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	allowAll = specs.LinuxDeviceCgroup{Allow: true, Type: "a"}
)

func dev(allow bool, typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	d := specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Access: access}
	if major != -2 {
		d.Major = ptr(major)
	}
	if minor != -2 {
		d.Minor = ptr(minor)
	}
	return d
}

const prologue = `ldxw r2, [r1+0]
and32 r2, 0xffff
ldxw r3, [r1+0]
rsh32 r3, 0x10
ldxw r4, [r1+4]
ldxw r5, [r1+8]
`

func TestCompileDevicesGolden(t *testing.T) {
	for _, c := range []struct {
		name  string
		rules []specs.LinuxDeviceCgroup
		want  string
	}{
		{"empty", nil, prologue + "mov32 r0, 0x0\nexit\n"},
		{"deny all", []specs.LinuxDeviceCgroup{denyAll}, prologue + "mov32 r0, 0x0\nexit\n"},
		{
			// What comes before an "a" rule does not matter.
			"allow all", []specs.LinuxDeviceCgroup{dev(true, "c", 1, 3, "rwm"), denyAll, allowAll},
			prologue + "mov32 r0, 0x1\nexit\n",
		},
		{
			"deny all, allow null rwm, allow zero r",
			[]specs.LinuxDeviceCgroup{denyAll, dev(true, "c", 1, 3, "rwm"), dev(true, "c", 1, 5, "r")},
			prologue + `jne r2, 0x2, +6
jne r4, 0x1, +5
jne r5, 0x5, +4
and32 r3, 0xfffffffd
jne r3, 0x0, +2
mov32 r0, 0x1
exit
jne r2, 0x2, +4
jne r4, 0x1, +3
jne r5, 0x3, +2
mov32 r0, 0x1
exit
mov32 r0, 0x0
exit
`,
		},
		{
			"allow all, deny some",
			[]specs.LinuxDeviceCgroup{
				allowAll,
				dev(false, "b", 8, -2, "w"),
				dev(false, "c", math.MaxUint32, -1, "rwm"),
				dev(true, "c", -1, 1<<31, "m"),
			},
			prologue + `jne r2, 0x2, +6
mov32 r1, 0x80000000
jne r5, r1, +4
and32 r3, 0xfffffffe
jne r3, 0x0, +2
mov32 r0, 0x1
exit
jne r2, 0x2, +4
mov32 r1, 0xffffffff
jne r4, r1, +2
mov32 r0, 0x0
exit
jne r2, 0x1, +6
jne r4, 0x8, +5
mov32 r1, r3
and32 r1, 0x4
jeq r1, 0x0, +2
mov32 r0, 0x0
exit
mov32 r0, 0x1
exit
`,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			prog := compileDevices(devRules(t, c.rules...))
			if got := disasm(prog); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
			checkCFG(t, prog)
		})
	}
}

func TestParseDeviceRulesErrors(t *testing.T) {
	for _, c := range []struct {
		rule specs.LinuxDeviceCgroup
		want string
	}{
		{dev(true, "c", 1, 3, "rwx"), `linux.resources.devices[1]: access "rwx": only r, w and m are allowed`},
		{dev(true, "u", 1, 3, "r"), `linux.resources.devices[1]: type "u": must be a, b or c`},
		{dev(true, "c", -5, 3, "r"), `linux.resources.devices[1]: device number -5 out of range`},
		{dev(true, "b", 1, math.MaxUint32+1, "r"), `linux.resources.devices[1]: device number 4294967296 out of range`},
	} {
		_, err := deviceProgram([]specs.LinuxDeviceCgroup{denyAll, c.rule})
		if err == nil || err.Error() != c.want {
			t.Errorf("%+v: err = %v, want %s", c.rule, err, c.want)
		}
		// New refuses them before anything exists.
		if err := checkV2(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{denyAll, c.rule}}); err == nil || err.Error() != c.want {
			t.Errorf("checkV2: err = %v", err)
		}
	}
	// "a" ignores numbers and access, as on v1; "" access is rwm.
	r := devRules(t, dev(true, "a", 1, 2, "r"), dev(false, "c", -1, -2, ""))
	if r[0] != (devRule{allow: true, major: -1, minor: -1, access: accessAll}) ||
		r[1] != (devRule{typ: unix.BPF_DEVCG_DEV_CHAR, major: -1, minor: -1, access: accessAll}) {
		t.Errorf("parsed %+v", r)
	}
}

// checkCFG does what the verifier's first pass does: every jump lands
// inside the program, the last instruction cannot fall off, and every
// instruction is reachable.
func checkCFG(t *testing.T, prog []bpfInsn) {
	t.Helper()
	seen := make([]bool, len(prog))
	var walk func(pc int)
	walk = func(pc int) {
		for ; ; pc++ {
			if pc < 0 || pc >= len(prog) {
				t.Fatalf("control leaves the program at %d:\n%s", pc, disasm(prog))
			}
			if seen[pc] {
				return
			}
			seen[pc] = true
			i := prog[pc]
			if i.code == unix.BPF_JMP|unix.BPF_EXIT {
				return
			}
			if i.code&0x07 == unix.BPF_JMP {
				walk(pc + 1 + int(i.off))
			}
		}
	}
	walk(0)
	for pc, ok := range seen {
		if !ok {
			t.Fatalf("unreachable instruction %d:\n%s", pc, disasm(prog))
		}
	}
}

// run interprets prog (only what compileDevices emits) on a device context.
func run(t *testing.T, prog []bpfInsn, typ, access, major, minor uint32) uint64 {
	t.Helper()
	ctx := []uint32{access<<16 | typ, major, minor}
	var reg [11]uint64
	for pc, steps := 0, 0; ; pc, steps = pc+1, steps+1 {
		if pc >= len(prog) || steps > len(prog) {
			t.Fatalf("pc %d out of the program or loop", pc)
		}
		i := prog[pc]
		d, s := i.dst(), i.src()
		val := uint64(uint32(i.imm))
		if i.code&0x08 == unix.BPF_X {
			val = reg[s]
		}
		switch cls, op := i.code&0x07, i.code&0xf0; {
		case i.code == unix.BPF_LDX|unix.BPF_MEM|unix.BPF_W:
			if s != r1 || i.off%4 != 0 || i.off < 0 || i.off > 8 {
				t.Fatalf("bad load %v", i)
			}
			reg[d] = uint64(ctx[i.off/4])
		case cls == unix.BPF_ALU && op == unix.BPF_AND:
			reg[d] = uint64(uint32(reg[d]) & uint32(val))
		case cls == unix.BPF_ALU && op == unix.BPF_RSH:
			reg[d] = uint64(uint32(reg[d]) >> (val & 31))
		case cls == unix.BPF_ALU && op == unix.BPF_MOV:
			reg[d] = uint64(uint32(val))
		case i.code == unix.BPF_JMP|unix.BPF_EXIT:
			if reg[r0] > 1 {
				t.Fatalf("returns %d", reg[r0])
			}
			return reg[r0]
		case cls == unix.BPF_JMP && (op == unix.BPF_JNE || op == unix.BPF_JEQ):
			if i.code&0x08 == unix.BPF_K {
				val = uint64(int64(i.imm)) // sign-extended, as the kernel does
			}
			if (reg[d] == val) == (op == unix.BPF_JEQ) {
				pc += int(i.off)
			}
		default:
			t.Fatalf("unexpected instruction %v", i)
		}
	}
}

// modelAllows is the meaning of the rules, written plainly: per access bit,
// the last rule that matches the device and has the bit decides.
func modelAllows(rules []devRule, typ, access, major, minor uint32) bool {
	for bit := uint32(1); bit <= 4; bit <<= 1 {
		if access&bit == 0 {
			continue
		}
		ok := false
		for _, r := range rules {
			match := r.typ == 0 || (uint32(r.typ) == typ &&
				(r.major < 0 || uint32(r.major) == major) && (r.minor < 0 || uint32(r.minor) == minor))
			if match && r.access&bit != 0 {
				ok = r.allow
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func TestCompileDevicesSemantics(t *testing.T) {
	nums := []int64{-1, 0, 1, 5, 1 << 31, math.MaxUint32}
	accesses := []string{"r", "w", "m", "rw", "rm", "wm", "rwm"}
	rnd := rand.New(rand.NewPCG(1, 2))
	for n := range 2000 {
		var rules []specs.LinuxDeviceCgroup
		for range rnd.IntN(8) {
			typ := []string{"a", "b", "c", "c", "c", "b"}[rnd.IntN(6)]
			rules = append(rules, dev(rnd.IntN(2) == 0, typ, nums[rnd.IntN(len(nums))], nums[rnd.IntN(len(nums))], accesses[rnd.IntN(len(accesses))]))
		}
		parsed := devRules(t, rules...)
		prog := compileDevices(parsed)
		checkCFG(t, prog)
		for _, typ := range []uint32{unix.BPF_DEVCG_DEV_BLOCK, unix.BPF_DEVCG_DEV_CHAR} {
			for access := uint32(1); access <= accessAll; access++ {
				for _, major := range nums[1:] {
					for _, minor := range nums[1:] {
						want := modelAllows(parsed, typ, access, uint32(major), uint32(minor))
						if got := run(t, prog, typ, access, uint32(major), uint32(minor)) == 1; got != want {
							t.Fatalf("case %d: rules %+v, type %d access %d %d:%d: program says %v, want %v\n%s",
								n, rules, typ, access, major, minor, got, want, disasm(prog))
						}
					}
				}
			}
		}
	}
}

// The usual list: what cgroup v1 would answer.
func TestCompileDevicesUsual(t *testing.T) {
	rules := devRules(t, denyAll,
		dev(true, "c", -1, -1, "m"), dev(true, "b", -1, -1, "m"),
		dev(true, "c", 1, 3, "rwm"), dev(true, "c", 1, 5, "r"), dev(true, "c", 136, -1, "rwm"),
		dev(false, "c", 136, 2, "w"))
	prog := compileDevices(rules)
	const c, b = unix.BPF_DEVCG_DEV_CHAR, unix.BPF_DEVCG_DEV_BLOCK
	const m, r, w = unix.BPF_DEVCG_ACC_MKNOD, unix.BPF_DEVCG_ACC_READ, unix.BPF_DEVCG_ACC_WRITE
	for _, x := range []struct {
		typ, access, major, minor uint32
		want                      uint64
	}{
		{c, r | w, 1, 3, 1}, {c, m, 1, 3, 1}, {c, r, 1, 5, 1}, {c, w, 1, 5, 0}, {c, r | w, 1, 5, 0},
		{c, m, 1, 5, 1}, {b, m, 8, 0, 1}, {b, r, 8, 0, 0}, {c, r, 1, 7, 0}, {c, r | w, 136, 0, 1},
		{c, r, 136, 2, 1}, {c, w, 136, 2, 0}, {c, r | w, 136, 2, 0}, {c, r, 3, 1, 0},
	} {
		if got := run(t, prog, x.typ, x.access, x.major, x.minor); got != x.want {
			t.Errorf("type %d access %d %d:%d = %d, want %d", x.typ, x.access, x.major, x.minor, got, x.want)
		}
	}
}

// needBPF skips a test that cannot use bpf(2) here.
func needBPF(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	fd, err := loadDeviceProgram(compileDevices(nil))
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSYS) {
		t.Skipf("bpf(2) not available: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
}

// TestDeviceProgramLoads has the kernel's verifier check programs; it
// needs no cgroup v2 (cgroup device programs have no BPF_PROG_TEST_RUN, so
// TestHostBPFDevices runs them for real).
func TestDeviceProgramLoads(t *testing.T) {
	needBPF(t)
	big := []specs.LinuxDeviceCgroup{denyAll}
	for i := range 400 {
		big = append(big, dev(i%3 == 0, "c", int64(i), int64(i*7), []string{"r", "rw", "rwm", "m"}[i%4]))
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	for n, rules := range [][]specs.LinuxDeviceCgroup{
		nil,
		{denyAll},
		{allowAll},
		{denyAll, dev(true, "c", 1, 3, "rwm"), dev(true, "c", 1, 5, "r"), dev(false, "b", -1, -1, "w")},
		{allowAll, dev(false, "c", math.MaxUint32, math.MaxUint32, "w"), dev(true, "b", 1<<31, -1, "m")},
		big,
	} {
		if n == 0 {
			// and some random ones
			for range 20 {
				var r []specs.LinuxDeviceCgroup
				for range rnd.IntN(10) {
					r = append(r, dev(rnd.IntN(2) == 0, []string{"a", "b", "c"}[rnd.IntN(3)], int64(rnd.IntN(3))-1, int64(rnd.IntN(3))-1, []string{"r", "w", "m", "rw", "rwm"}[rnd.IntN(5)]))
				}
				loadOK(t, r)
			}
		}
		loadOK(t, rules)
	}
}

func loadOK(t *testing.T, rules []specs.LinuxDeviceCgroup) {
	t.Helper()
	prog, err := deviceProgram(rules)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := loadDeviceProgram(prog)
	if err != nil {
		t.Fatalf("rules %+v: %v\n%s", rules, err, disasm(prog))
	}
	typ, id, name, err := progInfo(fd)
	unix.Close(fd)
	if err != nil || typ != unix.BPF_PROG_TYPE_CGROUP_DEVICE || id == 0 || name != devProgName {
		t.Errorf("info: type %d id %d name %q %v", typ, id, name, err)
	}
}

// A program the verifier refuses comes back with the verifier's reason.
func TestDeviceProgramVerifierLog(t *testing.T) {
	needBPF(t)
	bad := []bpfInsn{alu32Imm(unix.BPF_MOV, r0, 2), exitInsn()} // returns 2
	fd, err := loadDeviceProgram(bad)
	if err == nil {
		unix.Close(fd)
		t.Fatal("the verifier accepted a program that returns 2")
	}
	if !strings.Contains(err.Error(), "verifier log") || !strings.Contains(err.Error(), "R0") {
		t.Errorf("err = %v", err)
	}
}
