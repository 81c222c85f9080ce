package tests

// Config fields and flags that had no test of their own
// (docs/spec-conformance.md).

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// unmaskKeys leaves /proc/keys readable in the container.
func unmaskKeys(s *specs.Spec) {
	var out []string
	for _, p := range s.Linux.MaskedPaths {
		if p != "/proc/keys" {
			out = append(out, p)
		}
	}
	s.Linux.MaskedPaths = out
}

// TestSessionKeyring: the container's processes get a session keyring of
// their own, as with runc, but named "_ses.<ID>.<32 hex>" (random, so no
// other container of the same user can join it by name or plant it in
// advance) and with only search for its owner (perm 3f080000: a process
// that does not possess it can't view, read, write, link or setattr it);
// --no-new-keyring keeps the caller's (no "_ses.<ID>" keyring appears).
func TestSessionKeyring(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(args("cat", "/proc/keys"), unmaskKeys)
	id := h.ID("kr")
	line := func(out string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "_ses."+id) {
				return l
			}
		}
		return ""
	}
	var names []string
	for i := 0; i < 2; i++ {
		r := h.RT("run", "--bundle", b.Dir, id)
		l := line(r.Stdout)
		f := strings.Fields(l)
		if r.Code != 0 || len(f) < 9 || f[4] != "3f080000" {
			t.Fatalf("run: %v, want a keyring _ses.%s.<random> with perm 3f080000 in /proc/keys (got %q)", r, id, l)
		}
		name := strings.TrimSuffix(f[8], ":")
		if !regexp.MustCompile(`^_ses\.` + regexp.QuoteMeta(id) + `\.[0-9a-f]{32}$`).MatchString(name) {
			t.Errorf("session keyring name %q, want _ses.%s.<32 hex>", name, id)
		}
		names = append(names, name)
	}
	if names[0] == names[1] {
		t.Errorf("two containers with the same ID got the same keyring name %q", names[0])
	}
	id2 := h.ID("kr")
	r := h.RT("run", "--no-new-keyring", "--bundle", b.Dir, id2)
	if r.Code != 0 || strings.Contains(r.Stdout, "_ses."+id2) {
		t.Errorf("run --no-new-keyring: %v, want no keyring _ses.%s", r, id2)
	}
}

// TestRunKeep: `run --keep` leaves the stopped container for `rt delete`
// (its exit status is still run's); --keep with --detach is refused.
func TestRunKeep(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(sh("exit 3"))
	id := h.ID("keep")
	if r := h.RT("run", "--keep", "--bundle", b.Dir, id); r.Code != 3 {
		t.Fatalf("run --keep: %v, want exit 3", r)
	}
	if st := h.State(id); st.Status != specs.StateStopped {
		t.Errorf("after run --keep: status %q, want stopped", st.Status)
	}
	h.MustRT("delete", id)
	if r := h.RT("state", id); r.Code == 0 {
		t.Errorf("state after delete: %v, want an error", r)
	}
	if r := h.RT("run", "--keep", "--detach", "--bundle", b.Dir, h.ID("keep")); r.Code == 0 || !strings.Contains(r.Stderr, "--keep and --detach") {
		t.Errorf("run --keep --detach: %v, want a refusal", r)
	}
}

// TestRelativeBindSource: a bind mount's relative source is taken from
// the bundle directory.
func TestRelativeBindSource(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(args("cat", "/mnt/rel/file"), addMount(specs.Mount{Destination: "/mnt/rel", Type: "bind", Source: "data", Options: []string{"rbind", "ro"}}))
	if err := os.MkdirAll(filepath.Join(b.Dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "data", "file"), []byte("from the bundle\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := h.Run(b, RunOpts{}); r.Code != 0 || r.Stdout != "from the bundle\n" {
		t.Errorf("relative bind source: %v, want the bundle's data/file", r)
	}
}

// TestTmpCopyUp: a tmpfs with "tmpcopyup" starts with a copy of the
// directory it covers (files, directories, symlinks, fifos, with owner
// and mode); writes stay in the tmpfs; "ro" still ends read-only.
func TestTmpCopyUp(t *testing.T) {
	t.Parallel()
	h := newH(t)
	script := `head -1 /etc/passwd; stat -c '%a %u:%g' /etc/sub /etc/sub/file; readlink /etc/link; [ -p /etc/fifo ] && echo fifo
		echo new > /etc/new 2>/dev/null && echo wrote || echo readonly`
	for _, tc := range []struct {
		opts  []string
		write string
	}{
		{[]string{"tmpcopyup", "nosuid", "mode=755"}, "wrote"},
		{[]string{"tmpcopyup", "ro"}, "readonly"},
	} {
		b := h.Bundle(sh(script), addMount(specs.Mount{Destination: "/etc", Type: "tmpfs", Source: "tmpfs", Options: tc.opts}))
		etc := filepath.Join(b.Rootfs, "etc")
		if err := os.MkdirAll(filepath.Join(etc, "sub"), 0o750); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(etc, "sub"), 0o750)
		os.WriteFile(filepath.Join(etc, "sub", "file"), []byte("x"), 0o640)
		os.Chown(filepath.Join(etc, "sub", "file"), 1000, 1001)
		os.Symlink("passwd", filepath.Join(etc, "link"))
		if err := syscall.Mkfifo(filepath.Join(etc, "fifo"), 0o600); err != nil {
			t.Fatal(err)
		}
		first, _ := os.ReadFile(filepath.Join(etc, "passwd"))
		want := strings.SplitN(string(first), "\n", 2)[0] + "\n750 0:0\n640 1000:1001\npasswd\nfifo\n" + tc.write + "\n"
		if r := h.Run(b, RunOpts{}); r.Code != 0 || r.Stdout != want {
			t.Errorf("tmpfs %v: %v, want %q", tc.opts, r, want)
		}
		if fileExists(filepath.Join(etc, "new")) {
			t.Errorf("tmpfs %v: a write in the container reached the rootfs", tc.opts)
		}
	}
}

// TestExecCgroupRefused: `exec --cgroup` (a sub-cgroup of the container)
// is refused with a clear error, and the container is left running.
func TestExecCgroupRefused(t *testing.T) {
	t.Parallel()
	h := newH(t)
	id, _ := h.StartDetached(h.Bundle(args("sleep", "30")))
	if r := h.RT("exec", "--cgroup", "sub", id, "true"); r.Code == 0 || !strings.Contains(r.Stderr, "--cgroup") {
		t.Errorf("exec --cgroup: %v, want a refusal naming --cgroup", r)
	}
	if st := h.State(id); st.Status != specs.StateRunning {
		t.Errorf("after a refused exec: status %q, want running", st.Status)
	}
}
