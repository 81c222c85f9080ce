package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Overlay mounts (mounts[].type "overlay") and the copy-on-write root
// (--cow-rootfs, org.rt.rootfs.cow*; docs/overlay.md). Every copy-on-write
// test checks the shared root.path byte for byte (content, modes, owners,
// times, xattrs) before and after.

// sharedRootfs copies the busybox rootfs once for this test; bundles made
// with onRootfs use it as their root.path instead of their own copy.
func sharedRootfs(t *testing.T, h *H) string {
	t.Helper()
	dir := filepath.Join(h.Dir, "shared-rootfs")
	if out, err := exec.Command("cp", "-a", rootfsSrc, dir).CombinedOutput(); err != nil {
		t.Fatalf("cp -a rootfs: %v: %s", err, out)
	}
	return dir
}

func onRootfs(dir string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Root.Path = dir; s.Root.Readonly = false }
}

func annotate(kv ...string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			s.Annotations[kv[i]] = kv[i+1]
		}
	}
}

// treeDigest hashes everything about a directory tree that a write could
// change: names, types, modes, owners, sizes, mtimes and ctimes, device
// numbers, link targets, contents and extended attributes (not atimes).
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	var entries []string
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		e := fmt.Sprintf("%s mode=%o uid=%d gid=%d size=%d mtime=%d.%d ctime=%d.%d rdev=%d",
			strings.TrimPrefix(p, dir), st.Mode, st.Uid, st.Gid, st.Size,
			st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec, st.Rdev)
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			l, _ := os.Readlink(p)
			e += " -> " + l
		case unix.S_IFREG:
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			sum := sha256.New()
			io.Copy(sum, f)
			f.Close()
			e += " sha256=" + hex.EncodeToString(sum.Sum(nil))
		}
		buf := make([]byte, 4096)
		if n, err := unix.Llistxattr(p, buf); err == nil && n > 0 {
			names := strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00")
			sort.Strings(names)
			for _, x := range names {
				v := make([]byte, 4096)
				m, _ := unix.Lgetxattr(p, x, v)
				if m < 0 {
					m = 0
				}
				e += fmt.Sprintf(" xattr %s=%x", x, v[:m])
			}
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		t.Fatalf("digest of %s: %v", dir, err)
	}
	return strings.Join(entries, "\n")
}

func checkDigest(t *testing.T, dir, before string) {
	t.Helper()
	after := treeDigest(t, dir)
	if after == before {
		return
	}
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	seen := map[string]bool{}
	for _, l := range b {
		seen[l] = true
	}
	var diff []string
	for _, l := range a {
		if !seen[l] {
			diff = append(diff, "+ "+l)
		}
		delete(seen, l)
	}
	for l := range seen {
		diff = append(diff, "- "+l)
	}
	t.Errorf("the shared root.path %s changed:\n%s", dir, strings.Join(diff, "\n"))
}

