package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Attack regressions for the CVE rows of docs/security.md. Each test sets
// the attack up as an image or a container could (a crafted rootfs, a
// process inside the container), runs rt, and checks from the host that
// the attack had no effect: rt refused with an error naming the field, or
// contained it inside the container.

// ---- helpers ----

// cveCapNames are the capability names by number (as in linux/capability.h).
var cveCapNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// cveCapBits is the mask of the named capabilities.
func cveCapBits(t testing.TB, names ...string) uint64 {
	t.Helper()
	var m uint64
	for _, n := range names {
		found := false
		for i, c := range cveCapNames {
			if c == n {
				m |= 1 << uint(i)
				found = true
			}
		}
		if !found {
			t.Fatalf("unknown capability %q", n)
		}
	}
	return m
}

// cveProcCaps reads a Cap* line of /proc/PID/status on the host.
func cveProcCaps(t testing.TB, pid int, field string) uint64 {
	t.Helper()
	for _, l := range lines(hostFile(t, fmt.Sprintf("/proc/%d/status", pid))) {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatalf("/proc/%d/status %s: %v", pid, field, err)
			}
			return n
		}
	}
	t.Fatalf("/proc/%d/status: no %s", pid, field)
	return 0
}

// cveAllCaps are the names of every capability in the test process's
// bounding set (rt can't give a container more): a privileged container.
func cveAllCaps(t testing.TB) []string {
	t.Helper()
	bnd := cveProcCaps(t, os.Getpid(), "CapBnd")
	var out []string
	for i, n := range cveCapNames {
		if bnd&(1<<uint(i)) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// withCaps sets every capability set but ambient and inheritable to names.
func withCaps(names ...string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: names, Effective: names, Permitted: names}
	}
}

func noNNP(s *specs.Spec) { s.Process.NoNewPrivileges = false }

// withoutMounts drops the mounts at the given destinations.
func withoutMounts(dests ...string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		var ms []specs.Mount
		for _, m := range s.Mounts {
			keep := true
			for _, d := range dests {
				if m.Destination == d {
					keep = false
				}
			}
			if keep {
				ms = append(ms, m)
			}
		}
		s.Mounts = ms
	}
}

