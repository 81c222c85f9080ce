package tests

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Rootless rt on a cgroup v2 host (docs/rootless.md, "Cgroups"). The
// cgroup-v2 VM stage (tests/cgv2/run.sh) runs these; elsewhere they skip.
// The VM has busybox only (no useradd, no newuidmap), so the user is just
// a numeric uid/gid without a passwd entry, with single-ID maps; the test
// process (root) starts its commands with those credentials.
//
// The delegation is what systemd's Delegate=memory pids gives a user:
// below a cgroup of root's that offers only the memory and pids
// controllers ("top"), a cgroup ("deleg") whose directory and cgroup.procs,
// cgroup.threads and cgroup.subtree_control belong to the user, memory
// and pids enabled for its children, and the user's session in a child
// of it ("runner", which the test puts the user's rt commands into with
// CLONE_INTO_CGROUP, as root may). Its own limit files stay root's.

// TestRootlessV2 groups the cases so that they share the user and the
// delegated cgroup, made first and removed after the last subtest.
func TestRootlessV2(t *testing.T) {
	t.Parallel()
	if !unifiedHost() {
		t.Skip("needs a cgroup v2 (unified) host; tests/cgv2/run.sh runs it in a cgroup-v2 VM")
	}
	h := newH(t)
	d := newV2Delegation(t)
	u := newNumericUser(t, h)
	d.delegate(t, u)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *rlUser, *v2Deleg)
	}{
		{"NoCgroup", testRootlessV2NoCgroup},
		{"NoCgroupLifecycle", func(t *testing.T, u *rlUser, _ *v2Deleg) { testRootlessNoCgroup(t, u) }},
		{"LimitsRefused", testRootlessV2LimitsRefused},
		{"Delegated", testRootlessV2Delegated},
		{"ControllerNotDelegated", testRootlessV2ControllerNotDelegated},
		{"CgroupMounts", testRootlessV2CgroupMounts},
		{"OutsideDelegation", testRootlessV2Outside},
		{"RootUserns", func(t *testing.T, _ *rlUser, _ *v2Deleg) { testRootlessV2RootUserns(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, u, d)
		})
	}
}

// newNumericUser picks a uid (and the same gid) that has no passwd or
// group entry and no process, and gives it a runtime dir (its
// $XDG_RUNTIME_DIR and $HOME) and a copy of rt under h.Dir. Cleanup
// force-deletes the containers it left and kills its processes, by PID;
// h's cleanup removes the directories.
func newNumericUser(t *testing.T, h *H) *rlUser {
	t.Helper()
	for _, d := range []string{workDir, h.Dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := strconv.ParseUint(runToken[:4], 16, 32)
	u := &rlUser{dir: h.Dir}
	for i := uint64(0); ; i++ {
		if i == 100 {
			t.Fatal("no free uid found")
		}
		id := uint32(3000000 + (n+i*7919)%60000)
		u.uid, u.gid = id, id
		if !idListed("/etc/passwd", id) && !idListed("/etc/group", id) && len(u.processes()) == 0 {
			break
		}
	}
	u.name = fmt.Sprintf("uid%d", u.uid)
	u.xdg = filepath.Join(h.Dir, "xdg")
	u.home = u.xdg
	if err := os.Mkdir(u.xdg, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(u.xdg, int(u.uid), int(u.gid)); err != nil {
		t.Fatal(err)
	}
	u.rt = filepath.Join(h.Dir, "rt")
	if err := copyFile(rtBin, u.rt, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.sweep(t) })
	return u
}

// idListed reports whether a passwd-style file has an entry with the
// numeric ID in its third field.
func idListed(file string, id uint32) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Split(sc.Text(), ":"); len(fs) > 2 && fs[2] == strconv.Itoa(int(id)) {
			return true
		}
	}
	return false
}

// v2Deleg is the user's delegated cgroup.
type v2Deleg struct {
	top    string   // /sys/fs/cgroup/rt-itest-<run>-<n>, root's
	rel    string   // "/rt-itest-<run>-<n>/deleg", as linux.cgroupsPath sees it
	dir    string   // its directory
	runner *os.File // its "runner" child, where the user's commands start
}

