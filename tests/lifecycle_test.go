package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Lifecycle tests, observed from the host. The ones that compare host-wide
// state (mounts, our children) run serially: before every t.Parallel test.

// sig handler so the pid-1 shell dies of TERM (pid 1 ignores unhandled ones).
const termScript = `trap 'exit 143' TERM; sleep 1000 & wait`

// checkMountsUnchanged fails on new host mounts that involve our files or
// "/"; other new mounts (someone else's) are only logged.
func checkMountsUnchanged(t *testing.T, before []string) {
	t.Helper()
	for _, l := range newMounts(before, hostMounts()) {
		f := strings.Fields(l)
		if strings.Contains(l, workDir) || (len(f) > 4 && f[4] == "/") {
			t.Errorf("host mount added or changed: %s", l)
		} else {
			t.Logf("new host mount, not ours: %s", l)
		}
	}
}

// checkGone fails unless pid is gone (a reaped or unreaped dead process).
func checkGone(t *testing.T, pid int, what string) {
	t.Helper()
	ok := waitFor(5*time.Second, func() bool {
		reapZombies()
		p, ok := readProc(pid)
		return !ok || p.State == 'Z'
	})
	if !ok {
		p, _ := readProc(pid)
		t.Errorf("%s: process %d (%s) still alive", what, pid, p.Cmdline)
	}
}

func TestLifecycle(t *testing.T) {
	h := newH(t)
	mounts := hostMounts()
	kids := len(liveChildren())
	b := h.Bundle(sh(termScript))
	for _, sig := range []string{"TERM", "SIGTERM", "15"} {
		id, pid := h.Create(b)
		st := h.State(id)
		if st.Status != specs.StateCreated || st.Pid != pid || st.ID != id || st.Bundle != b.Dir {
			t.Errorf("after create: state %+v, want created, pid %d (the --pid-file's), bundle %s", st, pid, b.Dir)
		}
		if cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); !strings.HasPrefix(string(cl), "rt\x00init") {
			t.Errorf("created init %d: cmdline %q, want rt\\0init...", pid, cl)
		}
		if len(cgroupDirs(b.Cgroup)) == 0 {
			t.Errorf("after create: no cgroup directory %s under /sys/fs/cgroup/*", b.Cgroup)
		}
		h.MustRT("start", id)
		h.WaitStatus(id, specs.StateRunning)
		if r := h.RT("start", id); r.Code == 0 || !strings.Contains(r.Stderr, "running") || len(lines(r.Stderr)) != 1 {
			t.Errorf("second start: want one-line failure saying it is running: %v", r)
		}
		if !waitFor(10*time.Second, func() bool { return catches(pid, syscall.SIGTERM) }) {
			t.Fatalf("the container's sh never set its TERM trap")
		}
		h.MustRT("kill", id, sig)
		h.WaitStatus(id, specs.StateStopped)
		if st := h.State(id); st.Pid != 0 {
			t.Errorf("stopped container: state pid %d, want 0", st.Pid)
		}
		h.MustRT("delete", id)
		if fileExists(filepath.Join(h.Root, id)) {
			t.Errorf("delete left the state dir %s", filepath.Join(h.Root, id))
		}
		if r := h.RT("state", id); r.Code == 0 || !strings.Contains(r.Stderr, "does not exist") {
			t.Errorf("state after delete: %v", r)
		}
		if ds := cgroupDirs(b.Cgroup); len(ds) > 0 {
			t.Errorf("delete left cgroup dirs %v", ds)
		}
		checkGone(t, pid, "after kill "+sig+" and delete")
	}
	checkMountsUnchanged(t, mounts)
	reapZombies()
	if n := len(liveChildren()); n != kids {
		t.Errorf("live children: %d before, %d after: %v", kids, n, liveChildren())
	}
}

func TestDeleteForceRunning(t *testing.T) {
	h := newH(t)
	mounts := hostMounts()
	for _, detach := range []string{"-d", "--detach"} {
		b := h.Bundle(args("sleep", "1000"))
		id := h.ID("df")
		pf := filepath.Join(h.Dir, id+".pid")
		h.MustRT("run", detach, "--pid-file", pf, "--bundle", b.Dir, id)
		st := h.State(id)
		if st.Status != specs.StateRunning || st.Pid <= 0 {
			t.Fatalf("run %s: state %+v, want running", detach, st)
		}
		if data, _ := os.ReadFile(pf); strings.TrimSpace(string(data)) != fmt.Sprint(st.Pid) {
			t.Errorf("run %s --pid-file: %q, want %d", detach, data, st.Pid)
		}
		if r := h.RT("delete", id); r.Code == 0 || !strings.Contains(r.Stderr, "not stopped") {
			t.Errorf("delete of a running container without --force: %v", r)
		}
		h.MustRT("delete", "--force", id)
		checkGone(t, st.Pid, "delete --force")
		if fileExists(filepath.Join(h.Root, id)) || len(cgroupDirs(b.Cgroup)) > 0 {
			t.Errorf("delete --force left state dir or cgroup: %v", cgroupDirs(b.Cgroup))
		}
	}
	checkMountsUnchanged(t, mounts)
}

