package tests

import (
	"encoding/json"
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
	"golang.org/x/sys/unix"
)

// The cases of TestRootless (rootless_test.go: the user, its bundle and
// the helpers).

// testRootlessSpec: `rt spec --rootless` run by the user has the shape of
// `runc spec --rootless`: a user namespace mapping root to the caller, no
// network namespace, /sys as a read-only rbind, no resources, no devices.
func testRootlessSpec(t *testing.T, u *rlUser) {
	if _, err := exec.LookPath("runc"); err != nil {
		t.Skip("runc not installed")
	}
	load := func(prog string) *specs.Spec {
		dir, err := os.MkdirTemp(u.dir, "spec-")
		if err != nil {
			t.Fatal(err)
		}
		u.chown(t, dir)
		if r := u.command(t, rlOpts{dir: dir}, prog, "spec", "--rootless"); r.Code != 0 {
			t.Fatalf("%s spec --rootless: %v", prog, r)
		}
		s := &specs.Spec{}
		data, err := os.ReadFile(filepath.Join(dir, "config.json"))
		if err == nil {
			err = json.Unmarshal(data, s)
		}
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ours, runc := load(u.rt), load("runc")
	nsTypes := func(s *specs.Spec) map[specs.LinuxNamespaceType]bool {
		m := map[specs.LinuxNamespaceType]bool{}
		for _, ns := range s.Linux.Namespaces {
			m[ns.Type] = true
		}
		return m
	}
	on, rn := nsTypes(ours), nsTypes(runc)
	for typ := range rn {
		if !on[typ] {
			t.Errorf("rt spec --rootless lacks the %s namespace runc has", typ)
		}
	}
	for typ := range on {
		// rt's template always has a cgroup namespace (runc adds it on cgroup v2 hosts).
		if !rn[typ] && typ != specs.CgroupNamespace {
			t.Errorf("rt spec --rootless has a %s namespace runc does not", typ)
		}
	}
	if on[specs.NetworkNamespace] || !on[specs.UserNamespace] {
		t.Errorf("namespaces %v: want a user namespace and no network namespace", ours.Linux.Namespaces)
	}
	wantMap := []specs.LinuxIDMapping{{ContainerID: 0, HostID: u.uid, Size: 1}}
	if fmt.Sprint(ours.Linux.UIDMappings) != fmt.Sprint(wantMap) || fmt.Sprint(runc.Linux.UIDMappings) != fmt.Sprint(wantMap) {
		t.Errorf("uidMappings: rt %v, runc %v, want %v", ours.Linux.UIDMappings, runc.Linux.UIDMappings, wantMap)
	}
	wantG := []specs.LinuxIDMapping{{ContainerID: 0, HostID: u.gid, Size: 1}}
	if fmt.Sprint(ours.Linux.GIDMappings) != fmt.Sprint(wantG) || fmt.Sprint(runc.Linux.GIDMappings) != fmt.Sprint(wantG) {
		t.Errorf("gidMappings: rt %v, runc %v, want %v", ours.Linux.GIDMappings, runc.Linux.GIDMappings, wantG)
	}
	if ours.Linux.Resources != nil || len(ours.Linux.Devices) > 0 {
		t.Errorf("linux.resources %+v, linux.devices %v: want none", ours.Linux.Resources, ours.Linux.Devices)
	}
	mounts := func(s *specs.Spec) string {
		var out []string
		for _, m := range s.Mounts {
			out = append(out, fmt.Sprintf("%s %s %s %v", m.Destination, m.Type, m.Source, m.Options))
		}
		return strings.Join(out, "\n")
	}
	if mounts(ours) != mounts(runc) {
		t.Errorf("mounts differ from runc's:\nrt:\n%s\nrunc:\n%s", mounts(ours), mounts(runc))
	}
}

// testRootlessRun: `rt run` end to end as the user. Inside: root, the
// mapping of the user's own IDs, setgroups denied (rt wrote gid_map
// itself), devices and /sys usable; on the host a file the container made
// belongs to the user.
func testRootlessRun(t *testing.T, u *rlUser) {
	b := u.bundle(t, func(s *specs.Spec) {
		s.Process.Args = []string{"sh", "-c", `id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups;
			touch /made-inside; echo x > /dev/null && echo devnull-ok; head -c 4 /dev/zero | wc -c;
			ls /sys/kernel >/dev/null && echo sysfs-ok; touch /sys/x 2>/dev/null || echo sysfs-ro; hostname`}
	})
	id := u.id("run")
	r := u.mustRun(t, "run", "--bundle", b.dir, id)
	out := r.Stdout
	want := fmt.Sprintf("0\n0\n0 %d 1\n0 %d 1\ndeny\ndevnull-ok\n4\nsysfs-ok\nsysfs-ro\nrt\n", u.uid, u.gid)
	if got := squeeze(out); got != want {
		t.Errorf("output (spaces squeezed):\n%s\nwant:\n%s", got, want)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(b.rootfs, "made-inside"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != u.uid || st.Gid != u.gid {
		t.Errorf("a file made by the container's root belongs to %d:%d on the host, want %d:%d", st.Uid, st.Gid, u.uid, u.gid)
	}
	u.checkNothingLeft(t, id, 0)
}

// testRootlessLifecycle: create, state, start, exec, kill, delete as the
// user; the record lives under $XDG_RUNTIME_DIR/rt and goes with delete.
func testRootlessLifecycle(t *testing.T, u *rlUser) {
	b := u.bundle(t, func(s *specs.Spec) { s.Process.Args = []string{"sleep", "300"} })
	id := u.id("life")
	pidFile := filepath.Join(b.dir, "pid")
	u.mustRun(t, "create", "--bundle", b.dir, "--pid-file", pidFile, id)
	pid := readPid(t, pidFile)
	dir := u.stateDir(id)
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dir, "state.json"), &st); err != nil {
		t.Fatalf("no record under $XDG_RUNTIME_DIR/rt: %v", err)
	} else if st.Uid != u.uid {
		t.Errorf("%s/state.json belongs to uid %d, want %d", dir, st.Uid, u.uid)
	}
	state := func() specs.State {
		reapZombies()
		var s specs.State
		r := u.mustRun(t, "state", id)
		if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
			t.Fatalf("state: %v: %q", err, r.Stdout)
		}
		return s
	}
	if s := state(); s.Status != specs.StateCreated || s.Pid != pid {
		t.Errorf("state after create: %+v, want created with pid %d", s, pid)
	}
	if got := hostUID(t, pid); got != strconv.Itoa(int(u.uid)) {
		t.Errorf("the init runs as host uid %s, want %d", got, u.uid)
	}
	u.mustRun(t, "start", id)
	if s := state(); s.Status != specs.StateRunning {
		t.Errorf("state after start: %s", s.Status)
	}
	r := u.mustRun(t, "exec", id, "sh", "-c", "id -u; cat /proc/self/uid_map; cat /proc/1/cmdline | tr '\\0' ' '")
	if f := strings.Fields(r.Stdout); len(f) < 5 || f[0] != "0" || f[1] != "0" || f[2] != strconv.Itoa(int(u.uid)) || f[4] != "sleep" {
		t.Errorf("exec output %q: want uid 0, the map 0 %d 1 and the container's pid 1", r.Stdout, u.uid)
	}
	u.mustRun(t, "kill", id, "KILL")
	ok := waitFor(10*time.Second, func() bool { return state().Status == specs.StateStopped })
	if !ok {
		t.Fatalf("not stopped after kill")
	}
	u.mustRun(t, "delete", id)
	u.checkNothingLeft(t, id, pid)
	if r := u.run(t, rlOpts{}, "state", id); r.Code == 0 {
		t.Errorf("state after delete: %v", r)
	}
}

