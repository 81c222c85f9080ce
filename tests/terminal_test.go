package tests

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestConsoleSocket: with process.terminal, the pty master arrives on
// --console-socket (SCM_RIGHTS); the process has the pty as its stdio and
// controlling terminal, /dev/console is that pty, consoleSize applies.
func TestConsoleSocket(t *testing.T) {
	t.Parallel()
	h := newH(t)
	sockPath := filepath.Join(h.Dir, "console.sock")
	got := recvFd(t, sockPath)
	b := h.Bundle(sh(`tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-tty; stty size; readlink /proc/self/fd/0; stat -c %t:%T /dev/console`), func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.ConsoleSize = &specs.Box{Height: 33, Width: 111}
	})
	id, _ := h.Create(b, "--console-socket", sockPath)
	var master *os.File
	select {
	case master = <-got:
	case <-time.After(10 * time.Second):
	}
	if master == nil {
		t.Fatal("no pty master received on the console socket")
	}
	defer master.Close()
	h.MustRT("start", id)
	out, _ := io.ReadAll(master) // ends with EIO when the container's side closes
	s := strings.ReplaceAll(string(out), "\r", "")
	for _, want := range []string{"/dev/pts/0\n", "stdio-is-tty\n", "33 111\n", "88:0\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("terminal output %q lacks %q", s, want)
		}
	}
	h.WaitStatus(id, specs.StateStopped)
}

// TestTerminalNeedsConsoleSocket: create (or run -d) of a terminal
// container without --console-socket is refused before any side effect.
func TestTerminalNeedsConsoleSocket(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(args("true"), func(s *specs.Spec) { s.Process.Terminal = true })
	for _, cmd := range [][]string{{"create"}, {"run", "-d"}} {
		r := h.RT(append(cmd, "--bundle", b.Dir, h.ID("tty"))...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "process.terminal") || len(dirNames(h.Root)) != 0 {
			t.Errorf("%v without --console-socket: %v", cmd, r)
		}
	}
}

// TestRunRelaysTerminal: a foreground run of a terminal container relays
// the pty itself (no console socket).
func TestRunRelaysTerminal(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(sh(`tty; read x; echo got-$x`), func(s *specs.Spec) { s.Process.Terminal = true })
	r := h.Run(b, RunOpts{Stdin: "hello\n"})
	s := strings.ReplaceAll(r.Stdout, "\r", "")
	if r.Code != 0 || !strings.Contains(s, "/dev/pts/0\n") || !strings.Contains(s, "got-hello") {
		t.Errorf("run with a terminal: %v", r)
	}
}
