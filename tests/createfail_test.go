package tests

import (
	"strings"
	"testing"
	"time"
)

// TestFailDuringCreate makes create fail with an error at each of its
// named steps (RT_TEST_FAIL_AT, libct/crash.go) and requires create's own
// undo to leave nothing: no state dir, no cgroup dir, no process in the
// cgroup, no host mount, and no init left to the subreaper (this test
// process): on cgroup v1 the init is cloned before the record, so every
// error path must kill and reap it, not leave it to exit on EOF.
// Serial: it counts this process's children.
func TestFailDuringCreate(t *testing.T) {
	h := newH(t)
	for _, step := range crashSteps {
		t.Run(step, func(t *testing.T) {
			reapZombies()
			before := map[int]bool{}
			for _, p := range children() {
				before[p.Pid] = true
			}
			mounts := hostMounts()
			b := h.Bundle(args("sleep", "1000"))
			id := h.ID("fail")
			r := h.RTo(RunOpts{Env: []string{"RT_TEST_FAIL_AT=" + step}}, "create", "--bundle", b.Dir, id)
			if r.Code == 0 || !strings.Contains(r.Stderr, "failure injected at step "+step) || len(lines(r.Stderr)) != 1 {
				t.Fatalf("create failing at %s: want one line naming the step, exit != 0: %v", step, r)
			}
			// An init left behind would exit on EOF at once, reparented
			// to this process: give it the time to show up.
			time.Sleep(300 * time.Millisecond)
			for _, p := range children() {
				if !before[p.Pid] {
					t.Errorf("create left process %d (%s, state %c) to the subreaper", p.Pid, p.Comm, p.State)
				}
			}
			reapZombies()
			checkNoTrace(t, h, id, b, "create")
			checkMountsUnchanged(t, mounts)
		})
	}
}
