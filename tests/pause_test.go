package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// procState is the state letter of /proc/PID/stat.
func procState(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return ""
	}
	return string(b[i+2])
}

// TestPauseResumePs: pause freezes the container (its process stops
// counting: a counter inside does not advance), state and list say paused,
// ps lists the processes, resume thaws it, and a paused container can be
// killed and deleted with --force.
func TestPauseResumePs(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(sh(`i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done`), writable)
	id, pid := h.StartDetached(b)
	count := func() string {
		b, _ := os.ReadFile(b.Rootfs + "/tmp/count")
		return strings.TrimSpace(string(b))
	}
	waitFor(3*time.Second, func() bool { return count() != "" })

	h.MustRT("pause", id)
	if st := h.State(id); st.Status != "paused" {
		t.Fatalf("state after pause: %s", st.Status)
	}
	if !strings.Contains(h.MustRT("list").Stdout, "paused") {
		t.Errorf("list does not show paused")
	}
	c1 := count()
	time.Sleep(300 * time.Millisecond)
	if c2 := count(); c1 != c2 {
		t.Errorf("counter moved while paused: %s -> %s", c1, c2)
	}
	var pids []int
	if err := json.Unmarshal([]byte(h.MustRT("ps", "--format", "json", id).Stdout), &pids); err != nil || len(pids) < 1 || pids[0] != pid {
		t.Errorf("ps --format json: %v %v, want the init %d first", pids, err, pid)
	}
	if r := h.RT("pause", id); r.Code == 0 {
		t.Errorf("pause of a paused container succeeded")
	}
	h.MustRT("resume", id)
	if st := h.State(id); st.Status != specs.StateRunning {
		t.Fatalf("state after resume: %s", st.Status)
	}
	if !waitFor(3*time.Second, func() bool { return count() != c1 }) {
		t.Errorf("counter did not move after resume")
	}
	// Killing a paused container works; so does delete --force of one.
	h.MustRT("pause", id)
	h.MustRT("kill", id, "KILL")
	h.WaitStatus(id, specs.StateStopped)
	h.MustRT("delete", id)

	id2, pid2 := h.StartDetached(h.Bundle(args("sleep", "1000")))
	h.MustRT("pause", id2)
	h.MustRT("delete", "--force", id2)
	if !waitFor(3*time.Second, func() bool { reapZombies(); return procGone(pid2) }) {
		t.Errorf("delete --force of a paused container left process %d (%s)", pid2, procState(pid2))
	}
}