// testRootlessMultiID: a map of the user's /etc/subuid range, written by
// newuidmap/newgidmap: chown to container uid 1000 works and the file
// belongs to subuid_start+999 on the host.
func testRootlessMultiID(t *testing.T, u *rlUser) {
	if _, err := exec.LookPath("newuidmap"); err != nil {
		t.Skip("newuidmap not installed (package uidmap)")
	}
	b := u.bundle(t, u.subMaps, withCapsRL("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETUID", "CAP_SETGID"), func(s *specs.Spec) {
		s.Process.Args = []string{"sh", "-c", `cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups;
			touch /tmp/x && chown 1000:1000 /tmp/x && stat -c owner=%u:%g /tmp/x`}
		s.Process.User.AdditionalGids = []uint32{10}
	})
	id := u.id("multi")
	out := squeeze(u.mustRun(t, "run", "--bundle", b.dir, id).Stdout)
	want := fmt.Sprintf("0 %d 1\n1 %d %d\n0 %d 1\n1 %d %d\nallow\nowner=1000:1000\n", u.uid, u.sub, rlSubSize, u.gid, u.subg, rlSubSize)
	if out != want {
		t.Errorf("output (spaces squeezed):\n%s\nwant (the maps, setgroups allowed, /tmp/x owned by 1000:1000):\n%s", out, want)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(b.rootfs, "tmp", "x"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != u.sub+999 || st.Gid != u.subg+999 {
		t.Errorf("/tmp/x belongs to %d:%d on the host, want %d:%d", st.Uid, st.Gid, u.sub+999, u.subg+999)
	}
	u.checkNothingLeft(t, id, 0)
}

// testRootlessSeccomp: an unprivileged rt compiles linux.seccomp with its
// embedded rt-seccomp (a 0111 memfd it execs) and the filter holds.
func testRootlessSeccomp(t *testing.T, u *rlUser) {
	b := u.bundle(t, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}}}
		s.Process.Args = []string{"sh", "-c", `mkdir /tmp/sc 2>/dev/null && echo made || echo refused`}
	})
	id := u.id("seccomp")
	if out := strings.TrimSpace(u.mustRun(t, "run", "--bundle", b.dir, id).Stdout); out != "refused" {
		t.Errorf("mkdir under a filter refusing it: %q, want refused", out)
	}
	u.checkNothingLeft(t, id, 0)
}

