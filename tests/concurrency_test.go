package tests

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Concurrency (docs/reliability.md): commands on one ID are serialised by
// the flock on its state directory and state.json is replaced atomically,
// so concurrent commands never corrupt or half-write a record; commands on
// different IDs do not disturb each other. Serial top-level tests: they
// count our children.

// oneLineError checks what a failed rt command printed: exactly one line,
// "rt: ..." with no panic or Go runtime trace. It returns "" if fine.
func oneLineError(r Result) string {
	ls := lines(r.Stderr)
	switch {
	case len(ls) != 1:
		return fmt.Sprintf("want one stderr line, got %d", len(ls))
	case !strings.HasPrefix(ls[0], "rt: "):
		return "stderr line does not start with \"rt: \""
	}
	for _, bad := range []string{"panic", "goroutine ", "runtime error", "SIGSEGV", "\x00"} {
		if strings.Contains(r.Stderr, bad) {
			return fmt.Sprintf("stderr contains %q", bad)
		}
	}
	return ""
}

// parallel runs each command line in its own goroutine, all released at
// once, and returns their results in order.
func (h *H) parallel(cmds [][]string) []Result {
	h.t.Helper()
	res := make([]Result, len(cmds))
	errs := make([]error, len(cmds))
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i, c := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			res[i], errs[i] = rtCmd(RunOpts{Timeout: 2 * time.Minute}, append([]string{"--root", h.Root}, c...)...)
		}()
	}
	close(gate)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			h.t.Fatal(err)
		}
	}
	return res
}

// TestParallelRuns: 50 `rt run` at once, distinct IDs, half of them in
// cgroups below one shared parent that none of them owns alone. Each must
// report its container's own exit status and output.
func TestParallelRuns(t *testing.T) {
	h := newH(t)
	const n = 50
	kids, mounts := len(liveChildren()), hostMounts()
	parent := fmt.Sprintf("/rt-itest-%s-%d", runToken, counter.Add(1))
	var cmds [][]string
	var bundles []*Bundle
	for i := 0; i < n; i++ {
		muts := []func(*specs.Spec){sh(fmt.Sprintf("echo run-%d; exit %d", i, i%7))}
		if i%2 == 1 {
			muts = append(muts, func(s *specs.Spec) { s.Linux.CgroupsPath = fmt.Sprintf("%s/c%d", parent, i) })
		}
		b := h.Bundle(muts...)
		bundles = append(bundles, b)
		cmds = append(cmds, []string{"run", "--bundle", b.Dir, h.ID("par")})
	}
	start := time.Now()
	res := h.parallel(cmds)
	t.Logf("%d parallel runs in %v", n, time.Since(start).Round(time.Millisecond))
	for i, r := range res {
		if r.Code != i%7 || strings.TrimSpace(r.Stdout) != fmt.Sprintf("run-%d", i) {
			t.Errorf("run %d: want exit %d and output run-%d: %v", i, i%7, i, r)
		}
	}
	if names := dirNames(h.Root); len(names) > 0 {
		t.Errorf("records left under --root: %v", names)
	}
	for _, b := range bundles {
		if ds := cgroupDirs(b.Cgroup); len(ds) > 0 {
			t.Errorf("cgroup dirs left: %v", ds)
		}
	}
	waitFor(3*time.Second, func() bool { reapZombies(); return len(liveChildren()) == kids })
	if ps := liveChildren(); len(ps) != kids {
		t.Errorf("processes left: %v", ps)
	}
	checkMountsUnchanged(t, mounts)
	if ds := cgroupDirs(parent); len(ds) > 0 {
		for _, d := range ds {
			os.Remove(d) // empty, and a path this run made up
		}
		t.Errorf("the shared parent cgroup %s is left after every container under it was deleted: %v", parent, ds)
	}
}

// recordWatcher reads state.json of one ID in a loop until stopped and
// counts reads that neither parse nor are "no such file".
type recordWatcher struct {
	path        string
	stop        chan struct{}
	done        chan struct{}
	reads, bad  atomic.Int64
	mu          sync.Mutex
	firstBadErr string
}