// TestCowRootfsWritesStayInUpper: new files, appends, deletions (whiteouts),
// chmod, mkdir and symlinks are seen inside and never reach root.path,
// with the upper layer in a tmpfs (--cow-rootfs) or on disk under the state
// dir (annotations), where the host can see the writes and the whiteout.
func TestCowRootfsWritesStayInUpper(t *testing.T) {
	t.Parallel()
	h := newH(t)
	shared := sharedRootfs(t, h)
	before := treeDigest(t, shared)
	script := `echo data > /new-file; echo more >> /etc/passwd; rm /bin/ls; chmod 700 /tmp; mkdir -p /var/x/y; ln -s target /linkx
[ -e /bin/ls ] && echo ls=present || echo ls=gone
echo passwd-more=$(grep -c more /etc/passwd)
echo new=$(cat /new-file)
echo tmp=$(stat -c %a /tmp)
echo link=$(readlink /linkx)
echo root=$(grep -E '^[0-9]+ [0-9]+ [^ ]+ / / ' /proc/self/mountinfo | sed 's/.* - //' | cut -d' ' -f1,2)`
	check := func(name, out string) {
		m := kv(out)
		want := map[string]string{"ls": "gone", "passwd-more": "1", "new": "data", "tmp": "700", "link": "target", "root": "overlay rt-cow"}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s: inside, %s=%q, want %q\n%s", name, k, m[k], v, out)
			}
		}
		checkDigest(t, shared, before)
	}
	b := h.Bundle(onRootfs(shared), sh(script))
	r := h.Run(b, RunOpts{}, "--cow-rootfs")
	if r.Code != 0 {
		t.Fatalf("run --cow-rootfs: %v", r)
	}
	check("tmpfs upper", r.Stdout)

	// On disk: look at the upper layer from the host while it runs.
	b = h.Bundle(onRootfs(shared), sh(script+"; touch /done; sleep 1000"),
		annotate("org.rt.rootfs.cow", "true", "org.rt.rootfs.cow.dir", "state"))
	id, pid := h.StartDetached(b)
	upper := filepath.Join(h.Root, id, "cow", "upper")
	if !waitFor(10*time.Second, func() bool { return fileExists(filepath.Join(upper, "done")) }) {
		t.Fatalf("no /done in the on-disk upper layer %s", upper)
	}
	if got := hostFile(t, filepath.Join(upper, "new-file")); got != "data" {
		t.Errorf("upper layer new-file: %q", got)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(upper, "bin", "ls"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("upper layer: bin/ls is not a whiteout (0:0 character device): %v %o", err, st.Mode)
	}
	if !fileExists(filepath.Join(shared, "bin", "ls")) {
		t.Errorf("the deleted /bin/ls is gone from root.path too")
	}
	out, _ := os.ReadFile(fmt.Sprintf("/proc/%d/root/new-file", pid))
	if string(out) != "data\n" {
		t.Errorf("/proc/PID/root/new-file: %q", out)
	}
	checkDigest(t, shared, before)
	h.MustRT("delete", "--force", id)
	if fileExists(filepath.Join(h.Root, id)) {
		t.Errorf("delete left the state dir and its upper layer")
	}
	checkDigest(t, shared, before)
}

// TestCowRootfsContainersIsolated: containers from one root.path don't see
// each other's writes, nor their deletions; exec sees its container's.
func TestCowRootfsContainersIsolated(t *testing.T) {
	t.Parallel()
	h := newH(t)
	shared := sharedRootfs(t, h)
	before := treeDigest(t, shared)
	pids := map[string]int{}
	ids := map[string]string{}
	for _, name := range []string{"a", "b", "c"} {
		// a and b ask with the flag, c with the annotations (upper on disk).
		b := h.Bundle(onRootfs(shared), sh(`echo $NAME > /who; touch /only-$NAME; sleep 1000`),
			func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "NAME="+name) })
		extra := []string{"--cow-rootfs"}
		if name == "c" {
			extra = nil
			b.Spec.Annotations = map[string]string{"org.rt.rootfs.cow": "true", "org.rt.rootfs.cow.dir": "state"}
			b.Write(t)
		}
		id, pid := h.Create(b, extra...)
		h.MustRT("start", id)
		pids[name], ids[name] = pid, id
	}
	for name, pid := range pids {
		root := fmt.Sprintf("/proc/%d/root", pid)
		if !waitFor(10*time.Second, func() bool { return fileExists(root + "/only-" + name) }) {
			t.Fatalf("container %s did not write", name)
		}
		if who, _ := os.ReadFile(root + "/who"); string(who) != name+"\n" {
			t.Errorf("container %s sees /who = %q", name, who)
		}
		for other := range pids {
			if other != name && fileExists(root+"/only-"+other) {
				t.Errorf("container %s sees /only-%s", name, other)
			}
		}
		out := h.MustRT("exec", ids[name], "cat", "/who").Stdout
		if out != name+"\n" {
			t.Errorf("exec in %s: cat /who = %q", name, out)
		}
	}
	if fileExists(filepath.Join(shared, "who")) {
		t.Errorf("a container's /who reached root.path")
	}
	for _, id := range ids {
		h.MustRT("delete", "--force", id)
	}
	checkDigest(t, shared, before)
}

