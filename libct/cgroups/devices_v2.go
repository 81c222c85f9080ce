package cgroups

// Cgroup v2 has no devices controller: device access is decided by eBPF
// programs of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. This
// file compiles linux.resources.devices into such a program, as raw BPF
// instructions; bpf.go loads and attaches it.
//
// # Semantics
//
// The rules are read in order and, for each access bit the kernel asks
// about (m, r, w), the last rule that matches the device and names that bit
// decides it; a bit no rule decides is denied. A request (say "rw" for an
// open with O_RDWR) is allowed only if each of its bits is allowed. Type "a"
// (or "") means every device with every access, whatever major, minor and
// access say, as on cgroup v1 where "a" resets the list; a missing major or
// minor (or -1) matches any number.
//
// For the usual list (deny everything, then allow some devices) this is
// exactly what cgroup v1 and runc do. It differs from them only where they
// are surprising: a deny rule always takes its bits away (v1 only removes an
// exception with the very same type, major and minor, and runc refuses to
// "punch a hole" in a wildcard allow), and a deny rule for "w" denies an
// "rw" open (runc's program lets it through when the default is allow).
//
// # The program
//
// The context is struct bpf_cgroup_dev_ctx { u32 access_type; u32 major;
// u32 minor; } with access_type = access<<16 | type. The prologue loads
//
//	r2 = type, r3 = access (the bits still undecided), r4 = major, r5 = minor
//
// and then the rules are checked from the last to the first; each one is a
// block that jumps to the next block when the device does not match:
//
//	allow, rwm:  return 1
//	allow, some: r3 &= ^bits; if r3 == 0 return 1
//	deny, rwm:   return 0
//	deny, some:  if r3 & bits != 0 return 0
//
// after the blocks comes "return 0". A type "a" rule is a block without a
// test, so the rules before it are left out (the verifier refuses code it
// cannot reach).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// devRule is one parsed linux.resources.devices entry.
type devRule struct {
	allow  bool
	typ    int32  // 0 for "a", else BPF_DEVCG_DEV_BLOCK or BPF_DEVCG_DEV_CHAR
	major  int64  // -1 for any
	minor  int64  // -1 for any
	access uint32 // BPF_DEVCG_ACC_* bits, never 0
}

const accessAll = unix.BPF_DEVCG_ACC_MKNOD | unix.BPF_DEVCG_ACC_READ | unix.BPF_DEVCG_ACC_WRITE