// testRootlessSysfs: a config with a sysfs mount and no network namespace
// (sysfs can't be mounted then in a user namespace) gets the host's /sys
// bound recursively, read-only.
func testRootlessSysfs(t *testing.T, u *rlUser) {
	b := u.bundle(t, func(s *specs.Spec) {
		for i, m := range s.Mounts {
			if m.Destination == "/sys" {
				s.Mounts[i] = specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}}
			}
		}
		s.Process.Args = []string{"sh", "-c", `ls /sys/class/net | grep -qx lo && echo lo-seen; touch /sys/x 2>/dev/null || echo sysfs-ro`}
	})
	id := u.id("sysfs")
	out := u.mustRun(t, "run", "--bundle", b.dir, id).Stdout
	if !strings.Contains(out, "lo-seen") || !strings.Contains(out, "sysfs-ro") {
		t.Errorf("output %q: want the host's /sys, read-only", out)
	}
	u.checkNothingLeft(t, id, 0)
}

// testRootlessNoCgroup: without a cgroup the user may write and without
// limits, the container runs in the caller's cgroups; what needs a cgroup
// of its own says so; kill --all and delete work.
func testRootlessNoCgroup(t *testing.T, u *rlUser) {
	b := u.bundle(t, func(s *specs.Spec) {
		s.Process.Args = []string{"sleep", "300"}
		// Device rules are ignored rootless, as by runc.
		s.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}
	})
	id := u.id("nocg")
	pidFile := filepath.Join(b.dir, "pid")
	u.mustRun(t, "run", "-d", "--bundle", b.dir, "--pid-file", pidFile, id)
	pid := readPid(t, pidFile)
	self, _ := os.ReadFile("/proc/self/cgroup")
	theirs, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if string(self) != string(theirs) {
		t.Errorf("the init's cgroups differ from its creator's:\n%s\nwant\n%s", theirs, self)
	}
	r := u.run(t, rlOpts{}, "pause", id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "no cgroup") {
		t.Errorf("pause without a cgroup: %v; want an error saying there is no cgroup", r)
	}
	u.mustRun(t, "kill", "--all", id, "KILL")
	checkGone(t, pid, "init after kill --all")
	u.mustRun(t, "delete", id)
	u.checkNothingLeft(t, id, pid)
}