// TestCowRootfsLeavesNothing: the upper layer is reachable by no path (the
// container's mount table shows no tmpfs holding it), and delete leaves no
// state dir, no host mount and an unchanged root.path.
func TestCowRootfsLeavesNothing(t *testing.T) {
	t.Parallel()
	h := newH(t)
	shared := sharedRootfs(t, h)
	before := treeDigest(t, shared)
	for _, mode := range []string{"tmpfs", "state"} {
		b := h.Bundle(onRootfs(shared), sh("dd if=/dev/zero of=/big bs=1k count=64 2>/dev/null; sleep 1000"),
			annotate("org.rt.rootfs.cow", "true", "org.rt.rootfs.cow.dir", mode))
		id, pid := h.StartDetached(b)
		mi := hostFile(t, fmt.Sprintf("/proc/%d/mountinfo", pid))
		if !strings.Contains(lines(mi)[0], " / / ") || !strings.Contains(lines(mi)[0], "overlay rt-cow") {
			t.Errorf("%s: the container's first mount is not the copy-on-write overlay on /:\n%s", mode, mi)
		}
		for _, l := range lines(mi) {
			f := strings.Fields(l)
			if len(f) > 4 && (strings.HasSuffix(f[4], "/upper") || strings.HasSuffix(f[4], "/work") || strings.Contains(f[4], "cow")) {
				t.Errorf("%s: the upper layer is mounted where the container can reach it: %s", mode, l)
			}
		}
		h.MustRT("delete", "--force", id)
		checkGone(t, pid, mode)
		if fileExists(filepath.Join(h.Root, id)) {
			t.Errorf("%s: delete left %s", mode, filepath.Join(h.Root, id))
		}
		if ms := mountsUnder(h.Dir); len(ms) > 0 {
			t.Errorf("%s: host mounts left: %v", mode, ms)
		}
	}
	checkDigest(t, shared, before)
}

// TestCowRootfsCrashDuringCreate: rt SIGKILLed at every step of a create
// with a copy-on-write root: delete --force undoes it (the on-disk upper
// layer with the state dir) and root.path never changed. Serial: it counts
// our children.
func TestCowRootfsCrashDuringCreate(t *testing.T) {
	h := newH(t)
	shared := sharedRootfs(t, h)
	before := treeDigest(t, shared)
	kids := len(liveChildren())
	for _, step := range crashSteps {
		for _, mode := range []string{"tmpfs", "state"} {
			b := h.Bundle(onRootfs(shared), sh("touch /x; sleep 1000"), annotate("org.rt.rootfs.cow.dir", mode))
			id := h.ID("cowcrash")
			r := h.RTo(RunOpts{Env: []string{"RT_TEST_CRASH_AT=" + step}}, "create", "--cow-rootfs", "--bundle", b.Dir, id)
			if r.Code != 137 {
				t.Fatalf("%s/%s: create exit %d, want 137\n%v", step, mode, r.Code, r)
			}
			h.MustRT("delete", "--force", id)
			if fileExists(filepath.Join(h.Root, id)) {
				t.Errorf("%s/%s: delete --force left the state dir", step, mode)
			}
			if ds := cgroupDirs(b.Cgroup); len(ds) > 0 {
				t.Errorf("%s/%s: delete --force left cgroups %v", step, mode, ds)
			}
			reapZombies()
			if !waitFor(5*time.Second, func() bool { reapZombies(); return len(liveChildren()) == kids }) {
				t.Errorf("%s/%s: processes left: %v", step, mode, liveChildren())
			}
		}
	}
	if ms := mountsUnder(h.Dir); len(ms) > 0 {
		t.Errorf("host mounts left: %v", ms)
	}
	checkDigest(t, shared, before)
}

