package seccomp

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

// TestBPFEncoding: the byte form round-trips and is 8 bytes per
// instruction in the host's order.
func TestBPFEncoding(t *testing.T) {
	in := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 4},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1, Jf: 2, K: unix.AUDIT_ARCH_X86_64},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	b := encodeBPF(in)
	if len(b) != 24 {
		t.Fatalf("%d bytes", len(b))
	}
	out := decodeBPF(b)
	for i := range in {
		if in[i] != out[i] {
			t.Errorf("insn %d: %+v != %+v", i, in[i], out[i])
		}
	}
	if !bytes.Equal(encodeBPF(out), b) {
		t.Error("not stable")
	}
}