// testRootlessDelegated: cgroup v1 directories chown'd to the user
// (delegation) and linux.cgroupsPath inside them: rt makes the
// container's cgroup there and sets the limits; the controllers not
// delegated are left out.
func testRootlessDelegated(t *testing.T, u *rlUser) {
	if !v1Mounted("memory") || !v1Mounted("pids") {
		t.Skip("needs the cgroup v1 memory and pids hierarchies")
	}
	parent := fmt.Sprintf("rt-itest-%s-%d", runToken, counter.Add(1))
	for _, c := range []string{"memory", "pids"} {
		d := filepath.Join("/sys/fs/cgroup", c, parent)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := os.Remove(d); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		})
		u.chown(t, d)
	}
	b := u.bundle(t, func(s *specs.Spec) {
		s.Process.Args = []string{"sleep", "300"}
		s.Linux.CgroupsPath = "/" + parent + "/ctr"
		s.Linux.Resources = &specs.LinuxResources{
			Memory:  &specs.LinuxMemory{Limit: i64(64 << 20)},
			Pids:    &specs.LinuxPids{Limit: i64(40)},
			Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		}
	})
	id := u.id("deleg")
	pidFile := filepath.Join(b.dir, "pid")
	u.mustRun(t, "run", "-d", "--bundle", b.dir, "--pid-file", pidFile, id)
	pid := readPid(t, pidFile)
	mem := filepath.Join("/sys/fs/cgroup/memory", parent, "ctr")
	pids := filepath.Join("/sys/fs/cgroup/pids", parent, "ctr")
	if got := hostFile(t, filepath.Join(mem, "memory.limit_in_bytes")); got != strconv.Itoa(64<<20) {
		t.Errorf("memory.limit_in_bytes %s, want %d", got, 64<<20)
	}
	if got := hostFile(t, filepath.Join(pids, "pids.max")); got != "40" {
		t.Errorf("pids.max %s, want 40", got)
	}
	if !inCgroup(pid, "/"+parent+"/ctr") {
		t.Errorf("the init is not in /%s/ctr", parent)
	}
	out := u.mustRun(t, "exec", id, "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; ls /sys/fs/cgroup").Stdout
	if f := strings.Fields(out); len(f) < 3 || f[0] != strconv.Itoa(64<<20) || f[1] != "40" || strings.Contains(out, "cpu") {
		t.Errorf("inside: %q: want the limits, and only the delegated hierarchies under /sys/fs/cgroup", out)
	}
	// A limit of a controller not delegated is refused, naming it.
	b2 := u.bundle(t, func(s *specs.Spec) {
		s.Linux.CgroupsPath = "/" + parent + "/ctr2"
		s.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(512)}}
	})
	id2 := u.id("deleg")
	r := u.run(t, rlOpts{}, "run", "--bundle", b2.dir, id2)
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux.resources.cpu.shares") {
		t.Errorf("cpu shares without a delegated cpu cgroup: %v", r)
	}
	u.checkNothingLeft(t, id2, 0)
	u.mustRun(t, "delete", "--force", id)
	u.checkNothingLeft(t, id, pid)
	for _, d := range []string{mem, pids, filepath.Join("/sys/fs/cgroup/memory", parent, "ctr2")} {
		if fileExists(d) {
			t.Errorf("cgroup %s left after delete", d)
		}
	}
}