// TestCowRootfsRefused: a copy-on-write root that can't work is refused
// with one line naming the field, and nothing is left behind.
func TestCowRootfsRefused(t *testing.T) {
	t.Parallel()
	h := newH(t)
	cases := []struct {
		want  string
		extra []string
		muts  []func(*specs.Spec)
	}{
		{"root.readonly: true with --cow-rootfs", []string{"--cow-rootfs"}, nil},
		{`root.readonly: true with annotations["org.rt.rootfs.cow"]`, nil, []func(*specs.Spec){annotate("org.rt.rootfs.cow", "true")}},
		{`annotations["org.rt.rootfs.cow"]: "yes"`, nil, []func(*specs.Spec){writable, annotate("org.rt.rootfs.cow", "yes")}},
		{`annotations["org.rt.rootfs.cow.size"]: "lots"`, []string{"--cow-rootfs"}, []func(*specs.Spec){writable, annotate("org.rt.rootfs.cow.size", "lots")}},
		{`annotations["org.rt.rootfs.cow.size"]: sizes the tmpfs`, []string{"--cow-rootfs"},
			[]func(*specs.Spec){writable, annotate("org.rt.rootfs.cow.size", "1g", "org.rt.rootfs.cow.dir", "state")}},
		{"linux.namespaces: --cow-rootfs needs a new mount namespace", []string{"--cow-rootfs"}, []func(*specs.Spec){writable, func(s *specs.Spec) {
			var ns []specs.LinuxNamespace
			for _, n := range s.Linux.Namespaces {
				if n.Type != specs.MountNamespace {
					ns = append(ns, n)
				}
			}
			s.Linux.Namespaces, s.Mounts, s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = ns, nil, nil, nil
		}}},
	}
	for _, c := range cases {
		b := h.Bundle(c.muts...)
		before := treeDigest(t, b.Rootfs)
		r := h.Run(b, RunOpts{}, c.extra...)
		if r.Code == 0 || !strings.Contains(r.Stderr, c.want) || len(lines(r.Stderr)) != 1 {
			t.Errorf("want one line with %q: %v", c.want, r)
		}
		if d := dirNames(h.Root); len(d) > 0 {
			t.Errorf("%q: left %v under --root", c.want, d)
		}
		checkDigest(t, b.Rootfs, before)
	}
}

// TestCowRootfsSizeAndPivot: org.rt.rootfs.cow.size bounds the tmpfs upper
// layer (statfs of / shows it, writes beyond fail); --no-pivot and a shared
// rootfs propagation work with it and add no host mount.
func TestCowRootfsSizeAndPivot(t *testing.T) {
	t.Parallel()
	h := newH(t)
	shared := sharedRootfs(t, h)
	before := treeDigest(t, shared)
	out := h.MustSh(`echo bytes=$(( $(stat -f -c '%b * %S' /) ))
if dd if=/dev/zero of=/big bs=1M count=16 2>/dev/null; then echo big=ok; else echo big=failed; fi`,
		onRootfs(shared), annotate("org.rt.rootfs.cow", "true", "org.rt.rootfs.cow.size", "8m"))
	m := kv(out)
	if m["bytes"] != strconv.Itoa(8<<20) || m["big"] != "failed" {
		t.Errorf("cow.size=8m: statfs of / says %s bytes, 16 MiB write %s; want %d, failed", m["bytes"], m["big"], 8<<20)
	}
	// "0": no limit at all; tmpfs then reports 0 blocks, writes still work.
	out = h.MustSh(`echo bytes=$(( $(stat -f -c '%b * %S' /) )); dd if=/dev/zero of=/big bs=1M count=16 2>/dev/null && echo big=ok`,
		onRootfs(shared), annotate("org.rt.rootfs.cow", "true", "org.rt.rootfs.cow.size", "0"))
	if m := kv(out); m["bytes"] != "0" || m["big"] != "ok" {
		t.Errorf("cow.size=0: %q, want 0 bytes reported and the write done", out)
	}
	// Unset: as large as RAM.
	out = h.MustSh(`echo bytes=$(( $(stat -f -c '%b * %S' /) ))`, onRootfs(shared), annotate("org.rt.rootfs.cow", "true"))
	if n, _ := strconv.ParseInt(kv(out)["bytes"], 10, 64); n < 64<<20 {
		t.Errorf("cow.size unset: statfs of / says %d bytes, want RAM-sized", n)
	}
	for _, extra := range [][]string{{"--cow-rootfs", "--no-pivot"}, {"--cow-rootfs"}} {
		b := h.Bundle(onRootfs(shared), sh("echo x > /etc/written && cat /etc/written"), func(s *specs.Spec) {
			if len(extra) == 1 {
				s.Linux.RootfsPropagation = "rshared"
			}
		})
		r := h.Run(b, RunOpts{}, extra...)
		if r.Code != 0 || r.Stdout != "x\n" {
			t.Errorf("run %v: %v", extra, r)
		}
		if ms := mountsUnder(shared); len(ms) > 0 {
			t.Errorf("run %v left host mounts on root.path: %v", extra, ms)
		}
	}
	checkDigest(t, shared, before)
}

