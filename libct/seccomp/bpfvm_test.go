package seccomp

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// seccompData is struct seccomp_data, the input of a filter.
type seccompData struct {
	nr   uint32
	arch uint32
	ip   uint64
	args [6]uint64
}

func (d *seccompData) bytes() []byte {
	b := make([]byte, 64)
	binary.NativeEndian.PutUint32(b[0:], d.nr)
	binary.NativeEndian.PutUint32(b[4:], d.arch)
	binary.NativeEndian.PutUint64(b[8:], d.ip)
	for i, a := range d.args {
		binary.NativeEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// runBPF interprets a classic BPF seccomp program the way the kernel does,
// so tests can ask what a filter answers for inputs no process here can
// make (other architectures, x32 on a kernel without it).
func runBPF(prog []unix.SockFilter, d seccompData) (uint32, error) {
	data := d.bytes()
	var a, x uint32
	var mem [16]uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		k := in.K
		src := k
		if in.Code&unix.BPF_X != 0 {
			src = x
		}
		switch in.Code & 0x07 {
		case unix.BPF_LD:
			switch in.Code {
			case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
				if k%4 != 0 || k+4 > 64 {
					return 0, fmt.Errorf("pc %d: bad load offset %d", pc, k)
				}
				a = binary.NativeEndian.Uint32(data[k:])
			case unix.BPF_LD | unix.BPF_IMM:
				a = k
			case unix.BPF_LD | unix.BPF_MEM:
				a = mem[k&15]
			case unix.BPF_LD | unix.BPF_W | unix.BPF_LEN:
				a = 64
			default:
				return 0, fmt.Errorf("pc %d: unsupported load %#x", pc, in.Code)
			}
		case unix.BPF_LDX:
			switch in.Code {
			case unix.BPF_LDX | unix.BPF_IMM:
				x = k
			case unix.BPF_LDX | unix.BPF_MEM:
				x = mem[k&15]
			case unix.BPF_LDX | unix.BPF_W | unix.BPF_LEN:
				x = 64
			default:
				return 0, fmt.Errorf("pc %d: unsupported ldx %#x", pc, in.Code)
			}
		case unix.BPF_ST:
			mem[k&15] = a
		case unix.BPF_STX:
			mem[k&15] = x
		case unix.BPF_ALU:
			switch in.Code & 0xf0 {
			case unix.BPF_ADD:
				a += src
			case unix.BPF_SUB:
				a -= src
			case unix.BPF_MUL:
				a *= src
			case unix.BPF_DIV:
				if src == 0 {
					return 0, nil
				}
				a /= src
			case unix.BPF_MOD:
				if src == 0 {
					return 0, nil
				}
				a %= src
			case unix.BPF_OR:
				a |= src
			case unix.BPF_AND:
				a &= src
			case unix.BPF_XOR:
				a ^= src
			case unix.BPF_LSH:
				a <<= src
			case unix.BPF_RSH:
				a >>= src
			case unix.BPF_NEG:
				a = -a
			default:
				return 0, fmt.Errorf("pc %d: unsupported alu %#x", pc, in.Code)
			}
		case unix.BPF_JMP:
			var cond bool
			switch in.Code & 0xf0 {
			case unix.BPF_JA:
				pc += int(k)
				continue
			case unix.BPF_JEQ:
				cond = a == src
			case unix.BPF_JGT:
				cond = a > src
			case unix.BPF_JGE:
				cond = a >= src
			case unix.BPF_JSET:
				cond = a&src != 0
			default:
				return 0, fmt.Errorf("pc %d: unsupported jump %#x", pc, in.Code)
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_RET:
			if in.Code&0x18 == unix.BPF_A {
				return a, nil
			}
			return k, nil
		case unix.BPF_MISC:
			if in.Code&0xf8 == unix.BPF_TAX {
				x = a
			} else {
				a = x
			}
		}
	}
	return 0, fmt.Errorf("fell off the end of the program")
}
