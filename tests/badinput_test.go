package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Bad input: every case fails with a non-zero exit and ONE stderr line
// ("rt: ...", no panic) naming the config field or argument, and leaves
// nothing behind: no record under --root, no cgroup, no host mount, no
// process. The cases run several at a time, each with its own --root,
// bundle and cgroup path; processes and host mounts are also compared for
// the whole table (nothing else runs meanwhile: the test is not parallel).

type badCase struct {
	name string
	cmd  string              // "create" (default) or "run"
	id   *string             // a literal ID instead of a fresh one
	mut  func(*specs.Spec)   // applied to the config
	raw  func(bundle string) // applied to the bundle after config.json is written
	// global returns flags put before the command (after --root, so a
	// second --root wins); dir is the case's own directory.
	global func(dir string) []string
	extra  []string // more arguments before the ID
	after  []string // arguments after the ID
	// argv replaces the whole command line after the global flags (no
	// --bundle or ID is added).
	argv []string
	want string // substring of stderr
	bug  string // non-empty: a known rt bug makes this case fail
}

func strp(s string) *string { return &s }

func setRawJSON(field, value string) func(string) {
	// Replaces the first `"field": <number>` by `"field": value`.
	return func(bundle string) {
		p := filepath.Join(bundle, "config.json")
		b, _ := os.ReadFile(p)
		s := string(b)
		i := strings.Index(s, `"`+field+`": `)
		if i < 0 {
			panic("no field " + field)
		}
		j := i + len(field) + 4
		k := j
		for k < len(s) && (s[k] >= '0' && s[k] <= '9' || s[k] == '-') {
			k++
		}
		os.WriteFile(p, []byte(s[:j]+value+s[k:]), 0o644)
	}
}

func nsIndex(s *specs.Spec, t specs.LinuxNamespaceType) int {
	for i, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return i
		}
	}
	return -1
}

func resources(s *specs.Spec) *specs.LinuxResources {
	if s.Linux.Resources == nil {
		s.Linux.Resources = &specs.LinuxResources{}
	}
	return s.Linux.Resources
}

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }
func u16(v uint16) *uint16 { return &v }
func u32(v uint32) *uint32 { return &v }
func replaceConfig(b string, data string) {
	os.Remove(filepath.Join(b, "config.json"))
	os.WriteFile(filepath.Join(b, "config.json"), []byte(data), 0o644)
}

// checkBad requires r to be a clean failure naming want, and nothing of
// the case to be left on the host (processes in its cgroup: see
// procsInCgroups, one scan for all cases).
func checkBad(t *testing.T, run badRun, r Result, want string) {
	t.Helper()
	if r.Code == 0 {
		t.Errorf("succeeded: %v", r)
	}
	if !strings.Contains(r.Stderr, want) {
		t.Errorf("stderr does not name %q: %q", want, r.Stderr)
	}
	if msg := oneLineError(r); msg != "" {
		t.Errorf("%s: %q", msg, r.Stderr)
	}
	if names := dirNames(run.root); len(names) > 0 {
		t.Errorf("entries left under --root: %v", names)
	}
	if b := run.b; b != nil {
		if ds := cgroupDirs(b.Cgroup); len(ds) > 0 {
			t.Errorf("cgroup dirs left: %v", ds)
		}
	}
	if ms := mountsUnder(run.dir + "/"); len(ms) > 0 {
		t.Errorf("host mounts left: %v", ms)
	}
}

// badInputWorkers: how many cases run at once. rt mostly waits on the
// kernel, so more than the CPUs (go test's -parallel) pays.
const badInputWorkers = 8

// badRun is one case made ready, then run.
type badRun struct {
	dir  string // the case's own directory
	root string // its --root, inside dir
	b    *Bundle
	args []string
	id   string // the ID argument ("" for argv cases)
	r    Result
	err  error
}