// parseDeviceRules checks rules the way setDevicesV1 does (access is a
// combination of r, w and m, "" meaning rwm; type a, b or c; numbers fit in
// a u32) and names the offending entry.
func parseDeviceRules(rules []specs.LinuxDeviceCgroup) ([]devRule, error) {
	out := make([]devRule, 0, len(rules))
	for i, d := range rules {
		r, err := parseDeviceRule(d)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", fDevices, i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func parseDeviceRule(d specs.LinuxDeviceCgroup) (devRule, error) {
	r := devRule{allow: d.Allow, major: -1, minor: -1}
	access := d.Access
	if access == "" {
		access = defaultAccess
	}
	for _, c := range access {
		switch c {
		case 'r':
			r.access |= unix.BPF_DEVCG_ACC_READ
		case 'w':
			r.access |= unix.BPF_DEVCG_ACC_WRITE
		case 'm':
			r.access |= unix.BPF_DEVCG_ACC_MKNOD
		default:
			return r, fmt.Errorf("access %q: only r, w and m are allowed", d.Access)
		}
	}
	switch d.Type {
	case "", "a":
		r.access = accessAll
		return r, nil
	case "c":
		r.typ = unix.BPF_DEVCG_DEV_CHAR
	case "b":
		r.typ = unix.BPF_DEVCG_DEV_BLOCK
	default:
		return r, fmt.Errorf("type %q: must be a, b or c", d.Type)
	}
	num := func(p *int64) (int64, error) {
		switch {
		case p == nil || *p == -1:
			return -1, nil
		case *p < 0 || *p > math.MaxUint32:
			return 0, fmt.Errorf("device number %d out of range", *p)
		}
		return *p, nil
	}
	var err error
	if r.major, err = num(d.Major); err != nil {
		return r, err
	}
	if r.minor, err = num(d.Minor); err != nil {
		return r, err
	}
	return r, nil
}

// bpfInsn is struct bpf_insn: opcode, dst_reg:4 and src_reg:4 (a bit
// field: which nibble is which depends on the byte order), off, imm.
type bpfInsn struct {
	code uint8
	regs uint8
	off  int16
	imm  int32
}

// bigEndian tells how the C bit field of bpf_insn is laid out.
var bigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

func insn(code uint8, dst, src uint8, off int16, imm int32) bpfInsn {
	regs := dst&0xf | src<<4
	if bigEndian {
		regs = dst<<4 | src&0xf
	}
	return bpfInsn{code: code, regs: regs, off: off, imm: imm}
}

func (i bpfInsn) dst() uint8 {
	if bigEndian {
		return i.regs >> 4
	}
	return i.regs & 0xf
}

func (i bpfInsn) src() uint8 {
	if bigEndian {
		return i.regs & 0xf
	}
	return i.regs >> 4
}

// The registers the program uses.
const (
	r0 = 0 // return value
	r1 = 1 // context on entry, then scratch
	r2 = 2 // device type
	r3 = 3 // requested access bits not decided yet
	r4 = 4 // major
	r5 = 5 // minor
)

func ldxW(dst, src uint8, off int16) bpfInsn {
	return insn(unix.BPF_LDX|unix.BPF_MEM|unix.BPF_W, dst, src, off, 0)
}

func alu32Imm(op uint8, dst uint8, imm int32) bpfInsn {
	return insn(unix.BPF_ALU|op|unix.BPF_K, dst, 0, 0, imm)
}

func mov32Reg(dst, src uint8) bpfInsn {
	return insn(unix.BPF_ALU|unix.BPF_MOV|unix.BPF_X, dst, src, 0, 0)
}

// jmpImm and jmpReg compare all 64 bits; the loaded context fields and
// the results of 32-bit ALU operations are zero-extended.
func jmpImm(op uint8, dst uint8, imm int32) bpfInsn {
	return insn(unix.BPF_JMP|op|unix.BPF_K, dst, 0, 0, imm)
}

func jmpReg(op uint8, dst, src uint8) bpfInsn {
	return insn(unix.BPF_JMP|op|unix.BPF_X, dst, src, 0, 0)
}

func exitInsn() bpfInsn { return insn(unix.BPF_JMP|unix.BPF_EXIT, 0, 0, 0, 0) }

func retInsns(v int32) []bpfInsn {
	return []bpfInsn{alu32Imm(unix.BPF_MOV, r0, v), exitInsn()}
}

// compileDevices returns the program for rules (see the top of this file).
func compileDevices(rules []devRule) []bpfInsn {
	prog := []bpfInsn{
		ldxW(r2, r1, 0),
		alu32Imm(unix.BPF_AND, r2, 0xffff),
		ldxW(r3, r1, 0),
		alu32Imm(unix.BPF_RSH, r3, 16),
		ldxW(r4, r1, 4),
		ldxW(r5, r1, 8),
	}
	// Everything before the last "a" rule is decided by it.
	for i := len(rules) - 1; i >= 0; i-- {
		if rules[i].typ == 0 {
			rules = rules[i:]
			break
		}
	}
	for i := len(rules) - 1; i >= 0; i-- {
		prog = append(prog, ruleBlock(rules[i])...)
	}
	if len(rules) == 0 || rules[0].typ != 0 {
		prog = append(prog, retInsns(0)...)
	}
	return prog
}

// ruleBlock is the code for one rule. Its conditional jumps (off == next)
// go to the first instruction after the block.
func ruleBlock(r devRule) []bpfInsn {
	ret := int32(0)
	if r.allow {
		ret = 1
	}
	if r.typ == 0 {
		return retInsns(ret)
	}
	var b []bpfInsn
	var jumps []int // indexes of the jumps to the next block
	jumpNext := func(i bpfInsn) {
		jumps = append(jumps, len(b))
		b = append(b, i)
	}
	jumpNext(jmpImm(unix.BPF_JNE, r2, r.typ))
	for _, n := range []struct {
		reg uint8
		val int64
	}{{r4, r.major}, {r5, r.minor}} {
		switch {
		case n.val < 0:
		case n.val <= math.MaxInt32:
			jumpNext(jmpImm(unix.BPF_JNE, n.reg, int32(n.val)))
		default:
			// An immediate is sign-extended to 64 bits: compare with a
			// register that holds the zero-extended number instead.
			b = append(b, alu32Imm(unix.BPF_MOV, r1, int32(uint32(n.val))))
			jumpNext(jmpReg(unix.BPF_JNE, n.reg, r1))
		}
	}
	switch {
	case r.access == accessAll:
	case r.allow:
		b = append(b, alu32Imm(unix.BPF_AND, r3, int32(^r.access)))
		jumpNext(jmpImm(unix.BPF_JNE, r3, 0))
	default:
		b = append(b, mov32Reg(r1, r3), alu32Imm(unix.BPF_AND, r1, int32(r.access)))
		jumpNext(jmpImm(unix.BPF_JEQ, r1, 0))
	}
	b = append(b, retInsns(ret)...)
	for _, j := range jumps {
		b[j].off = int16(len(b) - j - 1)
	}
	return b
}

// deviceProgram parses and compiles linux.resources.devices.
func deviceProgram(rules []specs.LinuxDeviceCgroup) ([]bpfInsn, error) {
	parsed, err := parseDeviceRules(rules)
	if err != nil {
		return nil, err
	}
	return compileDevices(parsed), nil
}

// setDevicesV2Fn is a test seam: a fake cgroupfs cannot take a program.
var setDevicesV2Fn = setDevicesV2

// setDevicesV2 replaces rt's device program on the cgroup dir with one for
// rules. The new program is attached before the old ones are detached, so
// there is no moment without a filter (while both are attached, a device
// must pass both). Programs of other owners stay attached.
func setDevicesV2(dir string, rules []specs.LinuxDeviceCgroup) error {
	prog, err := deviceProgram(rules)
	if err != nil {
		return err
	}
	if err := attachDeviceProgram(dir, prog); err != nil {
		if errors.Is(err, unix.EPERM) && inUserNS() {
			// Like runc and crun: in a user namespace bpf(2) is not
			// allowed, and the container cannot create device nodes or
			// open host devices its user may not open anyway.
			return nil
		}
		return field(fDevices, err)
	}
	return nil
}
