package libct

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// subFiles points the subordinate ID files at test content.
func subFiles(t *testing.T, subuid, nsswitch string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "subuid")
	if err := os.WriteFile(p, []byte(subuid), 0o644); err != nil {
		t.Fatal(err)
	}
	ns := filepath.Join(dir, "nsswitch.conf")
	if err := os.WriteFile(ns, []byte(nsswitch), 0o644); err != nil {
		t.Fatal(err)
	}
	old := nsswitchFile
	nsswitchFile = ns
	t.Cleanup(func() { nsswitchFile = old })
	return p
}

func withLookPath(t *testing.T, found bool) {
	old := lookPath
	lookPath = func(name string) (string, error) {
		if found {
			return "/usr/bin/" + name, nil
		}
		return "", errors.New("not found")
	}
	t.Cleanup(func() { lookPath = old })
}

func idm(c, h, n uint32) specs.LinuxIDMapping {
	return specs.LinuxIDMapping{ContainerID: c, HostID: h, Size: n}
}

func TestPlanOne(t *testing.T) {
	file := subFiles(t, "other:100000:65536\nalice:200000:65536\n1000:265536:1000\n# comment\nbroken\n", "passwd: files\n")
	withLookPath(t, true)
	cases := []struct {
		name   string
		maps   []specs.LinuxIDMapping
		helper bool
		err    string
	}{
		{"own id only: direct", []specs.LinuxIDMapping{idm(0, 1000, 1)}, false, ""},
		{"own id and a range", []specs.LinuxIDMapping{idm(0, 1000, 1), idm(1, 200000, 65536)}, true, ""},
		{"ranges by name and by uid, adjacent", []specs.LinuxIDMapping{idm(0, 200000, 66536)}, true, ""},
		{"someone else's range", []specs.LinuxIDMapping{idm(0, 1000, 1), idm(1, 100000, 10)}, false, "field[1]: host IDs 100000-100009"},
		{"beyond the range", []specs.LinuxIDMapping{idm(0, 260000, 10000)}, false, "field[0]: host IDs 260000-269999"},
		{"own id, size 2", []specs.LinuxIDMapping{idm(0, 1000, 2)}, false, "field[0]"},
		{"host root", []specs.LinuxIDMapping{idm(0, 0, 1)}, false, "field[0]: host IDs 0-0"},
	}
	for _, c := range cases {
		h, err := planOne("field", "uid", "newuidmap", file, 1000, "alice", c.maps)
		switch {
		case c.err != "":
			if err == nil || !strings.HasPrefix(err.Error(), c.err) || !strings.Contains(err.Error(), "200000-266535") {
				t.Errorf("%s: %v, want an error starting %q listing the ranges", c.name, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case (h != "") != c.helper:
			t.Errorf("%s: helper %q", c.name, h)
		}
	}
	// The helper missing: a clear error naming the field and the package.
	withLookPath(t, false)
	_, err := planOne("linux.uidMappings", "uid", "newuidmap", file, 1000, "alice", []specs.LinuxIDMapping{idm(0, 200000, 10)})
	if err == nil || !strings.HasPrefix(err.Error(), "linux.uidMappings: ") || !strings.Contains(err.Error(), "uidmap package") {
		t.Errorf("no newuidmap: %v", err)
	}
	// The own ID needs no helper.
	if h, err := planOne("f", "uid", "newuidmap", file, 1000, "alice", []specs.LinuxIDMapping{idm(5, 1000, 1)}); err != nil || h != "" {
		t.Errorf("own id without helper: %q %v", h, err)
	}
}

func TestPlanOneNsswitch(t *testing.T) {
	// Ranges from another database: rt leaves the check to newuidmap.
	file := subFiles(t, "", "subid: sss\n")
	withLookPath(t, true)
	h, err := planOne("f", "uid", "newuidmap", file, 1000, "alice", []specs.LinuxIDMapping{idm(0, 500000, 10)})
	if err != nil || h == "" {
		t.Errorf("nsswitch subid: %q %v", h, err)
	}
}

func TestIDMapsWrite(t *testing.T) {
	// write against a fake /proc/PID: the direct path writes the maps and,
	// when asked, "deny" to setgroups before gid_map.
	dir := t.TempDir()
	for _, f := range []string{"uid_map", "gid_map", "setgroups"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ms := &idMaps{uids: []specs.LinuxIDMapping{idm(0, 1000, 1)}, gids: []specs.LinuxIDMapping{idm(0, 1000, 1), idm(1, 5, 2)}, denySetgroups: true}
	if err := applyMap(0, filepath.Join(dir, "uid_map"), "", ms.uids); err != nil {
		t.Fatal(err)
	}
	if err := applyMap(0, filepath.Join(dir, "gid_map"), "", ms.gids); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "gid_map")); string(b) != "0 1000 1\n1 5 2\n" {
		t.Errorf("gid_map %q", b)
	}
	// A helper gets PID and the triples; its output ends up in the error.
	err := applyMap(42, "", "/bin/false", ms.gids)
	if err == nil || !strings.Contains(err.Error(), "/bin/false 42 0 1000 1 1 5 2") {
		t.Errorf("helper error %v", err)
	}
}

func TestRootlessFlag(t *testing.T) {
	for _, v := range []string{"", "auto", "true", "false"} {
		if err := CheckRootlessFlag(v); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	if err := CheckRootlessFlag("yes"); err == nil || !strings.HasPrefix(err.Error(), "--rootless: ") {
		t.Errorf("yes: %v", err)
	}
	if !rootlessCgroups(RootlessTrue) || rootlessCgroups(RootlessFalse) || rootlessCgroups(RootlessAuto) != Unprivileged() {
		t.Error("rootlessCgroups")
	}
}

func TestDeviceRulesFor(t *testing.T) {
	s := &specs.Spec{Linux: &specs.Linux{Resources: &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		Pids:    &specs.LinuxPids{Limit: i64(5)},
	}}}
	if r := deviceRulesFor(s, true); r.Devices != nil || r.Pids == nil {
		t.Errorf("rootless: %+v", r)
	}
	if r := deviceRulesFor(s, false); len(r.Devices) != 1+len(allowedDevices) {
		t.Errorf("root: %d rules", len(r.Devices))
	}
	if len(s.Linux.Resources.Devices) != 1 {
		t.Error("the config was changed")
	}
}
