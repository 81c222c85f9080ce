package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runc compatibility: bundles written for runc run the same under rt.

// TestRuncSpecBundle runs the fixtures' config.json, which is `runc spec`
// output (Debian's runc 1.1.5), with only args and cgroupsPath changed.
// runc 1.1's template lists ambient capabilities without inheritable ones;
// the kernel can't raise those, and runc (and crun) skip them.
func TestRuncSpecBundle(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle()
	data, err := os.ReadFile(filepath.Join(fixDir, "bundle", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := &specs.Spec{}
	if err := jsonUnmarshal(string(data), s); err != nil {
		t.Fatal(err)
	}
	s.Process.Args = []string{"sh", "-c", `grep -E '^Cap(Eff|Amb)' /proc/self/status; hostname`}
	s.Linux.CgroupsPath = b.Spec.Linux.CgroupsPath
	b.Spec = s
	b.Write(t)
	r := h.Run(b, RunOpts{})
	if r.Code != 0 {
		if strings.Contains(r.Stderr, "process.capabilities.ambient") {
			knownBug(t, "the `runc spec` (1.1.x) config fails: %q. Its ambient capabilities are not inheritable, "+
				"so PR_CAP_AMBIENT_RAISE gives EPERM; runc ignores ambient raise errors, rt fails "+
				"(libct/security/caps.go Apply)", strings.TrimSpace(r.Stderr))
		}
		t.Fatalf("runc spec bundle: %v", r)
	}
	m := statusCaps(r.Stdout)
	if want := capMask("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"); m["CapEff"] != want {
		t.Errorf("CapEff = %s, want %s", m["CapEff"], want)
	}
}

// TestHomeFromPasswd: without HOME in process.env, runc and crun set it
// from the user's /etc/passwd entry (/root for uid 0).
func TestHomeFromPasswd(t *testing.T) {
	t.Parallel()
	h := newH(t)
	out := h.MustSh(`echo "HOME=$HOME"`)
	if got := strings.TrimSpace(out); got != "HOME=/root" {
		knownBug(t, "process.env without HOME: the container has %q; runc/crun set HOME from /etc/passwd "+
			"(here /root), and `runc spec` bundles rely on it", got)
	}
	// An explicit HOME wins.
	out = h.MustSh(`echo "HOME=$HOME"`, func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "HOME=/tmp") })
	if got := strings.TrimSpace(out); got != "HOME=/tmp" {
		t.Errorf("explicit HOME=/tmp: container has %q", got)
	}
}
