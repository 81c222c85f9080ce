package tests

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// event is one line of `rt events`, with the stats fields the tests look at.
type event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data *struct {
		CPU struct {
			Usage struct {
				Total  uint64 `json:"total"`
				Kernel uint64 `json:"kernel"`
				User   uint64 `json:"user"`
			} `json:"usage"`
			Throttling struct {
				Periods          uint64 `json:"periods"`
				ThrottledPeriods uint64 `json:"throttledPeriods"`
			} `json:"throttling"`
		} `json:"cpu"`
		Memory struct {
			Usage struct {
				Usage uint64 `json:"usage"`
				Limit uint64 `json:"limit"`
			} `json:"usage"`
			Raw map[string]uint64 `json:"raw"`
		} `json:"memory"`
		Pids struct {
			Current uint64 `json:"current"`
			Limit   uint64 `json:"limit"`
		} `json:"pids"`
	} `json:"data"`
}

func parseEvents(t *testing.T, out string) []event {
	t.Helper()
	var evs []event
	for _, l := range lines(out) {
		var e event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("rt events: line %q is not JSON: %v", l, err)
		}
		evs = append(evs, e)
	}
	return evs
}

// bgRT is an rt command running in the background whose stdout the test
// can read while it runs.
type bgRT struct {
	cmd  *exec.Cmd
	out  string // stdout file
	done chan Result
}

// startRT starts rt in the background (like rtCmd, registered so that
// reapZombies leaves it alone).
func (h *H) startRT(args ...string) *bgRT {
	h.t.Helper()
	out := filepath.Join(h.Dir, "bg-"+randHex(4))
	f, err := os.Create(out)
	if err != nil {
		h.t.Fatal(err)
	}
	errf, err := os.CreateTemp(h.Dir, "bg-err-")
	if err != nil {
		h.t.Fatal(err)
	}
	all := append([]string{"--root", h.Root}, args...)
	cmd := exec.Command(rtBin, all...)
	cmd.Stdout, cmd.Stderr = f, errf
	err = startTracked(cmd)
	f.Close()
	if err != nil {
		errf.Close()
		h.t.Fatal(err)
	}
	b := &bgRT{cmd: cmd, out: out, done: make(chan Result, 1)}
	go func() {
		err := cmd.Wait()
		trackSpawn(cmd.Process.Pid, false)
		ob, _ := os.ReadFile(out)
		eb, _ := os.ReadFile(errf.Name())
		errf.Close()
		r := Result{Args: all, Stdout: string(ob), Stderr: string(eb)}
		if ee, ok := err.(*exec.ExitError); ok {
			r.Code = ee.ExitCode()
		}
		b.done <- r
	}()
	h.t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			cmd.Process.Kill() // our own child, by PID
			<-b.done
		}
	})
	return b
}

// wait waits for the background command to end.
func (b *bgRT) wait(t *testing.T, timeout time.Duration) Result {
	t.Helper()
	select {
	case r := <-b.done:
		b.done <- r // for the cleanup
		return r
	case <-time.After(timeout):
		t.Fatalf("rt %v still running after %v", b.cmd.Args[1:], timeout)
	}
	return Result{}
}

// stdout returns what the command printed so far.
func (b *bgRT) stdout() string {
	data, _ := os.ReadFile(b.out)
	return string(data)
}