func TestBadInput(t *testing.T) {
	mounts := hostMounts()
	kids := len(liveChildren())
	cases := badCases()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases named %q", c.name)
		}
		seen[c.name] = true
	}
	t.Logf("%d cases, %d at a time", len(cases), badInputWorkers)
	// Each case gets its own --root, bundle and cgroup path.
	// They share one copy of the rootfs (root.path is absolute): no case
	// may get far enough to change it, and copying it 100 times is slow.
	t0 := time.Now()
	h := newH(t)
	rootfs := h.Bundle().Rootfs
	runs := make([]badRun, len(cases))
	for i, c := range cases {
		dir := filepath.Join(h.Dir, fmt.Sprintf("case%d", i))
		run := badRun{dir: dir, root: filepath.Join(dir, "state"), args: []string{"--root", filepath.Join(dir, "state")}}
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if c.global != nil {
			run.args = append(run.args, c.global(dir)...)
		}
		if c.argv != nil {
			run.args = append(run.args, c.argv...)
		} else {
			run.b = sharedRootfsBundle(t, dir, rootfs, c.mut)
			if c.raw != nil {
				c.raw(run.b.Dir)
			}
			// Not h.ID: its cleanup would run one delete --force per
			// case, and checkBad requires that nothing exists anyway.
			run.id = fmt.Sprintf("bad-%s-%d", runToken, counter.Add(1))
			if c.id != nil {
				run.id = *c.id
			}
			cmd := c.cmd
			if cmd == "" {
				cmd = "create"
			}
			run.args = append(run.args, cmd, "--bundle", run.b.Dir)
			run.args = append(append(append(run.args, c.extra...), run.id), c.after...)
		}
		runs[i] = run
	}
	t.Logf("bundles made in %v", time.Since(t0).Round(time.Millisecond))
	start := time.Now()
	sem := make(chan struct{}, badInputWorkers)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			runs[i].r, runs[i].err = rtCmd(RunOpts{}, runs[i].args...)
		}()
	}
	wg.Wait()
	t.Logf("all cases ran in %v", time.Since(start).Round(time.Millisecond))
	for i, c := range cases {
		run := runs[i]
		t.Run(c.name, func(t *testing.T) {
			if run.err != nil {
				t.Fatal(run.err)
			}
			r := run.r
			t.Logf("exit %d: %.300s", r.Code, strings.TrimSpace(r.Stderr))
			if r.Code == 0 && run.id != "" {
				// It was created after all: remove it before the checks.
				rtCmd(RunOpts{}, "--root", run.root, "delete", "--force", run.id)
			}
			if c.bug != "" && (r.Code == 0 || !strings.Contains(r.Stderr, c.want)) {
				knownBug(t, "%s; got: exit %d, stderr %.200q", c.bug, r.Code, r.Stderr)
			}
			checkBad(t, run, r, c.want)
		})
	}
	// Nothing of any case may be left on the host.
	cgs := map[string]string{}
	for i, run := range runs {
		if run.b != nil && ours(run.b.Cgroup) {
			cgs[run.b.Cgroup] = cases[i].name
		}
	}
	for _, p := range procsInCgroups(cgs) {
		t.Errorf("process %d (%s) left in the cgroup of case %q", p.Pid, p.Comm, cgs[p.cgroup])
		syscall.Kill(p.Pid, syscall.SIGKILL) // in a cgroup this run made up
	}
	checkMountsUnchanged(t, mounts)
	waitFor(2*time.Second, func() bool { reapZombies(); return len(liveChildren()) == kids })
	if ps := liveChildren(); len(ps) != kids {
		t.Errorf("processes left: %d live children before, %d after: %v", kids, len(ps), ps)
	}
}

// TestDuplicateID: a second create of a live ID fails and leaves the
// first container as it was.
func TestDuplicateID(t *testing.T) {
	h := newH(t)
	b := h.Bundle(args("sleep", "1000"))
	id, pid := h.Create(b)
	b2 := h.Bundle(args("sleep", "1000"))
	kids := len(liveChildren())
	r := h.RT("create", "--bundle", b2.Dir, id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "already exists") || len(lines(r.Stderr)) != 1 {
		t.Errorf("second create of %s: want one line with \"already exists\": %v", id, r)
	}
	if st := h.State(id); st.Status != specs.StateCreated || st.Pid != pid || st.Bundle != b.Dir {
		t.Errorf("first container changed by the failed create: %+v", st)
	}
	if ds := cgroupDirs(b2.Cgroup); len(ds) > 0 {
		t.Errorf("failed create left cgroup dirs %v", ds)
	}
	if n := len(liveChildren()); n != kids {
		t.Errorf("failed create left processes: %v", liveChildren())
	}
}

// dirNames lists the container records under a state root. Names that
// start with '@' (never a valid ID) are rt's caches, e.g. "@rt-init".
func dirNames(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "@") {
			continue
		}
		out = append(out, e.Name())
	}
	return out
}

// cgProc is a process found in one of a set of cgroups.
type cgProc struct {
	Proc
	cgroup string
}

// procsInCgroups lists live processes whose cgroup, in any hierarchy, is
// a key of cgs: one scan of /proc for all of them.
func procsInCgroups(cgs map[string]string) []cgProc {
	ents, _ := os.ReadDir("/proc")
	var out []cgProc
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			parts := strings.SplitN(l, ":", 3)
			if len(parts) != 3 {
				continue
			}
			if _, ok := cgs[parts[2]]; ok {
				if p, ok := readProc(pid); ok && p.State != 'Z' {
					out = append(out, cgProc{p, parts[2]})
				}
				break
			}
		}
	}
	return out
}

// sharedRootfsBundle is like h.Bundle, in dir/bundle, without a copy of
// the rootfs: the config is the same (rt spec, terminal off, args
// ["true"], a cgroup path of this run) with root.path rootfs (absolute),
// then mut. The cgroup is not registered with an H: TestBadInput checks
// all of them in one scan.
func sharedRootfsBundle(t *testing.T, dir, rootfs string, mut func(*specs.Spec)) *Bundle {
	t.Helper()
	dir = filepath.Join(dir, "bundle")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tpl, err := template()
	if err != nil {
		t.Fatal(err)
	}
	s := &specs.Spec{}
	if err := jsonUnmarshal(string(tpl), s); err != nil {
		t.Fatal(err)
	}
	s.Process.Terminal = false
	s.Process.Args = []string{"true"}
	s.Root.Path = rootfs
	s.Linux.CgroupsPath = fmt.Sprintf("/rt-itest-%s-%d", runToken, counter.Add(1))
	if mut != nil {
		mut(s)
	}
	b := &Bundle{Dir: dir, Rootfs: rootfs, Spec: s}
	if s.Linux != nil {
		b.Cgroup = s.Linux.CgroupsPath
	}
	b.Write(t)
	return b
}