// TestOverlayMounts: mounts[] of type overlay with several lower layers
// (relative paths are taken from the bundle, not the rootfs), upper and
// work dirs and overlay options; a read-only overlay; the lower layers
// never change.
func TestOverlayMounts(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle()
	for _, d := range []string{"l1", "l2", "up", "wk", "rootfs/l1"} {
		os.MkdirAll(filepath.Join(b.Dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(b.Dir, "l1", "a"), []byte("l1\n"), 0o644)
	os.WriteFile(filepath.Join(b.Dir, "l2", "a"), []byte("l2\n"), 0o644)
	os.WriteFile(filepath.Join(b.Dir, "l2", "b"), []byte("b\n"), 0o644)
	os.WriteFile(filepath.Join(b.Dir, "rootfs", "l1", "a"), []byte("rootfs\n"), 0o644)
	lowers := treeDigest(t, filepath.Join(b.Dir, "l1")) + treeDigest(t, filepath.Join(b.Dir, "l2"))
	b.Spec.Process.Args = []string{"sh", "-c", `echo a=$(cat /ov/a); echo b=$(cat /ov/b)
echo new > /ov/c && rm /ov/b && echo write=ok
if echo x > /ro/x 2>/dev/null; then echo ro=writable; else echo ro=readonly; fi
echo roa=$(cat /ro/a)
grep -E ' /(ov|ro|vol) ' /proc/self/mountinfo`}
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/ov", Type: "overlay", Source: "overlay", Options: []string{
			"lowerdir=l1:l2", "upperdir=" + filepath.Join(b.Dir, "up"), "workdir=wk",
			"index=off", "metacopy=on", "redirect_dir=on", "nodev", "nosuid"}},
		specs.Mount{Destination: "/ro", Type: "overlay", Source: "ro-overlay", Options: []string{"lowerdir+=l2", "lowerdir+=l1"}},
	)
	os.MkdirAll(filepath.Join(h.Dir, "vol", "up"), 0o755)
	os.MkdirAll(filepath.Join(h.Dir, "vol", "wk"), 0o755)
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/vol", Type: "overlay", Options: []string{
		"lowerdir=l2", "upperdir=" + filepath.Join(h.Dir, "vol", "up"), "workdir=" + filepath.Join(h.Dir, "vol", "wk"), "volatile", "userxattr"}})
	b.Write(t)
	r := h.Run(b, RunOpts{})
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	m := kv(r.Stdout)
	if m["a"] != "l1" || m["b"] != "b" || m["write"] != "ok" || m["ro"] != "readonly" || m["roa"] != "l2" {
		t.Errorf("inside: %q; want a from l1 (the bundle's, not the rootfs's), b from l2, the write, a read-only /ro with a from l2", r.Stdout)
	}
	mi := parseMountinfo(r.Stdout)
	ov := mi["/ov"]
	if ov.FSType != "overlay" || !hasOpt(ov.Opts, "nodev") || !hasOpt(ov.Opts, "nosuid") ||
		!strings.Contains(ov.SuperOpts, "redirect_dir=on") || !strings.Contains(ov.SuperOpts, "metacopy=on") ||
		!strings.Contains(ov.SuperOpts, filepath.Join(b.Dir, "l2")) {
		t.Errorf("/ov: %+v", ov)
	}
	if v := mi["/vol"]; !strings.Contains(v.SuperOpts, "userxattr") || !strings.Contains(v.SuperOpts, "volatile") {
		t.Errorf("/vol: %+v, want userxattr and volatile", v)
	}
	if got := hostFile(t, filepath.Join(b.Dir, "up", "c")); got != "new" {
		t.Errorf("upperdir on the host: c = %q", got)
	}
	var st unix.Stat_t
	if unix.Lstat(filepath.Join(b.Dir, "up", "b"), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		t.Errorf("upperdir on the host: no whiteout for b")
	}
	if after := treeDigest(t, filepath.Join(b.Dir, "l1")) + treeDigest(t, filepath.Join(b.Dir, "l2")); after != lowers {
		t.Errorf("the lower layers changed")
	}
}

