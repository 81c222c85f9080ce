package libct

import (
	"encoding/binary"
	"testing"
)

func TestRtattrs(t *testing.T) {
	var b []byte
	add := func(typ uint16, data string) {
		l := 4 + len(data)
		h := make([]byte, rtaAlign(l))
		binary.NativeEndian.PutUint16(h, uint16(l))
		binary.NativeEndian.PutUint16(h[2:], typ)
		copy(h[4:], data)
		b = append(b, h...)
	}
	add(3, "eth0\x00")
	add(13, "abcd")
	got := rtattrs(b)
	if len(got) != 2 || got[0].typ != 3 || string(got[0].data) != "eth0\x00" || got[1].typ != 13 {
		t.Fatalf("got %+v", got)
	}
	// A truncated attribute ends the list without a panic.
	if got := rtattrs(append(b, 0xff, 0x00, 0x01, 0x00)); len(got) != 2 {
		t.Errorf("truncated: %+v", got)
	}
}