func newV2Delegation(t *testing.T) *v2Deleg {
	t.Helper()
	ctl, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"memory", "pids"} {
		if !strings.Contains(" "+strings.TrimSpace(string(ctl))+" ", " "+c+" ") {
			t.Skipf("the %s controller is not enabled in /sys/fs/cgroup/cgroup.subtree_control (%q)", c, ctl)
		}
	}
	top := fmt.Sprintf("/rt-itest-%s-%d", runToken, counter.Add(1))
	d := &v2Deleg{top: filepath.Join("/sys/fs/cgroup", top), rel: top + "/deleg"}
	d.dir = filepath.Join("/sys/fs/cgroup", d.rel)
	if err := os.Mkdir(d.top, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.remove(t) })
	for _, p := range []string{d.top, d.dir} {
		if p == d.dir {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(p, "cgroup.subtree_control"), []byte("+memory +pids"), 0o644); err != nil {
			t.Fatalf("enable memory and pids below %s: %v", p, err)
		}
	}
	if err := os.Mkdir(filepath.Join(d.dir, "runner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if d.runner, err = os.OpenFile(filepath.Join(d.dir, "runner"), os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0); err != nil {
		t.Fatal(err)
	}
	return d
}

// delegate hands the cgroup to u the way systemd does (Delegate=yes):
// the directory and its cgroup.procs, cgroup.threads and
// cgroup.subtree_control; the runner and everything in it (as if the user
// had made it).
func (d *v2Deleg) delegate(t *testing.T, u *rlUser) {
	t.Helper()
	for _, p := range []string{"", "cgroup.procs", "cgroup.threads", "cgroup.subtree_control"} {
		if err := os.Chown(filepath.Join(d.dir, p), int(u.uid), int(u.gid)); err != nil {
			t.Fatal(err)
		}
	}
	u.chown(t, filepath.Join(d.dir, "runner"))
}

// remove deletes the delegation; a cgroup the containers left in it is
// an error (and is removed when empty).
func (d *v2Deleg) remove(t *testing.T) {
	if d.runner != nil {
		d.runner.Close()
	}
	var all []string
	filepath.WalkDir(d.top, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.IsDir() {
			all = append(all, p)
			if p != d.top && p != d.dir && p != filepath.Join(d.dir, "runner") {
				t.Errorf("cleanup: cgroup %s left in the delegation", p)
			}
		}
		return nil
	})
	// WalkDir lists parents before their children: remove from the end.
	for i := len(all) - 1; i >= 0; i-- {
		var err error
		waitFor(5*time.Second, func() bool { err = os.Remove(all[i]); return err == nil })
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

// runIn runs rt as u with its process started in the cgroup cg (the
// user's session inside the delegation); nil: in the test's own cgroup.
func (u *rlUser) runIn(t *testing.T, cg *os.File, args ...string) Result {
	t.Helper()
	if cg == nil {
		return u.run(t, rlOpts{}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, u.rt, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential:  &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: []uint32{u.gid}},
		UseCgroupFD: true,
		CgroupFD:    int(cg.Fd()),
	}
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=" + u.home, "USER=" + u.name,
		"LOGNAME=" + u.name, "XDG_RUNTIME_DIR=" + u.xdg}
	cmd.Dir = "/"
	var files [2]*os.File
	for i := range files {
		f, err := os.CreateTemp(workDir, "out-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		files[i] = f
	}
	cmd.Stdout, cmd.Stderr = files[0], files[1]
	cmd.WaitDelay = 5 * time.Second
	err := startTracked(cmd)
	if err != nil {
		t.Fatalf("start rt as %s in %s: %v", u.name, cg.Name(), err)
	}
	err = cmd.Wait()
	trackSpawn(cmd.Process.Pid, false)
	r := Result{Args: args}
	ob, _ := os.ReadFile(files[0].Name())
	eb, _ := os.ReadFile(files[1].Name())
	r.Stdout, r.Stderr = string(ob), string(eb)
	if ctx.Err() != nil {
		t.Fatalf("rt %v as %s: timed out\n%v", args, u.name, r)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("rt %v as %s: %v", args, u.name, err)
	}
	return r
}

func (u *rlUser) mustRunIn(t *testing.T, cg *os.File, args ...string) Result {
	t.Helper()
	r := u.runIn(t, cg, args...)
	if r.Code != 0 {
		t.Fatalf("as %s: %v", u.name, r)
	}
	return r
}

// v2CgroupOf is pid's cgroup v2 path ("0::PATH").
func v2CgroupOf(t *testing.T, pid int) string {
	t.Helper()
	for _, l := range lines(hostFile(t, fmt.Sprintf("/proc/%d/cgroup", pid))) {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return p
		}
	}
	t.Fatalf("/proc/%d/cgroup has no cgroup v2 line", pid)
	return ""
}

