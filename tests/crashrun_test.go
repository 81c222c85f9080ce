package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestCrashedRunWorkloadReadsRunning (regression, session 4 review): a
// foreground `rt run` killed after it released the init (crash point
// start-record) leaves the workload running while the record is still in
// phase creating (run never saves phase created). It must read running,
// as after a crashed `rt start`: `rt state` with its pid, `rt kill` works,
// and a new create of the ID must not reclaim (kill) it.
func TestCrashedRunWorkloadReadsRunning(t *testing.T) {
	h := newH(t)
	b := h.Bundle(args("sleep", "1000"))
	id := h.ID("crashedrun")
	h.crashed("start-record", "run", "--bundle", b.Dir, id)

	raw, err := os.ReadFile(filepath.Join(h.Root, id, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Pid   int    `json:"pid"`
		Phase string `json:"phase"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Pid <= 0 {
		t.Fatalf("record has no init pid: %s", raw)
	}
	// The init was released: wait until it has exec'd the workload.
	if !waitFor(5*time.Second, func() bool {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(rec.Pid) + "/cmdline")
		return err == nil && strings.HasPrefix(string(b), "sleep\x00")
	}) {
		t.Fatalf("init %d never ran the workload", rec.Pid)
	}
	st := h.State(id)
	if st.Status != specs.StateRunning {
		t.Errorf("workload %d runs (record phase %q) but rt state says %s with pid %d, want running",
			rec.Pid, rec.Phase, st.Status, st.Pid)
	}
	if r := h.RT("create", "--bundle", b.Dir, id); r.Code == 0 || !strings.Contains(r.Stderr, "exists") {
		t.Errorf("a new create of the ID over the running workload: %v, want an error saying it exists", r)
	}
	if st := h.State(id); st.Status != specs.StateRunning || st.Pid != rec.Pid {
		t.Errorf("after the refused create: %s with pid %d, want running with %d", st.Status, st.Pid, rec.Pid)
	}
	if r := h.RT("kill", id, "KILL"); r.Code != 0 {
		t.Errorf("rt kill of the running workload refused: %s", strings.TrimSpace(r.Stderr))
	}
	// cleanup (h.cleanup) force-deletes it.
}