func TestMissingAndStoppedErrors(t *testing.T) {
	t.Parallel()
	h := newH(t)
	if r := h.RT("delete", "--force", "no-such-"+runToken); r.Code != 0 {
		t.Errorf("delete --force of a missing ID: %v", r)
	}
	for _, cmd := range [][]string{{"delete"}, {"state"}, {"kill"}, {"start"}} {
		r := h.RT(append(cmd, "no-such-"+runToken)...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "does not exist") || len(lines(r.Stderr)) != 1 {
			t.Errorf("%s of a missing ID: want one line with \"does not exist\": %v", cmd[0], r)
		}
	}
	b := h.Bundle(args("true"))
	id, pid := h.Create(b)
	h.MustRT("start", id)
	checkGone(t, pid, "true")
	h.WaitStatus(id, specs.StateStopped)
	if r := h.RT("kill", id, "KILL"); r.Code == 0 || !strings.Contains(r.Stderr, "container not running") {
		t.Errorf("kill of a stopped container: want \"container not running\": %v", r)
	}
	if r := h.RT("start", id); r.Code == 0 || !strings.Contains(r.Stderr, "stopped") {
		t.Errorf("start of a stopped container: %v", r)
	}
	if r := h.RT("kill", id, "NOSUCHSIG"); r.Code == 0 || !strings.Contains(r.Stderr, "NOSUCHSIG") {
		t.Errorf("kill with a bad signal name: %v", r)
	}
	h.MustRT("delete", id)
}

func TestRunForegroundCleansUp(t *testing.T) {
	h := newH(t)
	mounts := hostMounts()
	b := h.Bundle(sh(`echo hi; exit 3`))
	id := h.ID("fg")
	r := h.RT("run", "--bundle", b.Dir, id)
	if r.Code != 3 || r.Stdout != "hi\n" {
		t.Errorf("run: %v, want exit 3 and \"hi\"", r)
	}
	if fileExists(filepath.Join(h.Root, id)) || len(cgroupDirs(b.Cgroup)) > 0 {
		t.Errorf("run left its state dir or cgroup")
	}
	if out := h.MustRT("list", "-q").Stdout; out != "" {
		t.Errorf("list -q after run: %q, want nothing", out)
	}
	checkMountsUnchanged(t, mounts)
}

