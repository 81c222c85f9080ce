package proto

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestConnRoundTripWithFds(t *testing.T) {
	a, b, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	big := strings.Repeat("x", 300<<10) // larger than a socket buffer
	go func() {
		a.Send(&Bootstrap{Mode: "create", ID: big}, int(w.Fd()))
	}()
	var got Bootstrap
	fds, err := b.Recv(&got)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mode != "create" || got.ID != big {
		t.Fatalf("got mode %q, id of %d bytes", got.Mode, len(got.ID))
	}
	if len(fds) != 1 {
		t.Fatalf("got %d fds", len(fds))
	}
	defer unix.Close(fds[0])
	if fl, _ := unix.FcntlInt(uintptr(fds[0]), unix.F_GETFD, 0); fl&unix.FD_CLOEXEC == 0 {
		t.Error("received descriptor is not close-on-exec")
	}
	unix.Write(fds[0], []byte("!"))
	buf := make([]byte, 1)
	if n, _ := r.Read(buf); n != 1 || buf[0] != '!' {
		t.Error("received descriptor is not the pipe sent")
	}
}

func TestConnEOFAndGarbage(t *testing.T) {
	a, b, _ := Pair()
	a.Close()
	var m Msg
	if _, err := b.Recv(&m); err == nil || !strings.Contains(err.Error(), "EOF") {
		t.Fatalf("Recv after peer close: %v", err)
	}
	b.Close()
	a, b, _ = Pair()
	defer b.Close()
	unix.Write(a.Fd(), []byte{0xff, 0xff, 0xff, 0xff})
	a.Close()
	if _, err := b.Recv(&m); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("oversized frame: %v", err)
	}
}
