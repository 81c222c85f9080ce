package tests

import (
	"fmt"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestInitExecNotDumpable: the init is exec'd from a copy it can't read
// (mode 0111, CAP_DAC_* out of the spawning child's effective set), so the
// kernel makes it non-dumpable from the exec's first instruction, not only
// once rt-init's own prctl has run, and gives its memory to the initial
// user namespace. The first is a window of milliseconds; the second stays
// and is what the host sees: a non-dumpable process's /proc files belong
// to the root of its memory's user namespace, so a user-namespaced init
// whose exec was not made non-dumpable shows the container's root
// (usernsBase) there, and one whose exec was shows host root. Both shapes
// of the spawn: create's fast path (a new user namespace) and the join
// path (joining another container's user and pid namespaces, as rt exec
// does). An init exec'd from the rt binary itself (a build without
// rt_embed_init: the overlay shows the binary's own, readable mode) is
// left as it was; the test skips then.
func TestInitExecNotDumpable(t *testing.T) {
	t.Parallel()
	h := newH(t)
	_, apid := h.Create(h.mappedBundle(sleeper))
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/exe", apid), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o444 != 0 {
		t.Skipf("the init runs from a readable executable (mode %#o): rt built without rt_embed_init", st.Mode&0o7777)
	}
	if st.Mode&0o7777 != 0o111 {
		t.Errorf("init executable mode %#o, want 0111", st.Mode&0o7777)
	}
	owner := func(pid int) string {
		var s syscall.Stat_t
		if err := syscall.Lstat(fmt.Sprintf("/proc/%d/fd", pid), &s); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d:%d", s.Uid, s.Gid)
	}
	if o := owner(apid); o != "0:0" {
		t.Errorf("fast path: /proc/%d/fd of the waiting init belongs to %s, want 0:0 (host root: exec'd non-dumpable)", apid, o)
	}
	join := h.mappedBundle(sleeper, func(s *specs.Spec) {
		s.Linux.Namespaces = s.Linux.Namespaces[:len(s.Linux.Namespaces)-1]
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.PIDNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/pid", apid)
			}
		}
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: fmt.Sprintf("/proc/%d/ns/user", apid)})
	})
	bid, bpid := h.Create(join)
	// B lives in A's pid namespace: delete it first, and reap it (this
	// subreaper is its parent), or A's init can't finish dying.
	defer func() {
		h.RT("delete", "--force", bid)
		var ws syscall.WaitStatus
		syscall.Wait4(bpid, &ws, 0, nil)
	}()
	if a, b := nsLink(t, apid, "pid"), nsLink(t, bpid, "pid"); a != b {
		t.Fatalf("B did not join A's pid namespace: %s, %s", b, a)
	}
	if o := owner(bpid); o != "0:0" {
		t.Errorf("join path: /proc/%d/fd of the waiting init belongs to %s, want 0:0 (host root: exec'd non-dumpable)", bpid, o)
	}
}