// TestEventsStats: events --stats prints one stats event, shaped like
// runc's, with sane numbers; for a stopped container it fails.
func TestEventsStats(t *testing.T) {
	t.Parallel()
	h := newH(t)
	limit := int64(40)
	b := h.Bundle(sh(`sleep 1000 & sleep 1000`), func(s *specs.Spec) { s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &limit} })
	id, _ := h.StartDetached(b)
	r := h.MustRT("events", "--stats", id)
	evs := parseEvents(t, r.Stdout)
	if len(evs) != 1 || evs[0].Type != "stats" || evs[0].ID != id || evs[0].Data == nil {
		t.Fatalf("events --stats: want one stats event for %s: %v", id, r)
	}
	d := evs[0].Data
	if d.Pids.Current < 1 || d.Pids.Limit != 40 {
		t.Errorf("pids %+v, want current >= 1 and limit 40", d.Pids)
	}
	if d.Memory.Usage.Usage == 0 || d.Memory.Usage.Limit == 0 || len(d.Memory.Raw) == 0 {
		t.Errorf("memory %+v", d.Memory)
	}
	if d.CPU.Usage.Total == 0 {
		t.Errorf("cpu usage %+v", d.CPU.Usage)
	}
	// The shape: runc's keys.
	var raw struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	json.Unmarshal([]byte(r.Stdout), &raw)
	var keys []string
	for k := range raw.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if got := strings.Join(keys, " "); got != "blkio cpu cpuset hugetlb intel_rdt memory network_interfaces pids" {
		t.Errorf("data keys: %s", got)
	}
	h.MustRT("kill", id, "KILL")
	h.WaitStatus(id, specs.StateStopped)
	if r := h.RT("events", "--stats", id); r.Code == 0 || !strings.Contains(r.Stderr, "not running") {
		t.Errorf("events --stats of a stopped container: %v", r)
	}
	if r := h.RT("events", "--interval", "0s", id); r.Code == 0 {
		t.Errorf("events --interval 0s: %v", r)
	}
}

// TestEventsStream: without --stats, events prints a stats event every
// interval and ends by itself when the container stops.
func TestEventsStream(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(sh(probeScript), writable)
	id, _ := h.StartDetached(b)
	ev := h.startRT("events", "--interval", "200ms", id)
	if !waitFor(30*time.Second, func() bool { return strings.Count(ev.stdout(), "\n") >= 3 }) {
		t.Fatalf("fewer than 3 events after 30s: %q", ev.stdout())
	}
	h.MustRT("kill", id, "KILL")
	r := ev.wait(t, 20*time.Second)
	if r.Code != 0 {
		t.Errorf("events ended with %v", r)
	}
	for _, e := range parseEvents(t, r.Stdout) {
		if e.Type != "stats" || e.ID != id || e.Data == nil {
			t.Errorf("unexpected event %+v", e)
		}
	}
}

// TestEventsOOM: a container whose process outgrows its memory limit is
// OOM-killed (exit 137 through its shell) and events reports it.
func TestEventsOOM(t *testing.T) {
	t.Parallel()
	h := newH(t)
	limit := int64(32 << 20)
	b := h.Bundle(sh(`while [ ! -e /tmp/go ]; do sleep 0.1; done; dd if=/dev/zero bs=1M count=256 2>/dev/null | tail`), writable,
		func(s *specs.Spec) { s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit, Swap: &limit} })
	id := h.ID("oom")
	run := h.startRT("run", "--bundle", b.Dir, id)
	if !waitFor(60*time.Second, func() bool {
		r := h.RT("state", id)
		return r.Code == 0 && strings.Contains(r.Stdout, `"running"`)
	}) {
		t.Fatalf("the container did not start: %q", run.stdout())
	}
	ev := h.startRT("events", "--interval", "100ms", id)
	// The first stats event means the OOM watch is in place.
	if !waitFor(30*time.Second, func() bool { return strings.Contains(ev.stdout(), "\n") }) {
		t.Fatalf("no stats event after 30s: %q", ev.stdout())
	}
	if err := os.WriteFile(filepath.Join(b.Rootfs, "tmp", "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rr := run.wait(t, 120*time.Second)
	if rr.Code != 137 {
		t.Errorf("the container: %v, want exit 137 (SIGKILL from the OOM killer)", rr)
	}
	er := ev.wait(t, 20*time.Second)
	oom := 0
	for _, e := range parseEvents(t, er.Stdout) {
		if e.Type == "oom" && e.ID == id {
			oom++
		}
	}
	if oom == 0 || er.Code != 0 {
		sc := bufio.NewScanner(strings.NewReader(er.Stdout))
		var types []string
		for sc.Scan() {
			if l := sc.Text(); len(l) > 40 {
				types = append(types, l[:40])
			}
		}
		t.Errorf("events: exit %d, %d oom events; lines: %v; stderr %q", er.Code, oom, types, er.Stderr)
	}
}