// v2CgroupMount sets the /sys/fs/cgroup mount of the rootless spec (ro:
// read-only) and, with cgns false, drops the cgroup namespace.
func v2CgroupMount(ro, cgns bool) func(*specs.Spec) {
	return func(s *specs.Spec) {
		opts := []string{"nosuid", "noexec", "nodev", "relatime"}
		if ro {
			opts = append(opts, "ro")
		}
		var ms []specs.Mount
		for _, m := range s.Mounts {
			if m.Destination != "/sys/fs/cgroup" {
				ms = append(ms, m)
			}
		}
		s.Mounts = append(ms, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: opts})
		if !cgns {
			dropNS(s, specs.CgroupNamespace)
		}
	}
}

// v2CgProbe prints what the container sees of its cgroup.
const v2CgProbe = `echo "uid=$(id -u)"; echo "map=$(cat /proc/self/uid_map)"; echo "cgroup=$(cat /proc/self/cgroup)"
echo "memmax=$(cat /sys/fs/cgroup/memory.max 2>&1)"; echo "pidsmax=$(cat /sys/fs/cgroup/pids.max 2>&1)"
if mkdir /sys/fs/cgroup/probe 2>/dev/null; then rmdir /sys/fs/cgroup/probe && echo write=ok; else echo write=refused; fi
cat /proc/self/mountinfo`

// v2CheckCgroupView checks v2CgProbe's output: the cgroup line, memory.max
// and pids.max ("" to skip), whether /sys/fs/cgroup is a cgroup2 mount,
// read-only or not.
func v2CheckCgroupView(t *testing.T, out, cgroup, memmax, pidsmax string, ro bool) {
	t.Helper()
	m := kv(out)
	if m["cgroup"] != "0::"+cgroup {
		t.Errorf("/proc/self/cgroup inside: %q, want %q", m["cgroup"], "0::"+cgroup)
	}
	if memmax != "" && m["memmax"] != memmax {
		t.Errorf("/sys/fs/cgroup/memory.max inside: %q, want %s (the container's own cgroup)", m["memmax"], memmax)
	}
	if pidsmax != "" && m["pidsmax"] != pidsmax {
		t.Errorf("/sys/fs/cgroup/pids.max inside: %q, want %s", m["pidsmax"], pidsmax)
	}
	mi, ok := parseMountinfo(out)["/sys/fs/cgroup"]
	if !ok || mi.FSType != "cgroup2" {
		t.Errorf("/sys/fs/cgroup inside: %+v, want a cgroup2 mount", mi)
	} else if hasOpt(mi.Opts, "ro") != ro {
		t.Errorf("/sys/fs/cgroup inside has options %s, want read-only %v", mi.Opts, ro)
	}
	if want := map[bool]string{true: "refused", false: "ok"}[ro]; m["write"] != want {
		t.Errorf("mkdir in /sys/fs/cgroup inside: %q, want %s", m["write"], want)
	}
}

// ---- the tests ----

