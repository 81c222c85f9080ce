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
