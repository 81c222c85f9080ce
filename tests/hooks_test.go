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

// hookRec is a hook that appends "<name> <mnt ns> <state JSON>" to a log.
func hookRec(log, name string) specs.Hook {
	return specs.Hook{
		Path: "/bin/sh",
		Args: []string{"sh", "-c", `s=$(cat); echo "$0 $(readlink /proc/self/ns/mnt) $s" >> "$1"`, name, log},
	}
}

// TestHooksOrderStateAndNamespace: every hook runs once, in the order of
// the runtime-spec, with the state JSON on stdin (status and pid right),
// createContainer in the container's mount namespace and the runtime
// hooks in the host's.
func TestHooksOrderStateAndNamespace(t *testing.T) {
	t.Parallel()
	h := newH(t)
	log := filepath.Join(h.Dir, "hooks.log")
	scLog := "/hooks-sc.log" // startContainer runs inside: path in the container
	b := h.Bundle(sh(`cat /hooks-sc.log`), writable, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{
			Prestart:        []specs.Hook{hookRec(log, "prestart")},
			CreateRuntime:   []specs.Hook{hookRec(log, "createRuntime")},
			CreateContainer: []specs.Hook{hookRec(log, "createContainer")},
			StartContainer:  []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", `cat > ` + scLog}}},
			Poststart:       []specs.Hook{hookRec(log, "poststart")},
			Poststop:        []specs.Hook{hookRec(log, "poststop")},
		}
	})
	id, pid := h.Create(b)
	hostMnt, _ := os.Readlink("/proc/self/ns/mnt")
	ctrMnt, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/mnt")
	h.MustRT("start", id)
	h.WaitStatus(id, specs.StateStopped)
	h.MustRT("delete", id)

	want := []struct {
		name, status, mnt string
	}{
		{"prestart", "creating", hostMnt},
		{"createRuntime", "creating", hostMnt},
		{"createContainer", "creating", ctrMnt},
		{"poststart", "running", hostMnt},
		{"poststop", "stopped", hostMnt},
	}
	got := lines(hostFile(t, log))
	if len(got) != len(want) {
		t.Fatalf("hooks ran %d times, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		f := strings.SplitN(got[i], " ", 3)
		if len(f) != 3 || f[0] != w.name || f[1] != w.mnt {
			t.Errorf("hook %d: %q, want %s in %s", i, got[i], w.name, w.mnt)
			continue
		}
		var st specs.State
		if err := json.Unmarshal([]byte(f[2]), &st); err != nil {
			t.Errorf("%s: state JSON %q: %v", w.name, f[2], err)
			continue
		}
		if st.ID != id || string(st.Status) != w.status || st.Pid != pid || st.Bundle != b.Dir {
			t.Errorf("%s: state %+v, want id %s status %s pid %d bundle %s", w.name, st, id, w.status, pid, b.Dir)
		}
	}
	// startContainer ran inside, before the process: the process saw its file.
	var st specs.State
	if err := json.Unmarshal([]byte(hostFile(t, filepath.Join(b.Rootfs, "hooks-sc.log"))), &st); err != nil || st.ID != id {
		t.Errorf("startContainer state: %+v, %v", st, err)
	}
}

// TestHookFailures: a failing createRuntime hook fails create with its
// message and leaves nothing; a failing poststart hook fails start and
// stops the container; a hook over its timeout is killed.
func TestHookFailures(t *testing.T) {
	t.Parallel()
	h := newH(t)
	fail := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook-said-no >&2; exit 3"}}
	b := h.Bundle(args("sleep", "1000"), func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{fail}}
	})
	id := h.ID("hookfail")
	entries := dirNames(h.Root)
	r := h.RT("create", "--bundle", b.Dir, id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "hooks.createRuntime[0]") || !strings.Contains(r.Stderr, "hook-said-no") {
		t.Errorf("create with a failing createRuntime hook: %v", r)
	}
	if after := dirNames(h.Root); strings.Join(after, ",") != strings.Join(entries, ",") {
		t.Errorf("failed create left %v", after)
	}
	if ds := cgroupDirs(b.Cgroup); len(ds) > 0 {
		t.Errorf("failed create left cgroups %v", ds)
	}

	b = h.Bundle(args("sleep", "1000"), func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Poststart: []specs.Hook{fail}}
	})
	id, pid := h.Create(b)
	r = h.RT("start", id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "hooks.poststart[0]") {
		t.Errorf("start with a failing poststart hook: %v", r)
	}
	h.WaitStatus(id, specs.StateStopped)
	reapZombies()
	if !waitFor(2*time.Second, func() bool { reapZombies(); return procGone(pid) }) {
		t.Errorf("container process %d still alive after the poststart failure", pid)
	}
	h.MustRT("delete", id)

	one := 1
	slow := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "sleep 30"}, Timeout: &one}
	b = h.Bundle(args("true"), func(s *specs.Spec) { s.Hooks = &specs.Hooks{Prestart: []specs.Hook{slow}} })
	start := time.Now()
	r = h.RT("create", "--bundle", b.Dir, h.ID("hookslow"))
	if r.Code == 0 || !strings.Contains(r.Stderr, "timed out") || time.Since(start) > 10*time.Second {
		t.Errorf("create with a hook over its timeout: %v after %v", r, time.Since(start))
	}
}

func procGone(pid int) bool {
	p, ok := readProc(pid)
	return !ok || p.State == 'Z'
}

// TestPoststopAllRun: a failing poststop hook does not stop the ones after
// it, and delete still succeeds (failures are warnings).
func TestPoststopAllRun(t *testing.T) {
	t.Parallel()
	h := newH(t)
	out := filepath.Join(h.Dir, "second-ran")
	b := h.Bundle(args("true"), func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Poststop: []specs.Hook{
			{Path: "/bin/false"},
			{Path: "/bin/sh", Args: []string{"sh", "-c", "touch " + out}},
		}}
	})
	r := h.Run(b, RunOpts{})
	if r.Code != 0 {
		t.Errorf("run with a failing poststop hook: %v", r)
	}
	if !fileExists(out) {
		t.Errorf("the poststop hook after a failing one did not run")
	}
}
