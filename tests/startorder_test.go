package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestPoststartAfterExec: poststart hooks run once the container's
// process has started (runtime-spec): the hook sees the process, not
// rt's init stage, as the container's pid. Repeated, as it was a race.
func TestPoststartAfterExec(t *testing.T) {
	t.Parallel()
	h := newH(t)
	out := filepath.Join(h.Dir, "comm")
	for i := 0; i < 5; i++ {
		os.Remove(out)
		b := h.Bundle(sleeper, func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Poststart: []specs.Hook{{
				Path: "/bin/sh",
				Args: []string{"sh", "-c", `pid=$(jq -r .pid); cat /proc/$pid/comm > ` + out},
			}}}
		})
		id, _ := h.StartDetached(b)
		if got := strings.TrimSpace(hostFile(t, out)); got != "sleep" {
			t.Errorf("round %d: poststart saw the container's pid as %q, want the started process (sleep)", i, got)
		}
		h.MustRT("delete", "--force", id)
	}
}

// TestRootfsPropagationUnbindable: linux.rootfsPropagation "unbindable"
// (and its recursive form) is applied to the container's / without
// breaking the rootfs bind (it used to fail create with EINVAL).
func TestRootfsPropagationUnbindable(t *testing.T) {
	t.Parallel()
	h := newH(t)
	for _, p := range []string{"unbindable", "runbindable"} {
		out := h.MustSh(`awk '$5 == "/"' /proc/self/mountinfo`, func(s *specs.Spec) { s.Linux.RootfsPropagation = p })
		if !strings.Contains(out, " unbindable ") {
			t.Errorf("%s: / is %q", p, out)
		}
	}
}

// TestKillAllStoppedEmpty: kill --all on a stopped container whose
// cgroup is empty succeeds, as runc (containerd and docker send it after
// the init exited); a plain kill says "container not running".
func TestKillAllStoppedEmpty(t *testing.T) {
	t.Parallel()
	h := newH(t)
	id := h.ID("killall")
	h.MustRT("run", "-d", "--bundle", h.Bundle().Dir, id)
	h.WaitStatus(id, specs.StateStopped)
	h.MustRT("kill", "--all", id, "9")
	if r := h.RT("kill", id, "9"); r.Code == 0 || !strings.Contains(r.Stderr, "container not running") {
		t.Errorf("kill of a stopped container: %v", r)
	}
}