// testRootlessErrors: what a rootless user can't do is refused before
// anything is made, naming the config.json field (or flag), and leaves
// nothing behind.
func testRootlessErrors(t *testing.T, u *rlUser) {
	noHelpers, err := os.MkdirTemp(u.dir, "empty-path-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(noHelpers, 0o755)
	blockDev := rootOnlyBlockDevice()
	cases := []struct {
		name  string
		mut   func(*specs.Spec)
		o     rlOpts
		flags []string
		want  []string
	}{
		{name: "no user namespace", mut: func(s *specs.Spec) {
			var nss []specs.LinuxNamespace
			for _, ns := range s.Linux.Namespaces {
				if ns.Type != specs.UserNamespace {
					nss = append(nss, ns)
				}
			}
			s.Linux.Namespaces, s.Linux.UIDMappings, s.Linux.GIDMappings = nss, nil, nil
		}, want: []string{"linux.namespaces", "user namespace"}},
		{name: "uid outside the ranges", mut: func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}}
		}, want: []string{"linux.uidMappings[0]", "/etc/subuid"}},
		{name: "gid range too long", mut: func(s *specs.Spec) {
			u.subMaps(s)
			s.Linux.GIDMappings[1].Size = rlSubSize + 1
		}, want: []string{"linux.gidMappings[1]", "/etc/subgid"}},
		{name: "no newuidmap", mut: u.subMaps, o: rlOpts{env: []string{"PATH=" + noHelpers}}, want: []string{"linux.uidMappings", "newuidmap", "PATH"}},
		{name: "limits without a cgroup", mut: func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(64 << 20)}}
		}, want: []string{"linux.resources.memory.limit", "rootless", "linux.cgroupsPath"}},
		{name: "cgroupsPath not delegated", mut: func(s *specs.Spec) {
			s.Linux.CgroupsPath = fmt.Sprintf("/rt-itest-%s-%d", runToken, counter.Add(1))
		}, want: []string{"linux.cgroupsPath", "rootless", "delegate"}},
		{name: "supplementary groups with the own gid only", mut: func(s *specs.Spec) {
			s.Process.User.AdditionalGids = []uint32{5}
		}, want: []string{"process.user.additionalGids", "setgroups"}},
		{name: "time namespace", mut: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		}, want: []string{"linux.namespaces[", "time namespace"}},
		{name: "idmapped mount", mut: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "/tmp", Options: []string{"rbind", "idmap"}})
		}, want: []string{"mounts[", "idmapped"}},
		{name: "no state root", o: rlOpts{env: []string{"XDG_RUNTIME_DIR"}}, want: []string{"--root /run/rt", "XDG_RUNTIME_DIR"}},
		{name: "bad --rootless", flags: []string{"--rootless", "maybe"}, want: []string{"--rootless", "maybe"}},
		{name: "cgroups as errors (--rootless false)", flags: []string{"--rootless", "false"}, want: []string{"cgroup", "permission denied"}},
	}
	if blockDev != "" {
		cases = append(cases, struct {
			name  string
			mut   func(*specs.Spec)
			o     rlOpts
			flags []string
			want  []string
		}{name: "device the user can't open", mut: func(s *specs.Spec) {
			var st syscall.Stat_t
			syscall.Stat(blockDev, &st)
			s.Linux.Devices = []specs.LinuxDevice{{Path: blockDev, Type: "b", Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev))}}
		}, want: []string{"linux.devices[0]", blockDev, "permission denied"}})
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			b := u.bundle(t)
			if c.mut != nil {
				c.mut(b.spec)
				b.write(t)
			}
			id := u.id("err")
			args := append(append([]string(nil), c.flags...), "run", "--bundle", b.dir, id)
			r := u.run(t, c.o, args...)
			if r.Code == 0 {
				t.Fatalf("accepted: %v", r)
			}
			for _, w := range c.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("error lacks %q: %s", w, r.Stderr)
				}
			}
			u.checkNothingLeft(t, id, 0)
			if ds, _ := filepath.Glob("/sys/fs/cgroup/*/" + id); len(ds) > 0 {
				t.Errorf("cgroups left: %v", ds)
			}
		})
	}
}

// squeeze joins the words of each line with one space.
func squeeze(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(strings.Join(strings.Fields(l), " ") + "\n")
	}
	return b.String()
}

// rootOnlyBlockDevice returns a block device node in /dev that others may
// not open, or "".
func rootOnlyBlockDevice() string {
	ents, _ := os.ReadDir("/sys/block")
	for _, e := range ents {
		p := "/dev/" + e.Name()
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFBLK && st.Mode&0o006 == 0 {
			return p
		}
	}
	return ""
}
