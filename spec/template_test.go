package spec

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestDefaultContent(t *testing.T) {
	s := Default()
	if s.Version != specs.Version || s.Hostname != "rt" || !s.Root.Readonly || s.Root.Path != "rootfs" {
		t.Errorf("header: %+v %+v", s.Version, s.Root)
	}
	p := s.Process
	if !p.Terminal || !p.NoNewPrivileges || p.Cwd != "/" || !slices.Equal(p.Args, []string{"sh"}) || len(p.Env) != 2 {
		t.Errorf("process: %+v", p)
	}
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	c := p.Capabilities
	if !slices.Equal(c.Bounding, caps) || !slices.Equal(c.Effective, caps) || !slices.Equal(c.Permitted, caps) ||
		c.Inheritable != nil || c.Ambient != nil {
		t.Errorf("capabilities: %+v", c)
	}
	var dests []string
	for _, m := range s.Mounts {
		dests = append(dests, m.Destination)
	}
	if !slices.Equal(dests, []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"}) {
		t.Errorf("mounts: %v", dests)
	}
	var nss []specs.LinuxNamespaceType
	for _, ns := range s.Linux.Namespaces {
		nss = append(nss, ns.Type)
	}
	if !slices.Equal(nss, []specs.LinuxNamespaceType{"pid", "network", "ipc", "uts", "mount", "cgroup"}) {
		t.Errorf("namespaces: %v", nss)
	}
	// Each call returns an independent value.
	s.Process.Capabilities.Bounding[0] = "x"
	s.Mounts[1].Options[0] = "x"
	if d := Default(); d.Process.Capabilities.Bounding[0] != "CAP_AUDIT_WRITE" || d.Mounts[1].Options[0] != "nosuid" {
		t.Error("Default shares storage between calls")
	}
	// It survives a JSON round trip unchanged (what `rt spec` writes is what Load reads).
	data, err := json.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	var back specs.Spec
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(&back, Default()) {
		t.Errorf("round trip differs: %v", err)
	}
}

func TestRootless(t *testing.T) {
	s := Default()
	Rootless(s)
	var nss []specs.LinuxNamespaceType
	for _, ns := range s.Linux.Namespaces {
		nss = append(nss, ns.Type)
	}
	if !slices.Equal(nss, []specs.LinuxNamespaceType{"pid", "ipc", "uts", "mount", "cgroup", "user"}) {
		t.Errorf("namespaces: %v", nss)
	}
	wantU := []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Geteuid()), Size: 1}}
	wantG := []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Getegid()), Size: 1}}
	if !reflect.DeepEqual(s.Linux.UIDMappings, wantU) || !reflect.DeepEqual(s.Linux.GIDMappings, wantG) {
		t.Errorf("mappings: %v %v", s.Linux.UIDMappings, s.Linux.GIDMappings)
	}
	if s.Linux.Resources != nil {
		t.Error("resources kept")
	}
	for _, m := range s.Mounts {
		switch m.Destination {
		case "/sys":
			want := specs.Mount{Destination: "/sys", Type: "none", Source: "/sys",
				Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
			if !reflect.DeepEqual(m, want) {
				t.Errorf("/sys mount: %+v", m)
			}
		case "/dev/pts":
			if slices.Contains(m.Options, "gid=5") {
				t.Errorf("/dev/pts keeps gid=5: %v", m.Options)
			}
		}
	}
	// Applying it twice changes nothing more.
	again := Default()
	Rootless(again)
	Rootless(again)
	if !reflect.DeepEqual(s, again) {
		t.Error("Rootless is not idempotent")
	}
	// Default is not modified through shared slices.
	if !slices.Contains(Default().Mounts[2].Options, "gid=5") {
		t.Error("Rootless modified Default's storage")
	}
}