// testRootlessV2NoCgroup: no cgroup the user may write and no limits:
// the container runs (as root of its user namespace) in its creator's
// cgroup, which its cgroup namespace shows as "/"; rt makes no cgroup.
func testRootlessV2NoCgroup(t *testing.T, u *rlUser, _ *v2Deleg) {
	b := u.bundle(t, func(s *specs.Spec) { s.Process.Args = []string{"sh", "-c", v2CgProbe} })
	id := u.id("v2nocg")
	r := u.run(t, rlOpts{}, "run", "--bundle", b.dir, id)
	if r.Code != 0 {
		t.Fatalf("as %s: %v", u.name, r)
	}
	m := kv(r.Stdout)
	if m["uid"] != "0" || strings.Join(strings.Fields(m["map"]), " ") != fmt.Sprintf("0 %d 1", u.uid) {
		t.Errorf("inside: uid %q, uid_map %q; want root mapped to %d", m["uid"], m["map"], u.uid)
	}
	if m["cgroup"] != "0::/" {
		t.Errorf("/proc/self/cgroup inside: %q, want 0::/ (its creator's cgroup, through its cgroup namespace)", m["cgroup"])
	}
	t.Run("CgroupMount", func(t *testing.T) {
		// docs/rootless.md: "on cgroup v2 a cgroup2 mount" (runc mounts
		// cgroup2 here: the cgroup namespace shows the creator's cgroup).
		mi := parseMountinfo(r.Stdout)["/sys/fs/cgroup"]
		if mi.FSType != "cgroup2" || !hasOpt(mi.Opts, "ro") || m["write"] != "refused" {
			t.Errorf("/sys/fs/cgroup inside: %+v, mkdir %s; want a read-only cgroup2 mount", mi, m["write"])
		}
	})
	own := filepath.Join("/sys/fs/cgroup", v2CgroupOf(t, os.Getpid()))
	for _, d := range []string{filepath.Join(own, id), filepath.Join("/sys/fs/cgroup", id)} {
		if fileExists(d) {
			t.Errorf("cgroup %s made or left", d)
		}
	}
	u.checkNothingLeft(t, id, 0)
}

// testRootlessV2LimitsRefused: a limit without a delegated cgroup fails
// before anything is made, naming the field.
func testRootlessV2LimitsRefused(t *testing.T, u *rlUser, _ *v2Deleg) {
	for _, c := range []struct {
		name  string
		res   specs.LinuxResources
		field string
	}{
		{"memory", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(64 << 20)}}, "linux.resources.memory.limit"},
		{"pids", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(40)}}, "linux.resources.pids.limit"},
		{"unified", specs.LinuxResources{Unified: map[string]string{"memory.high": "100000000"}}, "linux.resources.unified"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := u.bundle(t, func(s *specs.Spec) { res := c.res; s.Linux.Resources = &res })
			id := u.id("v2lim")
			r := u.run(t, rlOpts{}, "run", "--bundle", b.dir, id)
			if r.Code == 0 {
				t.Fatalf("accepted: %v", r)
			}
			for _, w := range []string{c.field, "rootless", "delegate"} {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("error lacks %q: %s", w, r.Stderr)
				}
			}
			t.Logf("refused: %s", firstLine(r.Stderr))
			u.checkNothingLeft(t, id, 0)
		})
	}
}

