package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// H is one test's private corner: its own --root, bundles and IDs. Its
// cleanup force-deletes every container the test made and checks that
// nothing of them is left on the host.
type H struct {
	t       *testing.T
	Dir     string // per-test directory under workDir
	Root    string // --root
	n       int
	ids     []string
	cgroups []string
}

var counter atomic.Int64

func newH(t *testing.T) *H {
	t.Helper()
	if skipAll != "" {
		t.Skip(skipAll)
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	dir, err := os.MkdirTemp(workDir, name+"-")
	if err != nil {
		t.Fatal(err)
	}
	h := &H{t: t, Dir: dir, Root: filepath.Join(dir, "state")}
	t.Cleanup(h.cleanup)
	return h
}

func (h *H) cleanup() {
	t := h.t
	for _, id := range h.ids {
		if r := h.RT("delete", "--force", id); r.Code != 0 {
			t.Errorf("cleanup: %v", r)
		}
	}
	// Report what is still in our cgroups; kill only our own children.
	for _, cg := range h.cgroups {
		for _, p := range procsInCgroup(cg) {
			t.Errorf("cleanup: process %d (%s) still in cgroup %s after delete --force", p.Pid, p.Comm, cg)
		}
		for _, p := range liveChildren() {
			if inCgroup(p.Pid, cg) {
				syscall.Kill(p.Pid, syscall.SIGKILL)
			}
		}
	}
	reapZombies()
	for _, id := range h.ids {
		if fileExists(filepath.Join(h.Root, id)) {
			t.Errorf("cleanup: state dir %s left after delete --force", filepath.Join(h.Root, id))
		}
	}
	for _, cg := range h.cgroups {
		if ds := cgroupDirs(cg); len(ds) > 0 {
			t.Errorf("cleanup: cgroup dirs left after delete --force: %v", ds)
		}
	}
	if ms := mountsUnder(h.Dir); len(ms) > 0 {
		t.Errorf("cleanup: host mounts left under %s:\n%s", h.Dir, strings.Join(ms, "\n"))
		return // don't recurse into them
	}
	os.RemoveAll(h.Dir)
}

// ID returns a fresh container ID that cleanup will force-delete.
func (h *H) ID(prefix string) string {
	id := fmt.Sprintf("%s-%s-%d", prefix, runToken, counter.Add(1))
	h.ids = append(h.ids, id)
	return id
}

// RT runs rt with this test's --root.
func (h *H) RT(args ...string) Result {
	h.t.Helper()
	return execRT(h.t, RunOpts{}, append([]string{"--root", h.Root}, args...)...)
}

// RTo runs rt with options and this test's --root.
func (h *H) RTo(o RunOpts, args ...string) Result {
	h.t.Helper()
	return execRT(h.t, o, append([]string{"--root", h.Root}, args...)...)
}

// MustRT runs rt and fails the test unless it exits 0.
func (h *H) MustRT(args ...string) Result {
	h.t.Helper()
	r := h.RT(args...)
	if r.Code != 0 {
		h.t.Fatalf("unexpected failure: %v", r)
	}
	return r
}

var (
	templateOnce sync.Once
	templateJSON []byte
	templateErr  error
)

// template is `rt spec` output (made once per run).
func template() ([]byte, error) {
	templateOnce.Do(func() {
		d, err := os.MkdirTemp(workDir, "spec-")
		if err != nil {
			templateErr = err
			return
		}
		defer os.RemoveAll(d)
		if out, err := exec.Command(rtBin, "spec", "--bundle", d).CombinedOutput(); err != nil {
			templateErr = fmt.Errorf("rt spec: %v: %s", err, out)
			return
		}
		templateJSON, templateErr = os.ReadFile(filepath.Join(d, "config.json"))
	})
	return templateJSON, templateErr
}

// Bundle is an OCI bundle with its own copy of the busybox rootfs.
type Bundle struct {
	Dir    string
	Rootfs string
	Spec   *specs.Spec
	Cgroup string // linux.cgroupsPath as written
}

// Bundle makes a bundle whose config is `rt spec` with terminal off, a
// unique linux.cgroupsPath "/rt-itest-<run>-<n>" and args ["true"], then
// mutated by muts in order.
func (h *H) Bundle(muts ...func(*specs.Spec)) *Bundle {
	h.t.Helper()
	h.n++
	dir := filepath.Join(h.Dir, fmt.Sprintf("bundle%d", h.n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		h.t.Fatal(err)
	}
	if out, err := helperOutput(exec.Command("cp", "-a", rootfsSrc, filepath.Join(dir, "rootfs"))); err != nil {
		h.t.Fatalf("cp -a rootfs: %v: %s", err, out)
	}
	tpl, err := template()
	if err != nil {
		h.t.Fatal(err)
	}
	s := &specs.Spec{}
	if err := json.Unmarshal(tpl, s); err != nil {
		h.t.Fatalf("rt spec output: %v", err)
	}
	cg := fmt.Sprintf("/rt-itest-%s-%d", runToken, counter.Add(1))
	s.Process.Terminal = false
	s.Process.Args = []string{"true"}
	s.Linux.CgroupsPath = cg
	for _, m := range muts {
		m(s)
	}
	b := &Bundle{Dir: dir, Rootfs: filepath.Join(dir, "rootfs"), Spec: s}
	if s.Linux != nil {
		b.Cgroup = s.Linux.CgroupsPath
		if ours(b.Cgroup) {
			h.cgroups = append(h.cgroups, b.Cgroup)
		}
	}
	b.Write(h.t)
	return b
}

// Write (re)writes config.json from b.Spec.
func (b *Bundle) Write(t testing.TB) {
	t.Helper()
	data, err := json.MarshalIndent(b.Spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ---- config mutators ----

func args(a ...string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Process.Args = a }
}

func sh(script string) func(*specs.Spec) { return args("sh", "-c", script) }

func writable(s *specs.Spec) { s.Root.Readonly = false }

func addMount(m specs.Mount) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Mounts = append(s.Mounts, m) }
}

// ---- container helpers ----

// Run runs a fresh container from b in the foreground.
func (h *H) Run(b *Bundle, o RunOpts, extra ...string) Result {
	h.t.Helper()
	id := h.ID("run")
	a := append([]string{"run", "--bundle", b.Dir}, extra...)
	return h.RTo(o, append(a, id)...)
}

// Sh runs script with sh -c in a container made with muts; it returns
// the result of `rt run`.
func (h *H) Sh(script string, muts ...func(*specs.Spec)) Result {
	h.t.Helper()
	b := h.Bundle(append([]func(*specs.Spec){sh(script)}, muts...)...)
	return h.Run(b, RunOpts{})
}

// MustSh is Sh that requires exit status 0 and returns stdout.
func (h *H) MustSh(script string, muts ...func(*specs.Spec)) string {
	h.t.Helper()
	r := h.Sh(script, muts...)
	if r.Code != 0 {
		h.t.Fatalf("container failed: %v", r)
	}
	return r.Stdout
}

// Create runs `rt create` for b and returns the ID and the pid file's pid.
func (h *H) Create(b *Bundle, extra ...string) (string, int) {
	h.t.Helper()
	id := h.ID("c")
	pf := filepath.Join(h.Dir, id+".pid")
	a := append([]string{"create", "--bundle", b.Dir, "--pid-file", pf}, extra...)
	h.MustRT(append(a, id)...)
	data, err := os.ReadFile(pf)
	if err != nil {
		h.t.Fatalf("--pid-file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		h.t.Fatalf("--pid-file content %q: %v", data, err)
	}
	return id, pid
}

// StartDetached creates and starts b (a long-running process) and
// returns its ID and init pid.
func (h *H) StartDetached(b *Bundle) (string, int) {
	h.t.Helper()
	id, pid := h.Create(b)
	h.MustRT("start", id)
	return id, pid
}

// State is `rt state` decoded.
func (h *H) State(id string) specs.State {
	h.t.Helper()
	r := h.MustRT("state", id)
	var st specs.State
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		h.t.Fatalf("rt state %s: bad JSON %q: %v", id, r.Stdout, err)
	}
	return st
}

// WaitStatus polls `rt state` until the status is want.
func (h *H) WaitStatus(id string, want specs.ContainerState) {
	h.t.Helper()
	var got specs.ContainerState
	ok := waitFor(10*time.Second, func() bool {
		reapZombies()
		got = h.State(id).Status
		return got == want
	})
	if !ok {
		h.t.Fatalf("container %s: status %q, want %q", id, got, want)
	}
}

// hostFile reads a host file, trimmed.
func hostFile(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// lines splits trimmed output into lines.
func lines(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// kv parses "key=value" lines printed by a container script.
func kv(out string) map[string]string {
	m := map[string]string{}
	for _, l := range lines(out) {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// knownBug ends a test that hit a bug of rt reported to the lead: it is
// skipped with the reason (so the suite stays green until the fix lands,
// when the test passes by itself), or fails with RT_STRICT_BUGS=1.
func knownBug(t testing.TB, format string, a ...any) {
	t.Helper()
	msg := "known bug: " + fmt.Sprintf(format, a...)
	if os.Getenv("RT_STRICT_BUGS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
