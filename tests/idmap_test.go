package tests

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// idmapSource is a host directory with a file owned by 1000:1000.
func idmapSource(t *testing.T, h *H) string {
	t.Helper()
	dir := filepath.Join(h.Dir, "idsrc")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, f} {
		if err := os.Chown(p, 1000, 1000); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestIDMappedMount: mounts[].uidMappings/gidMappings make an idmapped
// bind mount: a file the source's filesystem has as 1000 shows as 0 in
// the container (mapping containerID 1000 -> hostID 0, as runc creates the
// mapping user namespace); a file made through it lands as 1000 on the
// host; the source itself is unchanged.
func TestIDMappedMount(t *testing.T) {
	t.Parallel()
	h := newH(t)
	src := idmapSource(t, h)
	m := specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"bind"},
		UIDMappings: []specs.LinuxIDMapping{{ContainerID: 1000, HostID: 0, Size: 1}},
		GIDMappings: []specs.LinuxIDMapping{{ContainerID: 1000, HostID: 0, Size: 1}}}
	out := h.MustSh("stat -c %u:%g /data/f; touch /data/new", addMount(m))
	if out != "0:0\n" {
		t.Errorf("owner of the file through the idmapped mount: %q, want 0:0", out)
	}
	st, err := os.Stat(filepath.Join(src, "new"))
	if err != nil {
		t.Fatal(err)
	}
	if s := st.Sys().(*syscall.Stat_t); s.Uid != 1000 || s.Gid != 1000 {
		t.Errorf("a file made by root through the idmapped mount is %d:%d on the host, want 1000:1000", s.Uid, s.Gid)
	}
	if st, _ := os.Stat(filepath.Join(src, "f")); st.Sys().(*syscall.Stat_t).Uid != 1000 {
		t.Errorf("the source changed owner")
	}
	if ms := mountsUnder(src); len(ms) > 0 {
		t.Errorf("host mounts left on the source: %v", ms)
	}
}

// TestIDMapOptionUserNS: the "idmap" option without mount mappings uses
// the container's user namespace: a host directory owned by host root
// shows as owned by the container's root, not as nobody.
func TestIDMapOptionUserNS(t *testing.T) {
	t.Parallel()
	h := newH(t)
	src := idmapSource(t, h)
	os.Chown(filepath.Join(src, "f"), 0, 0)
	os.Chown(src, 0, 0)
	m := specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"bind", "idmap"}}
	plain := specs.Mount{Destination: "/plain", Type: "bind", Source: src, Options: []string{"bind"}}
	b := h.mappedBundle(addMount(m), addMount(plain), sh("stat -c %u /data/f /plain/f"))
	out := h.MustRT("run", "--bundle", b.Dir, h.ID("idmap")).Stdout
	if got := strings.Fields(out); len(got) != 2 || got[0] != "0" || got[1] != "65534" {
		t.Errorf("owners through the idmapped and the plain bind: %q, want 0 and 65534", out)
	}
}
