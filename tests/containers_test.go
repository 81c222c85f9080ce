package tests

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// More lifecycle behaviour: locking, kill --all, state fields, the default
// cgroup path.

// TestConcurrentCreateSameID: of several simultaneous creates of one ID,
// exactly one wins; the others fail cleanly and touch nothing.
func TestConcurrentCreateSameID(t *testing.T) {
	t.Parallel()
	h := newH(t)
	const n = 5
	id := h.ID("race")
	var bundles []*Bundle
	for i := 0; i < n; i++ {
		bundles = append(bundles, h.Bundle(args("sleep", "1000")))
	}
	results := make([]Result, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r, err := rtCmd(RunOpts{}, "--root", h.Root, "create", "--bundle", bundles[i].Dir, id)
			if err != nil {
				r.Code, r.Stderr = -1, err.Error()
			}
			results[i] = r
		}(i)
	}
	wg.Wait()
	winner := -1
	for i, r := range results {
		switch {
		case r.Code == 0 && winner < 0:
			winner = i
		case r.Code == 0:
			t.Errorf("two creates of %s succeeded", id)
		case !strings.Contains(r.Stderr, "already exists") || len(lines(r.Stderr)) != 1:
			t.Errorf("losing create: want one line with \"already exists\": %v", r)
		}
	}
	if winner < 0 {
		t.Fatalf("no create succeeded: %v", results)
	}
	st := h.State(id)
	if st.Status != specs.StateCreated || st.Bundle != bundles[winner].Dir {
		t.Errorf("state %+v, want created from %s", st, bundles[winner].Dir)
	}
	for i, b := range bundles {
		if i != winner && len(cgroupDirs(b.Cgroup)) > 0 {
			t.Errorf("losing create %d left cgroup %s", i, b.Cgroup)
		}
	}
}

// TestKillAll: SIGTERM to the pid-1 shell (no handler) is ignored, so the
// container keeps running; kill --all reaches the sleeps too, and the shell
// exits once they are gone.
func TestKillAll(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(sh(`sleep 1000 & sleep 1000 & wait; wait`))
	id, _ := h.StartDetached(b)
	if !waitFor(10*time.Second, func() bool { return len(procsInCgroup(b.Cgroup)) == 3 }) {
		t.Fatalf("want sh and two sleeps in the cgroup, have %v", procsInCgroup(b.Cgroup))
	}
	h.MustRT("kill", id, "TERM")
	time.Sleep(300 * time.Millisecond)
	if st := h.State(id); st.Status != specs.StateRunning {
		t.Errorf("after kill TERM of an init without a handler: %s, want running", st.Status)
	}
	h.MustRT("kill", "--all", id, "TERM")
	h.WaitStatus(id, specs.StateStopped)
	h.MustRT("delete", id)
}

// TestDeleteCreated: delete (without --force) of a created container
// kills its waiting init, as runc does.
func TestDeleteCreated(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(args("sleep", "1000"))
	id, pid := h.Create(b)
	h.MustRT("delete", id)
	checkGone(t, pid, "delete of a created container")
	if fileExists(filepath.Join(h.Root, id)) || len(cgroupDirs(b.Cgroup)) > 0 {
		t.Errorf("delete left the state dir or cgroup")
	}
}

func TestStateFields(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(args("sleep", "1000"), func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.example.itest": "yes"}
	})
	before := time.Now().Add(-time.Second)
	id, pid := h.Create(b)
	r := h.MustRT("state", id)
	var st struct {
		specs.State
		Rootfs  string    `json:"rootfs"`
		Created time.Time `json:"created"`
	}
	if err := jsonUnmarshal(r.Stdout, &st); err != nil {
		t.Fatalf("state: %v: %s", err, r.Stdout)
	}
	if st.Version != specs.Version || st.ID != id || st.Pid != pid || st.Bundle != b.Dir ||
		st.Annotations["org.example.itest"] != "yes" || st.Rootfs != b.Rootfs {
		t.Errorf("state = %s\nwant ociVersion %s, id %s, pid %d, bundle %s, rootfs %s, the annotation",
			r.Stdout, specs.Version, id, pid, b.Dir, b.Rootfs)
	}
	if st.Created.Before(before) || st.Created.After(time.Now()) {
		t.Errorf("created = %v, not during this test", st.Created)
	}
	// --debug logs go to stderr: stdout stays the JSON engines parse.
	r = h.MustRT("--debug", "state", id)
	if err := jsonUnmarshal(r.Stdout, &st); err != nil {
		t.Errorf("rt --debug state: stdout is not JSON (%v): %q", err, r.Stdout)
	}
}

// TestDefaultCgroupPath: without linux.cgroupsPath the container's cgroup
// is "<id>" below rt's own, in every v1 hierarchy; delete removes it.
func TestDefaultCgroupPath(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(args("sleep", "1000"), func(s *specs.Spec) { s.Linux.CgroupsPath = "" })
	id, pid := h.StartDetached(b)
	dirs := cgroupDirsOf(t, pid)
	if len(dirs) == 0 {
		t.Fatalf("no v1 cgroup of the init found")
	}
	own := cgroupDirsOf(t, os.Getpid())
	for ctrl, d := range dirs {
		if want := own[ctrl] + "/" + id; d != want && filepath.Clean(d) != filepath.Clean(want) {
			t.Errorf("%s cgroup of the init: %s, want %s", ctrl, d, want)
		}
	}
	h.MustRT("delete", "--force", id)
	for ctrl, d := range dirs {
		if !strings.HasSuffix(d, "/"+id) {
			continue
		}
		if fileExists(d) {
			t.Errorf("delete --force left the %s cgroup %s", ctrl, d)
		}
	}
}

