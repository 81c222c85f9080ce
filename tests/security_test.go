package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Regression tests for the security checklist of DESIGN.md.

// TestSealedInitBinary (CVE-2019-5736): the init runs from a sealed
// executable (a copy of rt, or an embedded init) that can't be written
// through /proc/<init>/exe, never from the rt binary on disk.
func TestSealedInitBinary(t *testing.T) {
	t.Parallel()
	h := newH(t)
	_, pid := h.Create(h.Bundle(args("sleep", "1000")))
	exe := fmt.Sprintf("/proc/%d/exe", pid)
	target, _ := os.Readlink(exe)
	var a, b syscall.Stat_t
	if err := syscall.Stat(exe, &a); err != nil {
		t.Fatal(err)
	}
	syscall.Stat(rtBin, &b)
	if a.Dev == b.Dev && a.Ino == b.Ino {
		t.Errorf("the init runs from the rt binary itself (%s), not from a sealed copy", target)
	}
	if f, err := os.OpenFile(exe, os.O_WRONLY, 0); err == nil {
		f.Close()
		t.Errorf("opened the init's executable %s (%s) for writing", exe, target)
	}
	// Through a path, too (a sealed memfd or a read-only overlay).
	if f, err := os.OpenFile(exe, os.O_RDWR|os.O_APPEND, 0); err == nil {
		f.Close()
		t.Errorf("opened the init's executable %s (%s) read-write", exe, target)
	}
}

// TestCwdThroughInheritedFd (CVE-2024-21626): process.cwd pointing at
// /proc/self/fd/N of the init must never leave the process in a host
// directory.
func TestCwdThroughInheritedFd(t *testing.T) {
	t.Parallel()
	h := newH(t)
	marker := filepath.Join(h.Dir, "host-marker")
	os.WriteFile(marker, []byte("host\n"), 0o644)
	up := strings.Repeat("../", 40)
	for fd := 3; fd <= 15; fd++ {
		b := h.Bundle(sh(`echo pwd=$(pwd -P); cat `+up+marker[1:]+` 2>/dev/null && echo ESCAPED`), writable,
			func(s *specs.Spec) { s.Process.Cwd = fmt.Sprintf("/proc/self/fd/%d", fd) })
		r := h.Run(b, RunOpts{})
		if strings.Contains(r.Stdout, "ESCAPED") || strings.Contains(r.Stdout, "unreachable") {
			t.Errorf("cwd /proc/self/fd/%d reached the host: %v", fd, r)
		}
		if r.Code != 0 && (!strings.Contains(r.Stderr, "process.cwd") || len(lines(r.Stderr)) != 1) {
			t.Errorf("cwd /proc/self/fd/%d: failure does not name process.cwd in one line: %v", fd, r)
		}
	}
}

// TestNoHostFdsInCreatedInit: while it waits for start, the init holds no
// descriptor of the caller beyond stdio (only its own, all close-on-exec).
func TestCallerFdsNotInInit(t *testing.T) {
	t.Parallel()
	h := newH(t)
	secret := filepath.Join(h.Dir, "caller-secret")
	os.WriteFile(secret, []byte("x"), 0o600)
	f, err := os.Open(secret)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := h.Bundle(args("sleep", "1000"))
	id := h.ID("fds")
	h.RTo(RunOpts{ExtraFiles: []*os.File{f, f, f}}, "create", "--bundle", b.Dir, id)
	st := h.State(id)
	if st.Pid == 0 {
		t.Fatalf("create failed")
	}
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", st.Pid))
	for _, e := range ents {
		if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", st.Pid, e.Name())); l == secret {
			t.Errorf("the created init holds the caller's fd as its fd %s (%s)", e.Name(), l)
		}
	}
}
