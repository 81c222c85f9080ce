package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The cases of TestRootlessV2 (rootless_v2_test.go: the numeric user,
// the delegation and the helpers).

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
