package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Tests of mounts, masked/readonly paths, /dev and the root, from inside.

// mountinfo is one line of /proc/self/mountinfo.
type mountinfo struct {
	Root, Point, Opts, Optional, FSType, Source, SuperOpts string
}

func parseMountinfo(out string) map[string]mountinfo {
	m := map[string]mountinfo{}
	for _, l := range lines(out) {
		pre, post, ok := strings.Cut(l, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 6 || len(g) < 3 {
			continue
		}
		// The last mount on a point wins (it is the visible one).
		m[f[4]] = mountinfo{Root: f[3], Point: f[4], Opts: f[5], Optional: strings.Join(f[6:], " "),
			FSType: g[0], Source: g[1], SuperOpts: g[2]}
	}
	return m
}

func hasOpt(opts, o string) bool {
	for _, x := range strings.Split(opts, ",") {
		if x == o {
			return true
		}
	}
	return false
}

func TestDefaultMounts(t *testing.T) {
	t.Parallel()
	h := newH(t)
	mi := parseMountinfo(h.MustSh(`cat /proc/self/mountinfo`))
	for _, c := range []struct {
		point, fstype string
		opts          []string
	}{
		{"/proc", "proc", nil},
		{"/sys", "sysfs", []string{"ro", "nosuid", "nodev", "noexec"}},
		{"/dev", "tmpfs", []string{"nosuid"}},
		{"/dev/pts", "devpts", []string{"nosuid", "noexec"}},
		{"/dev/shm", "tmpfs", []string{"nosuid", "nodev", "noexec"}},
		{"/dev/mqueue", "mqueue", []string{"nosuid", "nodev", "noexec"}},
		{"/", "", []string{"ro"}}, // root.readonly in `rt spec`
	} {
		m, ok := mi[c.point]
		if !ok {
			t.Errorf("no mount on %s inside the container", c.point)
			continue
		}
		if c.fstype != "" && m.FSType != c.fstype {
			t.Errorf("%s: type %s, want %s", c.point, m.FSType, c.fstype)
		}
		for _, o := range c.opts {
			if !hasOpt(m.Opts, o) {
				t.Errorf("%s: options %s lack %s", c.point, m.Opts, o)
			}
		}
	}
	if m := mi["/dev/pts"]; !strings.Contains(m.SuperOpts, "ptmxmode=666") || !strings.Contains(m.SuperOpts, "gid=5") {
		t.Errorf("/dev/pts: superblock options %s lack ptmxmode=666,gid=5 (newinstance)", m.SuperOpts)
	}
	if m := mi["/sys/fs/cgroup"]; !hasOpt(m.Opts, "ro") {
		t.Errorf("/sys/fs/cgroup: options %q lack ro", m.Opts)
	}
}

func TestBindMounts(t *testing.T) {
	t.Parallel()
	h := newH(t)
	ro := filepath.Join(h.Dir, "host-ro")
	rw := filepath.Join(h.Dir, "host-rw")
	file := filepath.Join(h.Dir, "host-file.txt")
	for _, d := range []string{ro, rw} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(ro, "hello"), []byte("from-host\n"), 0o644)
	os.WriteFile(file, []byte("single-file\n"), 0o644)
	script := `
cat /mnt/ro/hello
if echo x > /mnt/ro/new 2>/dev/null; then echo ro-write=ok; else echo ro-write=failed; fi
echo from-container > /mnt/rw/out && echo rw-write=ok
echo file=$(cat /etc/itest.txt)
if echo x >> /etc/itest.txt 2>/dev/null; then echo file-write=ok; else echo file-write=failed; fi
echo scratch-mode=$(stat -c %a /scratch)
cat /proc/self/mountinfo`
	out := h.MustSh(script,
		addMount(specs.Mount{Destination: "/mnt/ro", Type: "bind", Source: ro, Options: []string{"bind", "ro"}}),
		addMount(specs.Mount{Destination: "/mnt/rw", Type: "bind", Source: rw, Options: []string{"rbind", "rw"}}),
		addMount(specs.Mount{Destination: "/etc/itest.txt", Type: "bind", Source: file, Options: []string{"bind", "ro"}}),
		addMount(specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m", "mode=1770", "nodev"}}),
		// Recursive or not: host /dev has submounts (pts, shm).
		addMount(specs.Mount{Destination: "/mnt/rdev", Type: "bind", Source: "/dev", Options: []string{"rbind", "ro"}}),
		addMount(specs.Mount{Destination: "/mnt/dev", Type: "bind", Source: "/dev", Options: []string{"bind", "ro"}}),
		addMount(specs.Mount{Destination: "/mnt/rrodev", Type: "bind", Source: "/dev", Options: []string{"rbind", "rro"}}),
	)
	m := kv(out)
	if !strings.HasPrefix(out, "from-host\n") {
		t.Errorf("ro bind: host file not visible:\n%s", out)
	}
	if m["ro-write"] != "failed" {
		t.Errorf("write to a \"ro\" bind mount succeeded")
	}
	if m["rw-write"] != "ok" {
		t.Errorf("write to an rw rbind mount failed:\n%s", out)
	} else if b, _ := os.ReadFile(filepath.Join(rw, "out")); string(b) != "from-container\n" {
		t.Errorf("host side of the rw bind has %q, want from-container", b)
	}
	if m["file"] != "single-file" || m["file-write"] != "failed" {
		t.Errorf("single-file ro bind: content %q, write %s; want single-file, failed", m["file"], m["file-write"])
	}
	if m["scratch-mode"] != "1770" {
		t.Errorf("tmpfs mode=1770: stat says %s", m["scratch-mode"])
	}
	mi := parseMountinfo(out)
	if s := mi["/scratch"]; s.FSType != "tmpfs" || !strings.Contains(s.SuperOpts, "size=1024k") || !hasOpt(s.Opts, "nodev") {
		t.Errorf("/scratch: %+v, want tmpfs with size=1024k and nodev", s)
	}
	if r := mi["/mnt/ro"]; !hasOpt(r.Opts, "ro") {
		t.Errorf("/mnt/ro: options %q lack ro", r.Opts)
	}
	if _, ok := mi["/mnt/rdev/pts"]; !ok {
		t.Errorf("rbind of /dev: submount /mnt/rdev/pts missing")
	}
	if _, ok := mi["/mnt/dev/pts"]; ok {
		t.Errorf("non-recursive bind of /dev: submount /mnt/dev/pts is there")
	}
	if r := mi["/mnt/rdev"]; !hasOpt(r.Opts, "ro") {
		t.Errorf("/mnt/rdev: options %q lack ro", r.Opts)
	}
	// "ro" makes only the top mount read-only, "rro" the whole tree.
	if r := mi["/mnt/rdev/pts"]; hasOpt(r.Opts, "ro") {
		t.Errorf("rbind,ro: submount /mnt/rdev/pts is read-only too (%q)", r.Opts)
	}
	for _, p := range []string{"/mnt/rrodev", "/mnt/rrodev/pts", "/mnt/rrodev/shm"} {
		if r, ok := mi[p]; !ok || !hasOpt(r.Opts, "ro") {
			t.Errorf("rbind,rro: %s not read-only (%+v)", p, r)
		}
	}
	if _, err := os.Stat(filepath.Join(ro, "new")); err == nil {
		t.Errorf("file written through the ro bind exists on the host")
	}
}

func TestMaskedPaths(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(func(s *specs.Spec) {
		s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/secret-dir", "/secret-file", "/no-such-path")
	})
	os.MkdirAll(filepath.Join(b.Rootfs, "secret-dir"), 0o755)
	os.WriteFile(filepath.Join(b.Rootfs, "secret-dir", "s"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(b.Rootfs, "secret-file"), []byte("top-secret"), 0o644)
	probe := `
echo dir=$(ls -A /secret-dir | wc -l)
echo file=$(cat /secret-file | wc -c)
echo kcore=$(cat /proc/kcore 2>/dev/null | head -c 16 | wc -c)
echo timer_list=$(cat /proc/timer_list 2>/dev/null | wc -c)
echo firmware=$(ls -A /sys/firmware | wc -l)
if touch /secret-dir/new 2>/dev/null; then echo dirwrite=ok; else echo dirwrite=failed; fi`
	b.Spec.Process.Args = []string{"sh", "-c", probe}
	b.Spec.Root.Readonly = false
	b.Write(t)
	r := h.Run(b, RunOpts{})
	if r.Code != 0 {
		t.Fatalf("%v", r)
	}
	m := kv(r.Stdout)
	for k, want := range map[string]string{"dir": "0", "file": "0", "kcore": "0", "timer_list": "0", "firmware": "0", "dirwrite": "failed"} {
		if m[k] != want {
			t.Errorf("masked %s: got %s, want %s\n%s", k, m[k], want, r.Stdout)
		}
	}
}

func TestReadonlyPathsAndRoot(t *testing.T) {
	t.Parallel()
	h := newH(t)
	probe := `
if echo itest > /proc/sys/kernel/domainname 2>/dev/null; then echo procsys=ok; else echo procsys=failed; fi
if touch /ro-dir/x 2>/dev/null; then echo rodir=ok; else echo rodir=failed; fi
if touch /x 2>/dev/null; then echo root=ok; else echo root=failed; fi`
	// Read-only root (the `rt spec` default).
	b := h.Bundle(sh(probe), func(s *specs.Spec) { s.Linux.ReadonlyPaths = append(s.Linux.ReadonlyPaths, "/ro-dir") })
	os.MkdirAll(filepath.Join(b.Rootfs, "ro-dir"), 0o755)
	r := h.Run(b, RunOpts{})
	m := kv(r.Stdout)
	if r.Code != 0 || m["procsys"] != "failed" || m["rodir"] != "failed" || m["root"] != "failed" {
		t.Errorf("readonly root: want every write to fail: %v", r)
	}
	// Writable root: / takes writes, the readonly paths still don't.
	b = h.Bundle(sh(probe), writable, func(s *specs.Spec) { s.Linux.ReadonlyPaths = append(s.Linux.ReadonlyPaths, "/ro-dir") })
	os.MkdirAll(filepath.Join(b.Rootfs, "ro-dir"), 0o755)
	r = h.Run(b, RunOpts{})
	m = kv(r.Stdout)
	if r.Code != 0 || m["procsys"] != "failed" || m["rodir"] != "failed" || m["root"] != "ok" {
		t.Errorf("writable root: want / writable, /proc/sys and /ro-dir not: %v", r)
	}
	if !fileExists(filepath.Join(b.Rootfs, "x")) {
		t.Errorf("touch /x in a writable root did not reach the bundle's rootfs")
	}
}

func TestDevices(t *testing.T) {
	t.Parallel()
	h := newH(t)
	probe := `
for d in null zero full random urandom tty; do [ -c /dev/$d ] && echo "$d=$(stat -c '%t,%T %a' /dev/$d)"; done
for l in fd stdin stdout stderr ptmx; do echo "$l=$(readlink /dev/$l)"; done
echo mynull=$(stat -c '%F %t,%T %a %u %g' /dev/mynull)
echo urandom-read=$(head -c 8 /dev/urandom | wc -c)
mknod /dev/loopx b 7 0 && { head -c 1 /dev/loopx >/dev/null 2>&1 && echo blk=readable || echo blk=denied; }`
	out := h.MustSh(probe, func(s *specs.Spec) {
		mode := os.FileMode(0o620)
		uid, gid := uint32(1), uint32(2)
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/mynull", Type: "c", Major: 1, Minor: 3, FileMode: &mode, UID: &uid, GID: &gid})
		c := s.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_MKNOD")
		c.Effective = append(c.Effective, "CAP_MKNOD")
		c.Permitted = append(c.Permitted, "CAP_MKNOD")
	})
	m := kv(out)
	want := map[string]string{
		"null": "1,3 666", "zero": "1,5 666", "full": "1,7 666", "random": "1,8 666", "urandom": "1,9 666", "tty": "5,0 666",
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx",
		"mynull": "character special file 1,3 620 1 2", "urandom-read": "8",
		// The device cgroup lets mknod through but denies access.
		"blk": "denied",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("/dev/%s: got %q, want %q", k, m[k], v)
		}
	}
}

func TestRootfsPropagation(t *testing.T) {
	t.Parallel()
	h := newH(t)
	for _, c := range []struct {
		prop   string
		want   string // in the root's optional fields
		absent []string
	}{
		{"shared", "shared:", []string{"master:"}},
		{"rshared", "shared:", []string{"master:"}},
		{"private", "", []string{"shared:", "master:"}},
		{"rprivate", "", []string{"shared:", "master:"}},
	} {
		out := h.MustSh(`cat /proc/self/mountinfo`, func(s *specs.Spec) { s.Linux.RootfsPropagation = c.prop })
		root, ok := parseMountinfo(out)["/"]
		if !ok {
			t.Fatalf("no / in mountinfo:\n%s", out)
		}
		if c.want != "" && !strings.Contains(root.Optional, c.want) {
			t.Errorf("rootfsPropagation %s: root's optional fields %q lack %q", c.prop, root.Optional, c.want)
		}
		for _, a := range c.absent {
			if strings.Contains(root.Optional, a) {
				t.Errorf("rootfsPropagation %s: root's optional fields %q have %q", c.prop, root.Optional, a)
			}
		}
	}
}

func TestNoPivot(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(sh(`cat /marker; echo pid=$$; hostname; ls /proc/self/fd | tr '\n' ' '`))
	os.WriteFile(filepath.Join(b.Rootfs, "marker"), []byte("in-rootfs\n"), 0o644)
	r := h.Run(b, RunOpts{}, "--no-pivot")
	if r.Code != 0 {
		t.Fatalf("--no-pivot: %v", r)
	}
	if want := "in-rootfs\npid=1\nrt\n0 1 2 3"; strings.TrimSpace(r.Stdout) != want {
		t.Errorf("--no-pivot: output %q, want %q", r.Stdout, want)
	}
}

func TestCgroupMountShowsLimits(t *testing.T) {
	t.Parallel()
	h := newH(t)
	limit := int64(64 << 20)
	pids := int64(50)
	b := h.Bundle(args("sleep", "1000"), func(s *specs.Spec) {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
	})
	id, _ := h.StartDetached(b)
	// Host side: the container's own cgroup directories.
	if got := hostFile(t, "/sys/fs/cgroup/memory"+b.Cgroup+"/memory.limit_in_bytes"); got != "67108864" {
		t.Errorf("host memory.limit_in_bytes = %s, want 67108864", got)
	}
	if got := hostFile(t, "/sys/fs/cgroup/pids"+b.Cgroup+"/pids.max"); got != "50" {
		t.Errorf("host pids.max = %s, want 50", got)
	}
	h.MustRT("delete", "--force", id)
	// Inside: the cgroup mount is the container's own cgroup.
	out := h.MustSh(`echo mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); echo pids=$(cat /sys/fs/cgroup/pids/pids.max)`,
		func(s *specs.Spec) {
			s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
			s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
		})
	if m := kv(out); m["mem"] != "67108864" || m["pids"] != "50" {
		t.Errorf("inside: memory.limit_in_bytes=%s pids.max=%s, want 67108864 and 50", m["mem"], m["pids"])
	}
}

// TestMountDestinationInRoot: a destination reached through a symlink in
// the rootfs that points at an absolute host path is resolved inside the
// rootfs; nothing is created on the host (CVE-2021-30465 family). A
// relative destination is taken relative to "/", as runc does.
func TestMountDestinationInRoot(t *testing.T) {
	t.Parallel()
	h := newH(t)
	escape := filepath.Join(h.Dir, "escape")
	b := h.Bundle(sh(`grep -c " `+escape+`/sub " /proc/self/mountinfo; grep -c " /rel/dest " /proc/self/mountinfo`), writable,
		addMount(specs.Mount{Destination: "/evil/sub", Type: "tmpfs", Source: "tmpfs"}),
		addMount(specs.Mount{Destination: "rel/dest", Type: "tmpfs", Source: "tmpfs"}))
	if err := os.Symlink(escape, filepath.Join(b.Rootfs, "evil")); err != nil {
		t.Fatal(err)
	}
	// The link's target exists inside the rootfs only.
	os.MkdirAll(filepath.Join(b.Rootfs, escape), 0o755)
	r := h.Run(b, RunOpts{})
	if fileExists(escape) {
		t.Errorf("mount destination /evil/sub (symlink to %s) created %s on the host", escape, escape)
	}
	if r.Code != 0 || r.Stdout != "1\n1\n" {
		t.Errorf("want the tmpfs at %s/sub inside the rootfs and one at /rel/dest: %v", escape, r)
	}
	if !fileExists(filepath.Join(b.Rootfs, escape, "sub")) {
		t.Errorf("%s/sub was not made inside the rootfs", escape)
	}
}

// TestMountDestinationDanglingSymlink: a destination through a symlink
// that leads nowhere inside the rootfs fails cleanly (naming the mount) and
// creates nothing on the host.
func TestMountDestinationDanglingSymlink(t *testing.T) {
	t.Parallel()
	h := newH(t)
	escape := filepath.Join(h.Dir, "escape2")
	b := h.Bundle(writable, addMount(specs.Mount{Destination: "/evil/sub", Type: "tmpfs", Source: "tmpfs"}))
	if err := os.Symlink(escape, filepath.Join(b.Rootfs, "evil")); err != nil {
		t.Fatal(err)
	}
	r := h.Run(b, RunOpts{})
	if fileExists(escape) {
		t.Errorf("mount destination /evil/sub (symlink to %s) created %s on the host", escape, escape)
	}
	if r.Code == 0 {
		if !fileExists(filepath.Join(b.Rootfs, escape, "sub")) {
			t.Errorf("run succeeded but %s/sub is not inside the rootfs", escape)
		}
	} else if !strings.Contains(r.Stderr, "mounts[7]") || len(lines(r.Stderr)) != 1 {
		t.Errorf("want success in the rootfs or one error line naming mounts[7]: %v", r)
	}
}
