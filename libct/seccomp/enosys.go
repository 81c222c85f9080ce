package seccomp

import (
	"fmt"
	"sort"

	"golang.org/x/sys/unix"
)

// This file holds the ENOSYS prologue (see doc.go): pure BPF work on the
// program libseccomp exported, no cgo.

// x32SyscallBit marks x32 system calls, which share AUDIT_ARCH_X86_64.
const x32SyscallBit = 0x40000000

// retENOSYS is the filter's answer for a system call newer than the profile.
const retENOSYS = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)

// Offsets in struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
)

// abiBounds describes one AUDIT_ARCH_* value of the filter and the highest
// system call numbers libseccomp's program compares against for it.
type abiBounds struct {
	audit uint32
	// x32InFilter: SCMP_ARCH_X32 is in the filter (AUDIT_ARCH_X86_64 only).
	x32InFilter bool
	// s390: number 0 multiplexes the numbers the kernel does not know; it
	// gets ENOSYS too.
	s390 bool

	// max, hasMax: the bound for the architecture's numbers (for x86_64,
	// those below x32SyscallBit).
	max    uint32
	hasMax bool
	// x32, hasX32: the bound for x32 numbers (x32SyscallBit set), used
	// only when x32InFilter.
	x32    uint32
	hasX32 bool
}

// flowState is what is known at one instruction on every path into it.
type flowState struct {
	seen    bool
	src     int64           // seccomp_data offset last loaded into A, -1 if unknown
	anyArch bool            // on some path the arch is not known
	archs   map[uint32]bool // arch values known on the other paths
}

func (d *flowState) join(s *flowState) {
	if !d.seen {
		d.seen, d.src, d.anyArch = true, s.src, s.anyArch
	} else {
		if d.src != s.src {
			d.src = -1
		}
		d.anyArch = d.anyArch || s.anyArch
	}
	for a := range s.archs {
		if d.archs == nil {
			d.archs = map[uint32]bool{}
		}
		d.archs[a] = true
	}
}

// comparedNumbers returns, for each arch value the program tests, the
// constants it compares the system call number with while that arch is
// known. Jumps only go forward, so one pass in order has joined every path
// into an instruction before reaching it. A comparison made where the arch
// is unknown is counted for every arch: that can only raise a bound, which
// makes the prologue answer ENOSYS for fewer numbers, never more.
func comparedNumbers(prog []unix.SockFilter) map[uint32][]uint32 {
	st := make([]flowState, len(prog))
	if len(prog) == 0 {
		return nil
	}
	st[0] = flowState{seen: true, src: -1, anyArch: true}
	out := map[uint32][]uint32{}
	var unknown []uint32
	flow := func(to int, s *flowState) {
		if to < len(st) {
			st[to].join(s)
		}
	}
	for pc := range prog {
		s := &st[pc]
		if !s.seen {
			continue
		}
		in := prog[pc]
		switch in.Code & 0x07 {
		case unix.BPF_LD:
			n := *s
			n.src = -1
			if in.Code == unix.BPF_LD|unix.BPF_W|unix.BPF_ABS {
				n.src = int64(in.K)
			}
			flow(pc+1, &n)
		case unix.BPF_ALU:
			n := *s
			n.src = -1
			flow(pc+1, &n)
		case unix.BPF_MISC:
			n := *s
			if in.Code&0xf8 == unix.BPF_TXA {
				n.src = -1
			}
			flow(pc+1, &n)
		case unix.BPF_LDX, unix.BPF_ST, unix.BPF_STX:
			flow(pc+1, s)
		case unix.BPF_RET:
		case unix.BPF_JMP:
			op := in.Code & 0xf0
			if op == unix.BPF_JA {
				flow(pc+1+int(in.K), s)
				continue
			}
			jt, jf := pc+1+int(in.Jt), pc+1+int(in.Jf)
			withK := in.Code&unix.BPF_X == 0
			if withK && s.src == offNr {
				if s.anyArch {
					unknown = append(unknown, in.K)
				} else {
					for a := range s.archs {
						out[a] = append(out[a], in.K)
					}
				}
			}
			if withK && s.src == offArch && op == unix.BPF_JEQ {
				if s.anyArch || s.archs[in.K] {
					t := flowState{seen: true, src: s.src, archs: map[uint32]bool{in.K: true}}
					flow(jt, &t)
				}
				flow(jf, s)
				continue
			}
			flow(jt, s)
			flow(jf, s)
		}
	}
	for a := range out {
		out[a] = append(out[a], unknown...)
	}
	return out
}

// raise lifts the ABI's bound for number k (x32 numbers to the x32
// bound). Negative numbers (libseccomp's pseudo numbers for calls an arch
// lacks) are no system calls and are left out.
func (b *abiBounds) raise(k uint32) {
	switch {
	case int32(k) < 0:
	case b.audit == unix.AUDIT_ARCH_X86_64 && k&x32SyscallBit != 0:
		if b.x32InFilter && (!b.hasX32 || k > b.x32) {
			b.x32, b.hasX32 = k, true
		}
	case !b.hasMax || k > b.max:
		b.max, b.hasMax = k, true
	}
}