// hostDirState is the sorted "name=content" list of a host directory's
// regular files and the names of everything else: what an attack through
// it would change.
func hostDirState(t testing.TB, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("host dir %s: %v", dir, err)
	}
	var out []string
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			out = append(out, e.Name()+"="+string(b))
		} else {
			out = append(out, e.Name()+" ("+e.Type().String()+")")
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// hostTarget makes a host directory that an attack aims at: one file
// "marker". It returns the directory and its state.
func hostTarget(t testing.TB, h *H, name string) (string, string) {
	t.Helper()
	dir := filepath.Join(h.Dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "marker"), []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, hostDirState(t, dir)
}

// checkHostTarget fails the test if dir changed or anything is mounted
// on or under it in the host's mount namespace.
func checkHostTarget(t testing.TB, dir, want, what string) {
	t.Helper()
	if got := hostDirState(t, dir); got != want {
		t.Errorf("%s: the host directory %s changed: %q, was %q", what, dir, got, want)
	}
	if ms := mountsUnder(dir); len(ms) > 0 {
		t.Errorf("%s: host mounts on %s:\n%s", what, dir, strings.Join(ms, "\n"))
	}
}

// refusedNaming reports whether r is a refusal whose one-line error
// names every one of fields.
func refusedNaming(r Result, fields ...string) bool {
	if r.Code == 0 || len(lines(r.Stderr)) != 1 {
		return false
	}
	for _, f := range fields {
		if !strings.Contains(r.Stderr, f) {
			return false
		}
	}
	return true
}

func fileSHA256(t testing.TB, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := sha256.New()
	if _, err := io.Copy(s, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(s.Sum(nil))
}

// maskSecret adds /etc/secret (a file the test writes in the rootfs) to
// linux.maskedPaths: a file mask, which needs /dev/null.
func maskSecret(s *specs.Spec) { s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/etc/secret") }

// killReap kills a process rt left to the test (an exec'd process) and
// reaps it, so that its zombie does not hold the container's cgroup.
func killReap(pid int) {
	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(5*time.Second, func() bool {
		reapZombies()
		_, ok := readProc(pid)
		return !ok
	})
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

func mustSymlink(t testing.TB, target, link string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(link), 0o755)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// ---- CVE-2021-30465: mount destinations through symlinks ----

// TestCVE202130465SymlinkDestination: the image makes /mnt/x a symlink to
// a host directory (absolute, relative with "..", or through the
// /proc/self/root magic link), and the config mounts on /mnt/x/... or on
// /mnt/x itself. The mount lands inside the rootfs (where the link points
// when resolved there) or rt refuses naming the mount; the host directory
// never changes.
func TestCVE202130465SymlinkDestination(t *testing.T) {
	t.Parallel()
	h := newH(t)
	host, state := hostTarget(t, h, "host-target")
	src := filepath.Join(h.Dir, "bind-src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "from-bundle"), []byte("bundle\n"), 0o644)
	tmpfsAt := func(d string) specs.Mount { return specs.Mount{Destination: d, Type: "tmpfs", Source: "tmpfs"} }
	bindAt := func(d string) specs.Mount {
		return specs.Mount{Destination: d, Type: "bind", Source: src, Options: []string{"rbind"}}
	}
	cases := []struct {
		name   string
		link   string // target of rootfs/mnt/x
		inRoot bool   // the link's target exists inside the rootfs
		mounts []specs.Mount
		script string
		want   string // stdout of the container; "": refused or contained, either is fine
	}{
		{"absolute", host, true, []specs.Mount{tmpfsAt("/mnt/x/y"), bindAt("/mnt/x/z")},
			`grep -c " ` + host + `/y " /proc/self/mountinfo; cat /mnt/x/z/from-bundle`, "1\nbundle\n"},
		{"relative", strings.Repeat("../", 12) + host[1:], true, []specs.Mount{tmpfsAt("/mnt/x/y"), bindAt("/mnt/x/z")},
			`grep -c " ` + host + `/y " /proc/self/mountinfo; cat /mnt/x/z/from-bundle`, "1\nbundle\n"},
		{"final-component", host, true, []specs.Mount{bindAt("/mnt/x")},
			`cat /mnt/x/from-bundle; grep -c " ` + host + ` " /proc/self/mountinfo`, "bundle\n1\n"},
		{"dangling", host, false, []specs.Mount{bindAt("/mnt/x/z")}, `true`, ""},
		{"magic-link", "/proc/self/root" + host, true, []specs.Mount{tmpfsAt("/mnt/x/y")}, `true`, ""},
	}
	for _, c := range cases {
		muts := []func(*specs.Spec){sh(c.script), writable}
		for _, m := range c.mounts {
			muts = append(muts, addMount(m))
		}
		b := h.Bundle(muts...)
		first := len(b.Spec.Mounts) - len(c.mounts)
		mustSymlink(t, c.link, filepath.Join(b.Rootfs, "mnt", "x"))
		if c.inRoot {
			os.MkdirAll(filepath.Join(b.Rootfs, host), 0o755)
		}
		r := h.Run(b, RunOpts{})
		checkHostTarget(t, host, state, c.name)
		switch {
		case c.want != "":
			if r.Code != 0 || r.Stdout != c.want {
				t.Errorf("%s: /mnt/x -> %s: want the mounts inside the rootfs (stdout %q): %v", c.name, c.link, c.want, r)
			}
		case r.Code == 0:
			t.Logf("%s: contained inside the rootfs", c.name)
		default:
			t.Logf("%s: refused: %s", c.name, strings.TrimSpace(r.Stderr))
			if !refusedNaming(r, fmt.Sprintf("mounts[%d]", first)) {
				t.Errorf("%s: /mnt/x -> %s: want success inside the rootfs or one error line naming mounts[%d]: %v", c.name, c.link, first, r)
			}
		}
	}
}

// TestCVE202130465SymlinkRace: a running container that shares the rootfs
// (writable) swaps /mnt/race/d between a directory and a symlink to a host
// directory while another container with a tmpfs on /mnt/race/d/sub is
// created again and again. Each create either fails naming the mount or
// puts the tmpfs inside the rootfs (seen in the new init's mountinfo);
// the host directory never changes.
func TestCVE202130465SymlinkRace(t *testing.T) {
	t.Parallel()
	h := newH(t)
	host, state := hostTarget(t, h, "race-target")
	a := h.Bundle(writable, sh(`mkdir -p /mnt/race `+host+`; while [ ! -e /stop ]; do
		rm -rf /mnt/race/d; mkdir /mnt/race/d; rm -rf /mnt/race/d; ln -s `+host+` /mnt/race/d; done`))
	os.MkdirAll(filepath.Join(a.Rootfs, host), 0o755)
	h.StartDetached(a)
	defer os.WriteFile(filepath.Join(a.Rootfs, "stop"), nil, 0o644)
	b := h.Bundle(args("sleep", "1000"), addMount(specs.Mount{Destination: "/mnt/race/d/sub", Type: "tmpfs", Source: "tmpfs"}))
	b.Spec.Root.Path = a.Rootfs
	b.Write(t)
	idx := len(b.Spec.Mounts) - 1
	deadline := time.Now().Add(3 * time.Second)
	made, refused, placed := 0, 0, map[string]int{}
	for time.Now().Before(deadline) && !t.Failed() {
		id := h.ID("race")
		pf := filepath.Join(h.Dir, id+".pid")
		r := h.RT("create", "--bundle", b.Dir, "--pid-file", pf, id)
		if r.Code != 0 {
			refused++
			if !refusedNaming(r, fmt.Sprintf("mounts[%d]", idx)) {
				t.Errorf("create while /mnt/race/d is swapped: want success or one error line naming mounts[%d]: %v", idx, r)
			}
		} else {
			made++
			pid := readPid(t, pf)
			var at []string
			for _, l := range lines(hostFile(t, fmt.Sprintf("/proc/%d/mountinfo", pid))) {
				if f := strings.Fields(l); len(f) > 4 && strings.HasSuffix(f[4], "/sub") {
					at = append(at, f[4])
				}
			}
			// None is fine: the swapping container's rm -rf of the
			// directory detaches mounts on it in other namespaces.
			if len(at) == 0 {
				placed["detached"]++
			}
			for _, p := range at {
				placed[p]++
				if p != "/mnt/race/d/sub" && p != host+"/sub" {
					t.Errorf("the tmpfs of /mnt/race/d/sub is at %q in the container, want /mnt/race/d/sub or %s/sub inside the rootfs", p, host)
				}
			}
			h.MustRT("delete", "--force", id)
		}
		checkHostTarget(t, host, state, "race")
	}
	t.Logf("%d creates while swapping: %d refused, %d made with the tmpfs at %v", made+refused, refused, made, placed)
}

// ---- CVE-2025-31133: /dev/null replaced to redirect a mask ----

// TestCVE202531133DevNullFromImage: /dev comes from the rootfs (no tmpfs)
// and the image's /dev/null is a symlink to the host's core_pattern or to
// a host file, or a regular file. rt makes the default devices itself, so
// /etc/secret ends masked by the real null device: nothing of the targets
// shows through, nothing on the host changes.
func TestCVE202531133DevNullFromImage(t *testing.T) {
	t.Parallel()
	h := newH(t)
	host, state := hostTarget(t, h, "devnull-target")
	core := hostFile(t, "/proc/sys/kernel/core_pattern")
	for _, kind := range []string{"core_pattern", "host-file", "regular"} {
		b := h.Bundle(writable, withoutMounts("/dev", "/dev/pts", "/dev/shm", "/dev/mqueue"),
			maskSecret, sh(`stat -c '%F %t:%T' /etc/secret; head -c 64 /etc/secret | wc -c`))
		os.WriteFile(filepath.Join(b.Rootfs, "etc", "secret"), []byte("secret\n"), 0o644)
		null := filepath.Join(b.Rootfs, "dev", "null")
		os.Remove(null)
		switch kind {
		case "core_pattern":
			mustSymlink(t, "/proc/sys/kernel/core_pattern", null)
		case "host-file":
			mustSymlink(t, filepath.Join(host, "marker"), null)
		case "regular":
			os.WriteFile(null, []byte("image data\n"), 0o666)
		}
		r := h.Run(b, RunOpts{})
		if r.Code == 0 {
			if r.Stdout != "character special file 1:3\n0\n" {
				t.Errorf("/dev/null as %s: /etc/secret is not masked by the null device: %v", kind, r)
			}
		} else if !refusedNaming(r, "linux.maskedPaths[", "/dev/null") {
			t.Errorf("/dev/null as %s: want a masked /etc/secret or one error line naming linux.maskedPaths and /dev/null: %v", kind, r)
		}
		checkHostTarget(t, host, state, kind)
		if got := hostFile(t, "/proc/sys/kernel/core_pattern"); got != core {
			t.Fatalf("/dev/null as %s: the host's core_pattern changed to %q", kind, got)
		}
	}
}

// TestCVE202531133DevNullBoundDev: /dev is a bind of a directory that the
// container controls, so rt makes no device there; its "null" is a
// symlink to core_pattern or a host file, a regular file, or the zero
// device. Masking /etc/secret must be refused (never a bind of the
// target); with the real null device it works.
func TestCVE202531133DevNullBoundDev(t *testing.T) {
	t.Parallel()
	h := newH(t)
	host, state := hostTarget(t, h, "bounddev-target")
	core := hostFile(t, "/proc/sys/kernel/core_pattern")
	for _, kind := range []string{"core_pattern", "host-file", "regular", "zero", "null"} {
		devDir := filepath.Join(h.Dir, "dev-"+kind)
		os.MkdirAll(devDir, 0o755)
		null := filepath.Join(devDir, "null")
		var err error
		switch kind {
		case "core_pattern":
			err = os.Symlink("/proc/sys/kernel/core_pattern", null)
		case "host-file":
			err = os.Symlink(filepath.Join(host, "marker"), null)
		case "regular":
			err = os.WriteFile(null, []byte("volume data\n"), 0o666)
		case "zero":
			err = syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|5)
		case "null":
			err = syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3)
		}
		if err != nil {
			t.Fatal(err)
		}
		b := h.Bundle(writable, withoutMounts("/dev", "/dev/pts", "/dev/shm", "/dev/mqueue"),
			addMount(specs.Mount{Destination: "/dev", Type: "bind", Source: devDir, Options: []string{"rbind"}}),
			maskSecret, sh(`stat -c '%F %t:%T' /etc/secret; head -c 64 /etc/secret | wc -c`))
		os.WriteFile(filepath.Join(b.Rootfs, "etc", "secret"), []byte("secret\n"), 0o644)
		r := h.Run(b, RunOpts{})
		if kind == "null" {
			if r.Code != 0 || r.Stdout != "character special file 1:3\n0\n" {
				t.Errorf("bound /dev with the real null device: want /etc/secret masked: %v", r)
			}
		} else if !refusedNaming(r, "linux.maskedPaths[", "/dev/null") {
			t.Errorf("bound /dev, null as %s: want one error line naming linux.maskedPaths and /dev/null: %v", kind, r)
		}
		checkHostTarget(t, host, state, kind)
		if got := hostFile(t, "/proc/sys/kernel/core_pattern"); got != core {
			t.Fatalf("null as %s: the host's core_pattern changed to %q", kind, got)
		}
	}
}
