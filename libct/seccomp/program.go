package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Program is a compiled linux.seccomp profile: what the init needs to load
// it with seccomp(2), and nothing else. It is JSON-serialisable (BPF is
// base64 in JSON) and travels to the init inside the bootstrap message.
type Program struct {
	// BPF is the classic BPF program, an array of struct sock_filter
	// (8 bytes per instruction) in the host's byte order.
	BPF []byte `json:"bpf"`
	// Flags are the SECCOMP_FILTER_FLAG_* bits to pass to seccomp(2):
	// LOG, SPEC_ALLOW and WAIT_KILLABLE_RECV from linux.seccomp.flags.
	// NEW_LISTENER is not among them: it follows Notify.
	Flags uint `json:"flags,omitempty"`
	// Notify is true when a rule uses SCMP_ACT_NOTIFY: Load then asks for
	// a listener (SECCOMP_FILTER_FLAG_NEW_LISTENER) and returns its fd.
	Notify bool `json:"notify,omitempty"`
}

// The filter flags a Program may carry (linux.seccomp.flags).
const allowedFlags = unix.SECCOMP_FILTER_FLAG_LOG |
	unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW |
	unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV

// maxInsns is the kernel's limit on one classic BPF program (BPF_MAXINSNS).
const maxInsns = 4096

// sockFilterSize is sizeof(struct sock_filter).
const sockFilterSize = 8

// Len is the number of BPF instructions in the program.
func (p *Program) Len() int { return len(p.BPF) / sockFilterSize }

// check tells whether the program is something seccomp(2) can be given.
func (p *Program) check() error {
	if p == nil {
		return errors.New("linux.seccomp: no compiled program")
	}
	n := len(p.BPF)
	switch {
	case n == 0:
		return errors.New("linux.seccomp: the compiled program is empty")
	case n%sockFilterSize != 0:
		return fmt.Errorf("linux.seccomp: the compiled program is %d bytes, not a whole number of %d-byte BPF instructions", n, sockFilterSize)
	case n/sockFilterSize > maxInsns:
		return fmt.Errorf("linux.seccomp: the compiled program has %d instructions, more than the kernel's limit of %d: shorten the profile", n/sockFilterSize, maxInsns)
	}
	if extra := p.Flags &^ uint(allowedFlags); extra != 0 {
		return fmt.Errorf("linux.seccomp.flags: unknown filter flag bits %#x", extra)
	}
	if p.Flags&unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0 && !p.Notify {
		return errors.New("linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a rule with SCMP_ACT_NOTIFY")
	}
	return nil
}

// decodeBPF turns the byte form into sock_filter structs.
func decodeBPF(b []byte) []unix.SockFilter {
	out := make([]unix.SockFilter, len(b)/sockFilterSize)
	for i := range out {
		o := b[i*sockFilterSize:]
		out[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(o[0:2]),
			Jt:   o[2],
			Jf:   o[3],
			K:    binary.NativeEndian.Uint32(o[4:8]),
		}
	}
	return out
}

// encodeBPF is the inverse of decodeBPF.
func encodeBPF(insns []unix.SockFilter) []byte {
	b := make([]byte, len(insns)*sockFilterSize)
	for i, in := range insns {
		o := b[i*sockFilterSize:]
		binary.NativeEndian.PutUint16(o[0:2], in.Code)
		o[2], o[3] = in.Jt, in.Jf
		binary.NativeEndian.PutUint32(o[4:8], in.K)
	}
	return b
}