// fillBounds raises the bounds of each ABI (already raised for the
// numbers of the names the profile lists) to the numbers prog compares.
// Those include numbers no name gives, such as the direct socket calls
// i386 also reaches through socketcall.
func fillBounds(prog []unix.SockFilter, abis []abiBounds) {
	nums := comparedNumbers(prog)
	for i := range abis {
		for _, k := range nums[abis[i].audit] {
			abis[i].raise(k)
		}
	}
}

// Jump targets of the prologue that are known only once it is laid out.
const (
	toFilter = -1 // first instruction of libseccomp's program
	toENOSYS = -2 // the prologue's "ret ERRNO|ENOSYS"
	toNext   = -3 // the next instruction
)

// pinsn is a prologue instruction whose jumps still name targets.
type pinsn struct {
	code   uint16
	k      uint32
	jt, jf int // absolute index, or toFilter / toENOSYS / toNext
}

func ldAbs(off uint32) pinsn {
	return pinsn{code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, k: off, jt: toNext, jf: toNext}
}

func jmpK(op uint16, k uint32, jt, jf int) pinsn {
	return pinsn{code: unix.BPF_JMP | op | unix.BPF_K, k: k, jt: jt, jf: jf}
}

// section is the code for one ABI, placed at index at; x32At is where its
// x32 part starts (at+3 when there is one).
func (b *abiBounds) section(at int) []pinsn {
	var s []pinsn
	s = append(s, ldAbs(offNr))
	if b.audit == unix.AUDIT_ARCH_X86_64 {
		// Numbers with the x32 bit (and above) go to the x32 bound when
		// x32 is in the filter and has one, else straight to
		// libseccomp's program, which decides (it kills them as a bad
		// arch when x32 is not in the filter).
		high := toFilter
		if b.hasX32 {
			high = at + 3
		}
		s = append(s, jmpK(unix.BPF_JGE, x32SyscallBit, high, toNext))
		if b.hasMax {
			s = append(s, jmpK(unix.BPF_JGT, b.max, toENOSYS, toFilter))
		} else {
			s = append(s, pinsn{code: unix.BPF_JMP | unix.BPF_JA, k: 0, jt: toFilter})
		}
		if b.hasX32 {
			s = append(s, jmpK(unix.BPF_JGT, b.x32, toENOSYS, toFilter))
		}
		return s
	}
	if b.s390 {
		last := toNext
		if !b.hasMax {
			last = toFilter
		}
		s = append(s, jmpK(unix.BPF_JEQ, 0, toENOSYS, last))
	}
	if b.hasMax {
		s = append(s, jmpK(unix.BPF_JGT, b.max, toENOSYS, toFilter))
	}
	return s
}

// wanted tells whether the ABI gets a section at all.
func (b *abiBounds) wanted() bool {
	return b.hasMax || b.hasX32 || b.s390
}

// enosysPrologue returns the instructions to put in front of prog (nil when
// no ABI has a bound). Layout:
//
//	ld [arch]
//	jeq AUDIT_ARCH_1, section1   ... one per ABI
//	ja  filter
//	section1: ld [nr]; jgt MAX1, enosys, filter
//	...
//	enosys: ret ERRNO|ENOSYS
//	filter: (libseccomp's program, which loads arch and nr again)
func enosysPrologue(prog []unix.SockFilter, abis []abiBounds) ([]unix.SockFilter, error) {
	fillBounds(prog, abis)
	var use []*abiBounds
	for i := range abis {
		if abis[i].wanted() {
			use = append(use, &abis[i])
		}
	}
	if len(use) == 0 {
		return nil, nil
	}
	sort.Slice(use, func(i, j int) bool { return use[i].audit < use[j].audit })

	head := 1 + len(use) + 1
	starts := make([]int, len(use))
	at := head
	for i, b := range use {
		starts[i] = at
		at += len(b.section(at))
	}
	enosys := at
	filter := enosys + 1

	var code []pinsn
	code = append(code, ldAbs(offArch))
	for i, b := range use {
		code = append(code, jmpK(unix.BPF_JEQ, b.audit, starts[i], toNext))
	}
	code = append(code, pinsn{code: unix.BPF_JMP | unix.BPF_JA, jt: toFilter})
	for i, b := range use {
		code = append(code, b.section(starts[i])...)
	}
	code = append(code, pinsn{code: unix.BPF_RET | unix.BPF_K, k: retENOSYS})

	out := make([]unix.SockFilter, len(code))
	resolve := func(pc, target int) (int, error) {
		switch target {
		case toFilter:
			target = filter
		case toENOSYS:
			target = enosys
		case toNext:
			target = pc + 1
		}
		off := target - (pc + 1)
		if off < 0 || off > 255 {
			return 0, fmt.Errorf("linux.seccomp: ENOSYS prologue jump of %d instructions does not fit", off)
		}
		return off, nil
	}
	for pc, p := range code {
		in := unix.SockFilter{Code: p.code, K: p.k}
		switch {
		case p.code == unix.BPF_JMP|unix.BPF_JA:
			off, err := resolve(pc, p.jt)
			if err != nil {
				return nil, err
			}
			in.K = uint32(off)
		case p.code&0x07 == unix.BPF_JMP:
			jt, err := resolve(pc, p.jt)
			if err != nil {
				return nil, err
			}
			jf, err := resolve(pc, p.jf)
			if err != nil {
				return nil, err
			}
			in.Jt, in.Jf = uint8(jt), uint8(jf)
		}
		out[pc] = in
	}
	return out, nil
}