// testRootlessV2Delegated: linux.cgroupsPath in the delegated cgroup, rt
// run by the user from inside the delegation: the container's cgroup is
// made there (the user's), memory.max and pids.max are set and seen from
// inside, where /proc/self/cgroup is "0::/"; update, pause, resume and ps
// work on it; delete removes it. Device rules are ignored rootless. The
// init reports what it sees in /tmp/probe (exec is a subtest of its own).
func testRootlessV2Delegated(t *testing.T, u *rlUser, d *v2Deleg) {
	rel := fmt.Sprintf("%s/c%d", d.rel, counter.Add(1))
	dir := filepath.Join("/sys/fs/cgroup", rel)
	b := u.bundle(t, func(s *specs.Spec) {
		s.Process.Args = []string{"sh", "-c", `cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max > /tmp/probe.new 2>&1
			mv /tmp/probe.new /tmp/probe; exec sleep 300`}
		s.Linux.CgroupsPath = rel
		s.Linux.Resources = &specs.LinuxResources{
			Memory:  &specs.LinuxMemory{Limit: i64(64 << 20)},
			Pids:    &specs.LinuxPids{Limit: i64(40)},
			Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		}
	})
	id := u.id("v2deleg")
	pidFile := filepath.Join(b.dir, "pid")
	u.mustRunIn(t, d.runner, "run", "-d", "--bundle", b.dir, "--pid-file", pidFile, id)
	pid := readPid(t, pidFile)
	if got := v2CgroupOf(t, pid); got != rel {
		t.Errorf("the init is in cgroup %s, want %s", got, rel)
	}
	if got := hostFile(t, filepath.Join(dir, "memory.max")); got != strconv.Itoa(64<<20) {
		t.Errorf("memory.max %s, want %d", got, 64<<20)
	}
	if got := hostFile(t, filepath.Join(dir, "pids.max")); got != "40" {
		t.Errorf("pids.max %s, want 40", got)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil || st.Uid != u.uid {
		t.Errorf("the container's cgroup %s: %v, owner %d; want it made by uid %d", dir, err, st.Uid, u.uid)
	}
	probe := filepath.Join(b.rootfs, "tmp", "probe")
	if !waitFor(20*time.Second, func() bool { return fileExists(probe) }) {
		t.Errorf("the init wrote no /tmp/probe")
	} else if got, want := hostFile(t, probe), fmt.Sprintf("0::/\n%d\n40", 64<<20); got != want {
		t.Errorf("inside: %q, want %q (/proc/self/cgroup, memory.max, pids.max)", got, want)
	}
	t.Run("Exec", func(t *testing.T) {
		r := u.runIn(t, d.runner, "exec", id, "sh", "-c", "cat /proc/self/cgroup /sys/fs/cgroup/pids.max")
		if r.Code != 0 || r.Stdout != "0::/\n40\n" {
			t.Errorf("exec: %v; want 0::/ and pids.max 40", r)
		}
	})
	if ps := u.mustRunIn(t, d.runner, "ps", "--format", "json", id).Stdout; !strings.Contains(ps, strconv.Itoa(pid)) {
		t.Errorf("ps --format json: %q lacks the init %d", ps, pid)
	}
	u.mustRunIn(t, d.runner, "update", "--pids-limit", "50", id)
	if got := hostFile(t, filepath.Join(dir, "pids.max")); got != "50" {
		t.Errorf("pids.max after update --pids-limit 50: %s", got)
	}
	u.mustRunIn(t, d.runner, "pause", id)
	if got := hostFile(t, filepath.Join(dir, "cgroup.freeze")); got != "1" {
		t.Errorf("cgroup.freeze after pause: %s", got)
	}
	u.mustRunIn(t, d.runner, "resume", id)
	if got := hostFile(t, filepath.Join(dir, "cgroup.freeze")); got != "0" {
		t.Errorf("cgroup.freeze after resume: %s", got)
	}
	u.mustRunIn(t, d.runner, "delete", "--force", id)
	u.checkNothingLeft(t, id, pid)
	if fileExists(dir) {
		t.Errorf("cgroup %s left after delete --force", dir)
	}
}

// testRootlessV2ControllerNotDelegated: a limit of a controller the
// delegation does not enable (cpu) fails naming the field, and leaves
// nothing.
func testRootlessV2ControllerNotDelegated(t *testing.T, u *rlUser, d *v2Deleg) {
	rel := fmt.Sprintf("%s/c%d", d.rel, counter.Add(1))
	b := u.bundle(t, func(s *specs.Spec) {
		s.Linux.CgroupsPath = rel
		s.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(20000), Period: u64(100000)}}
	})
	id := u.id("v2nocpu")
	r := u.runIn(t, d.runner, "run", "--bundle", b.dir, id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux.resources.cpu") {
		t.Errorf("a cpu quota in a delegation without the cpu controller: %v; want an error naming linux.resources.cpu", r)
	}
	t.Logf("refused: %s", firstLine(r.Stderr))
	u.checkNothingLeft(t, id, 0)
	if p := filepath.Join("/sys/fs/cgroup", rel); fileExists(p) {
		t.Errorf("cgroup %s left", p)
	}
}