func TestList(t *testing.T) {
	t.Parallel()
	h := newH(t)
	if out := strings.TrimSpace(h.MustRT("list", "--format", "json").Stdout); out != "[]" {
		t.Errorf("list --format json with no containers: %q, want []", out)
	}
	created, cpid := h.Create(h.Bundle(args("sleep", "1000")))
	running, rpid := h.StartDetached(h.Bundle(args("sleep", "1000")))
	stopped, spid := h.StartDetached(h.Bundle(args("true")))
	checkGone(t, spid, "true")
	h.WaitStatus(stopped, specs.StateStopped)
	want := map[string]struct {
		status string
		pid    int
	}{created: {"created", cpid}, running: {"running", rpid}, stopped: {"stopped", 0}}

	q := lines(h.MustRT("list", "-q").Stdout)
	if len(q) != 3 {
		t.Errorf("list -q: %q, want the 3 IDs", q)
	}
	for _, id := range q {
		if _, ok := want[id]; !ok {
			t.Errorf("list -q: unexpected %q", id)
		}
	}
	var js []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Pid    int    `json:"pid"`
		Bundle string `json:"bundle"`
	}
	out := h.MustRT("list", "--format", "json").Stdout
	if err := json.Unmarshal([]byte(out), &js); err != nil || len(js) != 3 {
		t.Fatalf("list --format json: %v: %q", err, out)
	}
	for _, c := range js {
		if w := want[c.ID]; c.Status != w.status || c.Pid != w.pid || c.Bundle == "" {
			t.Errorf("list json %s: status %s pid %d, want %s %d", c.ID, c.Status, c.Pid, w.status, w.pid)
		}
	}
	table := lines(h.MustRT("list").Stdout)
	if len(table) != 4 || !strings.HasPrefix(table[0], "ID") || !strings.Contains(table[0], "STATUS") {
		t.Fatalf("list: %q, want a header and 3 rows", table)
	}
	for _, row := range table[1:] {
		f := strings.Fields(row)
		if w, ok := want[f[0]]; !ok || f[1] != fmt.Sprint(w.pid) || f[2] != w.status {
			t.Errorf("list row %q: want pid %d status %s", row, w.pid, w.status)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	newH(t) // skips without root
	r := execRT(t, RunOpts{}, "--version")
	for _, want := range []string{"rt version ", "commit:", "spec: " + specs.Version} {
		if r.Code != 0 || !strings.Contains(r.Stdout, want) {
			t.Errorf("--version: want %q: %v", want, r)
		}
	}
}

func TestSpecCommand(t *testing.T) {
	t.Parallel()
	h := newH(t)
	h.MustRT("spec", "--bundle", h.Dir)
	data, err := os.ReadFile(filepath.Join(h.Dir, "config.json"))
	var s specs.Spec
	if err != nil || json.Unmarshal(data, &s) != nil || s.Version != specs.Version || s.Root == nil || s.Process == nil {
		t.Errorf("rt spec wrote %q (%v)", data, err)
	}
	if r := h.RT("spec", "--bundle", h.Dir); r.Code == 0 || !strings.Contains(r.Stderr, "exists") {
		t.Errorf("rt spec over an existing config.json: %v", r)
	}
}

// TestPidReuseDetection: a state.json whose pidStart does not match the
// process at pid reads as stopped, and rt never signals that process.
func TestPidReuseDetection(t *testing.T) {
	t.Parallel()
	h := newH(t)
	id, pid := h.Create(h.Bundle(args("sleep", "1000")))
	p := filepath.Join(h.Root, id, "state.json")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	start, ok := raw["pidStart"].(float64)
	if !ok {
		t.Fatalf("state.json has no numeric pidStart: %s", data)
	}
	raw["pidStart"] = start + 1
	data, _ = json.Marshal(raw)
	os.WriteFile(p, data, 0o600)
	if st := h.State(id); st.Status != specs.StateStopped || st.Pid != 0 {
		t.Errorf("state with a wrong pidStart: %+v, want stopped with pid 0", st)
	}
	if r := h.RT("kill", id, "KILL"); r.Code == 0 {
		t.Errorf("kill with a wrong pidStart succeeded: %v", r)
	}
	if pr, ok := readProc(pid); !ok || pr.State == 'Z' {
		t.Errorf("rt signalled process %d although its start time does not match", pid)
	}
	h.MustRT("delete", "--force", id)
	checkGone(t, pid, "delete --force (the orphaned init is still in the cgroup)")
}

func TestLogJSON(t *testing.T) {
	t.Parallel()
	h := newH(t)
	log := filepath.Join(h.Dir, "rt.log")
	r := h.RT("--log", log, "--log-format", "json", "delete", "no-such-"+runToken)
	if r.Code == 0 {
		t.Fatalf("delete of a missing ID succeeded: %v", r)
	}
	data, _ := os.ReadFile(log)
	found := false
	for _, l := range lines(string(data)) {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Errorf("--log-format json: line is not JSON: %q", l)
			continue
		}
		if e["level"] == "error" && strings.Contains(fmt.Sprint(e["msg"]), "does not exist") {
			found = true
		}
	}
	if !found {
		t.Errorf("--log %s has no {\"level\":\"error\"} line with the message: %q", log, data)
	}
	// A failing create logs the field it fails on.
	b := h.Bundle(func(s *specs.Spec) { s.Process.Cwd = "relative" })
	log2 := filepath.Join(h.Dir, "rt2.log")
	if r := h.RT("--log", log2, "--log-format", "json", "create", "--bundle", b.Dir, h.ID("log")); r.Code == 0 {
		t.Errorf("create with a relative cwd succeeded")
	}
	if data, _ := os.ReadFile(log2); !strings.Contains(string(data), `"level":"error"`) || !strings.Contains(string(data), "process.cwd") {
		t.Errorf("--log of a failed create: %q, want an error line naming process.cwd", data)
	}
	if r := h.RT("--log-format", "yaml", "list"); r.Code == 0 || !strings.Contains(r.Stderr, "--log-format") {
		t.Errorf("--log-format yaml: %v", r)
	}
}

// TestIDCharacters: IDs may use letters, digits and _ + - . (as runc).
func TestIDCharacters(t *testing.T) {
	t.Parallel()
	h := newH(t)
	id := "A_b+c.d-" + runToken
	h.ids = append(h.ids, id)
	b := h.Bundle(args("sleep", "1000"))
	h.MustRT("create", "--bundle", b.Dir, id)
	if st := h.State(id); st.ID != id || st.Status != specs.StateCreated {
		t.Errorf("state of %s: %+v", id, st)
	}
	if q := strings.TrimSpace(h.MustRT("list", "-q").Stdout); q != id {
		t.Errorf("list -q = %q, want %q", q, id)
	}
	h.MustRT("delete", id)
}