func watchRecord(path string) *recordWatcher {
	w := &recordWatcher{path: path, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			b, err := os.ReadFile(w.path)
			w.reads.Add(1)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			var v map[string]any
			if err == nil {
				err = json.Unmarshal(b, &v)
			}
			if err != nil {
				w.bad.Add(1)
				w.mu.Lock()
				if w.firstBadErr == "" {
					w.firstBadErr = fmt.Sprintf("%v: %.200q", err, b)
				}
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func (w *recordWatcher) finish() { close(w.stop); <-w.done }

// TestConcurrentCommandsOneID: rounds of 20 commands at once on one ID.
// Exactly one create and one start win; every loser fails with one clear
// line; after each round state.json parses or is absent and `rt state`
// works; a watcher reading state.json all along never sees a partial one.
func TestConcurrentCommandsOneID(t *testing.T) {
	h := newH(t)
	const n = 20
	kids, mounts := len(liveChildren()), hostMounts()
	b := h.Bundle(args("sleep", "1000"))
	id := h.ID("conc")
	dir := filepath.Join(h.Root, id)
	w := watchRecord(filepath.Join(dir, "state.json"))
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("seed %d", seed)

	same := func(c ...string) [][]string {
		var out [][]string
		for i := 0; i < n; i++ {
			out = append(out, c)
		}
		return out
	}
	// checkRound: every failure is one clean line; wins counts exits 0
	// per command name; the record is sane.
	checkRound := func(name string, res []Result) map[string]int {
		t.Helper()
		wins := map[string]int{}
		for _, r := range res {
			if r.Code == 0 {
				wins[r.Args[2]]++
				continue
			}
			if msg := oneLineError(r); msg != "" {
				t.Errorf("round %s: %s: %v", name, msg, r)
			}
		}
		if b, err := os.ReadFile(filepath.Join(dir, "state.json")); err == nil {
			var st map[string]any
			if err := json.Unmarshal(b, &st); err != nil {
				t.Errorf("round %s: state.json does not parse: %v: %q", name, err, b)
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("round %s: read state.json: %v", name, err)
		}
		if ents, _ := filepath.Glob(filepath.Join(dir, ".state.json.tmp*")); len(ents) > 0 {
			t.Errorf("round %s: temp files left: %v", name, ents)
		}
		// No orphan: the cgroup holds the init of the recorded container
		// and nothing else (two creates that both believed they owned
		// the ID would leave two).
		want := 0
		if fileExists(dir) {
			r := h.RT("state", id)
			var st specs.State
			if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &st) != nil {
				t.Errorf("round %s: rt state after the round: %v", name, r)
			} else if st.Status == "creating" {
				t.Errorf("round %s: status creating with no create running", name)
			} else if st.Status != specs.StateStopped {
				want = 1
			}
		}
		var ps []Proc
		waitFor(3*time.Second, func() bool { reapZombies(); ps = procsInCgroup(b.Cgroup); return len(ps) == want })
		if len(ps) != want {
			t.Errorf("round %s: %d processes in the container's cgroup, want %d: %v", name, len(ps), want, ps)
		}
		return wins
	}

	// 1. n creates: one wins, the others fail with "already exists".
	// Three times: the race between the winner's mkdir and its lock is
	// narrow.
	for try := 0; try < 3; try++ {
		if try > 0 {
			h.MustRT("delete", "--force", id)
		}
		res := h.parallel(same("create", "--bundle", b.Dir, id))
		if wins := checkRound("create", res); wins["create"] != 1 {
			t.Errorf("round create: %d creates succeeded, want 1", wins["create"])
		}
		for _, r := range res {
			if r.Code != 0 && !strings.Contains(r.Stderr, "already exists") {
				t.Errorf("round create: a losing create did not say \"already exists\": %v", r)
			}
		}
	}
	if st := h.State(id); st.Status != specs.StateCreated {
		t.Fatalf("after the create round: status %s, want created", st.Status)
	}
	// 2. n starts: one wins.
	if wins := checkRound("start", h.parallel(same("start", id))); wins["start"] != 1 {
		t.Errorf("round start: %d starts succeeded, want 1", wins["start"])
	}
	h.WaitStatus(id, specs.StateRunning)
	// 3. state, list, ps and harmless signals at once: all succeed.
	var cmds [][]string
	for i := 0; i < n; i++ {
		cmds = append(cmds, [][]string{
			{"state", id}, {"list"}, {"ps", id}, {"kill", id, "WINCH"}, {"kill", "--all", id, "CONT"},
		}[i%5])
	}
	for _, r := range h.parallel(cmds) {
		if r.Code != 0 {
			t.Errorf("round readers: %v", r)
		}
	}
	checkRound("readers", nil)
	// 4. Mixed rounds from whatever state the last one left.
	mixed := [][]string{
		{"create", "--bundle", b.Dir, id}, {"start", id}, {"state", id}, {"list", "-q"},
		{"kill", id, "KILL"}, {"kill", id, "TERM"}, {"delete", id}, {"delete", "--force", id},
		{"pause", id}, {"resume", id}, {"ps", id},
	}
	for round := 0; round < 6; round++ {
		cmds = cmds[:0]
		for i := 0; i < n; i++ {
			cmds = append(cmds, mixed[rng.Intn(len(mixed))])
		}
		name := fmt.Sprintf("mixed%d", round)
		h.RT("resume", id) // a frozen container would hold its processes
		wins := checkRound(name, h.parallel(cmds))
		t.Logf("round %s: succeeded: %v", name, wins)
		h.RT("resume", id) // don't carry a frozen container into the next round
	}
	// 5. n deletes --force: all succeed, nothing is left.
	for _, r := range h.parallel(same("delete", "--force", id)) {
		if r.Code != 0 {
			t.Errorf("round delete --force: %v", r)
		}
	}
	w.finish()
	t.Logf("watcher: %d reads of state.json", w.reads.Load())
	if w.bad.Load() > 0 {
		t.Errorf("watcher: %d of %d reads of state.json saw a partial or corrupt record; first: %s", w.bad.Load(), w.reads.Load(), w.firstBadErr)
	}
	if fileExists(dir) {
		t.Errorf("state dir left after delete --force")
	}
	if ds := cgroupDirs(b.Cgroup); len(ds) > 0 {
		t.Errorf("cgroup dirs left: %v", ds)
	}
	waitFor(3*time.Second, func() bool { reapZombies(); return len(liveChildren()) == kids })
	if ps := liveChildren(); len(ps) != kids {
		t.Errorf("processes left: %v", ps)
	}
	checkMountsUnchanged(t, mounts)
}

// TestConcurrentDeleteStopped: n plain deletes of one stopped container:
// exactly one wins, the others say it does not exist.
func TestConcurrentDeleteStopped(t *testing.T) {
	h := newH(t)
	const n = 20
	b := h.Bundle(args("true"))
	id, _ := h.StartDetached(b)
	h.WaitStatus(id, specs.StateStopped)
	var cmds [][]string
	for i := 0; i < n; i++ {
		cmds = append(cmds, []string{"delete", id})
	}
	wins := 0
	for _, r := range h.parallel(cmds) {
		if r.Code == 0 {
			wins++
			continue
		}
		if msg := oneLineError(r); msg != "" || !strings.Contains(r.Stderr, "does not exist") {
			t.Errorf("losing delete: want one line saying \"does not exist\": %s %v", msg, r)
		}
	}
	if wins != 1 {
		t.Errorf("%d deletes succeeded, want 1", wins)
	}
	if fileExists(filepath.Join(h.Root, id)) {
		t.Errorf("state dir left")
	}
	if ds := cgroupDirs(b.Cgroup); len(ds) > 0 {
		t.Errorf("cgroup dirs left: %v", ds)
	}
}