// testRootlessV2CgroupMounts: the /sys/fs/cgroup mount of a container in
// the delegation, with and without a cgroup namespace, read-only and
// read-write. It always shows the container's own cgroup (its
// memory.max); /proc/self/cgroup is "/" in a cgroup namespace and the
// host's path without one.
func testRootlessV2CgroupMounts(t *testing.T, u *rlUser, d *v2Deleg) {
	for _, c := range []struct {
		name     string
		cgns, ro bool
	}{
		{"cgroupns_ro", true, true},
		{"cgroupns_rw", true, false},
		{"no_cgroupns_ro", false, true},
		{"no_cgroupns_rw", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rel := fmt.Sprintf("%s/c%d", d.rel, counter.Add(1))
			b := u.bundle(t, v2CgroupMount(c.ro, c.cgns), func(s *specs.Spec) {
				s.Process.Args = []string{"sh", "-c", v2CgProbe}
				s.Linux.CgroupsPath = rel
				s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(32 << 20)}}
			})
			id := u.id("v2mnt")
			out := u.mustRunIn(t, d.runner, "run", "--bundle", b.dir, id).Stdout
			want := "/"
			if !c.cgns {
				want = rel
			}
			v2CheckCgroupView(t, out, want, strconv.Itoa(32<<20), "", c.ro)
			u.checkNothingLeft(t, id, 0)
			if p := filepath.Join("/sys/fs/cgroup", rel); fileExists(p) {
				t.Errorf("cgroup %s left", p)
			}
		})
	}
}

// testRootlessV2Outside: rt run by the user from outside the delegation
// (the test's own cgroup) may not move the container into it (the
// kernel's rule: cgroup.procs of the common ancestor must be writable),
// so linux.cgroupsPath there is refused and nothing is made.
func testRootlessV2Outside(t *testing.T, u *rlUser, d *v2Deleg) {
	rel := fmt.Sprintf("%s/c%d", d.rel, counter.Add(1))
	b := u.bundle(t, func(s *specs.Spec) { s.Linux.CgroupsPath = rel })
	id := u.id("v2out")
	r := u.run(t, rlOpts{}, "run", "--bundle", b.dir, id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux.cgroupsPath") || !strings.Contains(r.Stderr, "cgroup.procs") {
		t.Errorf("a move from outside the delegation: %v; want an error naming linux.cgroupsPath and the common ancestor's cgroup.procs", r)
	}
	t.Logf("refused: %s", firstLine(r.Stderr))
	u.checkNothingLeft(t, id, 0)
	if p := filepath.Join("/sys/fs/cgroup", rel); fileExists(p) {
		t.Errorf("cgroup %s made", p)
	}
}

// testRootlessV2RootUserns: root running a container with a user
// namespace on cgroup v2 (not rootless: rt makes the cgroup as usual):
// the limits hold and the container sees its own cgroup, with a cgroup
// namespace (a cgroup2 mount of its own) and without (a bind of its
// cgroup, since a user namespace can't mount cgroup2 then).
func testRootlessV2RootUserns(t *testing.T) {
	for _, cgns := range []bool{true, false} {
		t.Run(fmt.Sprintf("cgroupns_%v", cgns), func(t *testing.T) {
			t.Parallel()
			h := newH(t)
			b := h.mappedBundle(v2CgroupMount(true, cgns), func(s *specs.Spec) {
				s.Process.Args = []string{"sh", "-c", v2CgProbe}
				s.Linux.Resources = &specs.LinuxResources{
					Memory: &specs.LinuxMemory{Limit: i64(48 << 20)},
					Pids:   &specs.LinuxPids{Limit: i64(30)},
				}
			})
			out := h.MustRT("run", "--bundle", b.Dir, h.ID("v2rootns")).Stdout
			want := "/"
			if !cgns {
				want = b.Cgroup
			}
			v2CheckCgroupView(t, out, want, strconv.Itoa(48<<20), "30", true)
			if m := kv(out); m["uid"] != "0" || !strings.HasPrefix(strings.Join(strings.Fields(m["map"]), " "), fmt.Sprintf("0 %d ", usernsBase)) {
				t.Errorf("inside: uid %q, uid_map %q; want root mapped to %d", m["uid"], m["map"], usernsBase)
			}
		})
	}
}
