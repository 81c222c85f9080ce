package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The container's root is host ID 100000 (65536 IDs), as engines map it.
const usernsBase = 100000

func withUserNS(s *specs.Spec) {
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: usernsBase, Size: 65536}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: usernsBase, Size: 65536}}
}

// mappedBundle is a bundle whose rootfs belongs to the container's root.
func (h *H) mappedBundle(muts ...func(*specs.Spec)) *Bundle {
	h.t.Helper()
	// The mapped root must be able to reach the rootfs (MkdirTemp makes
	// the test directories 0700).
	for _, d := range []string{workDir, h.Dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			h.t.Fatal(err)
		}
	}
	b := h.Bundle(append([]func(*specs.Spec){withUserNS}, muts...)...)
	owner := fmt.Sprintf("%d:%d", usernsBase, usernsBase)
	if out, err := helperOutput(exec.Command("chown", "-R", owner, b.Rootfs)); err != nil {
		h.t.Fatalf("chown rootfs: %v: %s", err, out)
	}
	return b
}

// hostUID is the real UID of pid as the host sees it.
func hostUID(t *testing.T, pid int) string {
	t.Helper()
	for _, l := range lines(hostFile(t, fmt.Sprintf("/proc/%d/status", pid))) {
		if v, ok := strings.CutPrefix(l, "Uid:"); ok {
			return strings.Fields(v)[0]
		}
	}
	t.Fatalf("no Uid in /proc/%d/status", pid)
	return ""
}

// TestUserNamespace: a new user namespace with linux.uidMappings and
// gidMappings. Inside, the process is root with the configured
// capabilities, the rootfs files are root's, /proc, /sys and the devices
// work; on the host the process and the files it makes belong to the
// mapped IDs.
func TestUserNamespace(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.mappedBundle(writable, sh(`id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map;
		stat -c %u:%g /bin/busybox; echo x > /dev/null && echo devnull-ok; head -c 4 /dev/zero | wc -c;
		ls /sys/kernel >/dev/null && echo sysfs-ok; grep -c . /proc/self/mountinfo >/dev/null && echo proc-ok;
		touch /made-inside; grep CapEff /proc/self/status`))
	out := h.MustRT("run", "--bundle", b.Dir, h.ID("userns")).Stdout
	for _, w := range []string{"0\n0\n", fmt.Sprintf("0     %d      65536", usernsBase), "0:0\n", "devnull-ok", "4\n", "sysfs-ok", "proc-ok", "CapEff:\t0000000020000420"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	st, err := os.Stat(filepath.Join(b.Rootfs, "made-inside"))
	if err != nil {
		t.Fatal(err)
	}
	if s := st.Sys().(*syscall.Stat_t); s.Uid != usernsBase || s.Gid != usernsBase {
		t.Errorf("a file made by the container's root belongs to %d:%d on the host, want %d", s.Uid, s.Gid, usernsBase)
	}
	// The init itself, seen from the host.
	id, pid := h.StartDetached(h.mappedBundle(sleeper))
	if u := hostUID(t, pid); u != fmt.Sprint(usernsBase) {
		t.Errorf("the init runs as host UID %s, want %d", u, usernsBase)
	}
	// exec joins the user namespace too.
	pf := filepath.Join(h.Dir, "exec.pid")
	h.MustRT("exec", "-d", "--pid-file", pf, id, "sleep", "100")
	epid := readPid(t, pf)
	defer syscall.Kill(epid, syscall.SIGKILL)
	if u := hostUID(t, epid); u != fmt.Sprint(usernsBase) {
		t.Errorf("the exec'd process runs as host UID %s, want %d", u, usernsBase)
	}
	want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid))
	if got, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", epid)); got != want {
		t.Errorf("exec'd process in user namespace %s, init in %s", got, want)
	}
	out = h.MustRT("exec", "--user", "1000:1000", id, "sh", "-c", "id -u; cat /proc/self/uid_map").Stdout
	if !strings.HasPrefix(out, "1000\n") {
		t.Errorf("exec --user in a user namespace: %q", out)
	}
}

// TestUserNamespaceJoin: linux.namespaces user with a path joins that
// user namespace (another container's); the container's root is that
// namespace's root.
func TestUserNamespaceJoin(t *testing.T) {
	t.Parallel()
	h := newH(t)
	_, pid := h.StartDetached(h.mappedBundle(sleeper))
	path := fmt.Sprintf("/proc/%d/ns/user", pid)
	b := h.mappedBundle(sh("cat /proc/self/uid_map; id -u"), func(s *specs.Spec) {
		s.Linux.Namespaces = s.Linux.Namespaces[:len(s.Linux.Namespaces)-1]
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: path})
	})
	out := h.MustRT("run", "--bundle", b.Dir, h.ID("join")).Stdout
	if !strings.Contains(out, fmt.Sprintf("0     %d      65536", usernsBase)) || !strings.HasSuffix(out, "0\n") {
		t.Errorf("joined user namespace: %q", out)
	}
}

// TestUserNamespaceBadMaps: a map the kernel refuses (overlapping host
// ranges) fails create cleanly, naming the field.
func TestUserNamespaceBadMaps(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.mappedBundle(func(s *specs.Spec) {
		// Host IDs beyond what a uid_t can hold in the map's range.
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 4294967294, Size: 10}}
	})
	id := h.ID("badmap")
	r := h.RT("create", "--bundle", b.Dir, id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux.uidMappings") {
		t.Errorf("impossible uid map: %v", r)
	}
	if fileExists(filepath.Join(h.Root, id)) || len(cgroupDirs(b.Cgroup)) > 0 {
		t.Errorf("state or cgroup left after a refused create")
	}
}