// TestOverlayMountRefused: bad overlay options are refused before any side
// effect; options the kernel refuses fail create with mounts[i] and the
// option named; nothing is left behind either way.
func TestOverlayMountRefused(t *testing.T) {
	t.Parallel()
	h := newH(t)
	// A tmpfs directory for an upper layer on another mount than workdir.
	shm := filepath.Join("/dev/shm", "rt-itest-"+runToken+"-"+strconv.Itoa(int(counter.Add(1))))
	if err := os.Mkdir(shm, 0o700); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(shm)
	for _, c := range []struct {
		opts []string
		want string
	}{
		{[]string{"lowerdir=l1:missing"}, ".options: lowerdir %s/missing: stat"},
		{[]string{"lowerdir=l1", "upperdir=up"}, ".options: upperdir and workdir go together"},
		{[]string{"lowerdir=l1", "index=maybe"}, `.options: option "index=maybe": want index=on|off`},
		{[]string{"lowerdir=l1", "upperdir=up", "workdir=wk", "bogus=1"}, ": mount overlay (overlay) on /ov: option bogus=1: overlay: Unknown parameter 'bogus'"},
		{[]string{"lowerdir=l1", "upperdir=up", "workdir=wk", "metacopy=on", "redirect_dir=off"}, ": mount overlay (overlay) on /ov: "},
		{[]string{"lowerdir=l1", "upperdir=" + shm, "workdir=wk"}, ": mount overlay (overlay) on /ov: create overlay: invalid argument: upperdir " + shm + " and workdir %s/wk must be on the same mount"},
	} {
		b := h.Bundle()
		for _, d := range []string{"l1", "up", "wk"} {
			os.MkdirAll(filepath.Join(b.Dir, d), 0o755)
		}
		b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/ov", Type: "overlay", Source: "overlay", Options: c.opts})
		b.Write(t)
		want := fmt.Sprintf("mounts[%d]", len(b.Spec.Mounts)-1) + strings.Replace(c.want, "%s", b.Dir, 1)
		r := h.Run(b, RunOpts{})
		if r.Code == 0 || !strings.Contains(r.Stderr, want) || len(lines(r.Stderr)) != 1 {
			t.Errorf("%q: want one line with %q: %v", c.opts, want, r)
		}
		if d := dirNames(h.Root); len(d) > 0 {
			t.Errorf("%q: left %v under --root", c.opts, d)
		}
		if fileExists(filepath.Join(b.Rootfs, "ov")) {
			t.Errorf("%q: the destination /ov was made in the rootfs", c.opts)
		}
	}
}