// cgroupDirsOf maps each v1 hierarchy (its mount dir name) to the
// directory of pid's cgroup in it.
func cgroupDirsOf(t *testing.T, pid int) map[string]string {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 || parts[1] == "" {
			continue
		}
		name := strings.TrimPrefix(parts[1], "name=")
		mnt := filepath.Join("/sys/fs/cgroup", name)
		if fileExists(mnt) {
			out[name] = filepath.Join(mnt, parts[2])
		}
	}
	return out
}

// TestSmallPidsLimit: a single-process container runs under
// pids.limit 1 (runc applies limits once its init is ready, so its own
// threads don't count against them).
func TestSmallPidsLimit(t *testing.T) {
	t.Parallel()
	h := newH(t)
	for _, n := range []int64{1, 2, 3, 4} {
		limit := n
		b := h.Bundle(sh(`echo ok`), func(s *specs.Spec) { s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &limit} })
		r := h.Run(b, RunOpts{})
		if r.Code != 0 || r.Stdout != "ok\n" {
			last := lines(r.Stderr)
			if len(last) > 0 && strings.Contains(r.Stderr, "newosproc") {
				knownBug(t, "linux.resources.pids.limit %d: the Go init crashes (\"fatal error: newosproc\", %d lines of "+
					"runtime stack on the caller's stderr; rt says %q): rt writes the limits (cg.Set in libct/create.go) "+
					"before spawning its multi-threaded init; runc sets them after the init is ready", n, len(last), last[len(last)-1])
			}
			t.Errorf("pids.limit %d: %v", n, r)
		}
	}
}

// TestDeleteKillsLeftovers: without a pid namespace a container's init can
// exit and leave children in its cgroup; the container reads as stopped,
// kill --all still reaches them, and delete kills them and removes the
// cgroup.
func TestDeleteKillsLeftovers(t *testing.T) {
	t.Parallel()
	h := newH(t)
	for _, all := range []bool{false, true} {
		b := h.Bundle(sh(`sleep 1000 & echo started`), func(s *specs.Spec) { dropNS(s, specs.PIDNamespace) })
		id := h.ID("left")
		h.MustRT("run", "-d", "--bundle", b.Dir, id)
		h.WaitStatus(id, specs.StateStopped)
		// The shell's child may not have exec'd sleep yet.
		var left []Proc
		waitFor(3*time.Second, func() bool {
			left = procsInCgroup(b.Cgroup)
			return len(left) == 1 && left[0].Comm == "sleep"
		})
		if len(left) != 1 || left[0].Comm != "sleep" {
			t.Fatalf("want the sleep left in cgroup %s, found %v", b.Cgroup, left)
		}
		if all {
			h.MustRT("kill", "--all", id, "KILL")
			checkGone(t, left[0].Pid, "kill --all")
		}
		h.MustRT("delete", id)
		checkGone(t, left[0].Pid, "delete of a stopped container")
		if ds := cgroupDirs(b.Cgroup); len(ds) > 0 {
			t.Errorf("delete left cgroup dirs %v", ds)
		}
	}
}

// TestKillCreated: a signal to a created container's waiting init ends it.
func TestKillCreated(t *testing.T) {
	t.Parallel()
	h := newH(t)
	id, pid := h.Create(h.Bundle(args("sleep", "1000")))
	h.MustRT("kill", id, "TERM")
	checkGone(t, pid, "kill TERM of a created container")
	h.WaitStatus(id, specs.StateStopped)
	if r := h.RT("start", id); r.Code == 0 || !strings.Contains(r.Stderr, "stopped") {
		t.Errorf("start after the init was killed: %v", r)
	}
	h.MustRT("delete", id)
}

// TestOddRecords: a state dir without state.json (a create that died
// right after mkdir) reads as stopped and deletes; a corrupt state.json
// can at least be removed with delete --force.
func TestOddRecords(t *testing.T) {
	t.Parallel()
	h := newH(t)
	empty, corrupt := h.ID("empty"), h.ID("corrupt")
	os.MkdirAll(filepath.Join(h.Root, empty), 0o700)
	if st := h.State(empty); st.Status != specs.StateStopped {
		t.Errorf("record without state.json: status %s, want stopped", st.Status)
	}
	h.MustRT("delete", empty)
	if fileExists(filepath.Join(h.Root, empty)) {
		t.Errorf("delete left the empty record")
	}
	os.MkdirAll(filepath.Join(h.Root, corrupt), 0o700)
	os.WriteFile(filepath.Join(h.Root, corrupt, "state.json"), []byte("garbage"), 0o600)
	if r := h.RT("state", corrupt); r.Code == 0 || !strings.Contains(r.Stderr, "corrupt") {
		t.Errorf("state of a corrupt record: %v", r)
	}
	r := h.RT("delete", "--force", corrupt)
	if r.Code != 0 || fileExists(filepath.Join(h.Root, corrupt)) {
		os.RemoveAll(filepath.Join(h.Root, corrupt))
		knownBug(t, "delete --force cannot remove a record whose state.json is unreadable (exit %d: %q), "+
			"and list silently omits it while create of the ID says \"already exists\": the ID is stuck "+
			"(libct/lifecycle.go Delete returns open()'s Load error even with force)", r.Code, strings.TrimSpace(r.Stderr))
	}
}
