package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestLSMLabelsWithoutLSM: the test hosts run neither AppArmor nor
// SELinux. A profile or label that can't be applied is refused (as runc
// does) with the field named, before anything is made; exec refuses its
// --apparmor and --process-label likewise. linux.mountLabel is ignored
// without SELinux, as in runc.
func TestLSMLabelsWithoutLSM(t *testing.T) {
	t.Parallel()
	if b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil && strings.HasPrefix(string(b), "Y") {
		t.Skip("AppArmor is enabled on this host")
	}
	if fileExists("/sys/fs/selinux/enforce") {
		t.Skip("SELinux is enabled on this host")
	}
	h := newH(t)
	for field, mut := range map[string]func(*specs.Spec){
		"process.apparmorProfile": func(s *specs.Spec) { s.Process.ApparmorProfile = "docker-default" },
		"process.selinuxLabel":    func(s *specs.Spec) { s.Process.SelinuxLabel = "system_u:system_r:container_t:s0" },
	} {
		b := h.Bundle(mut)
		id := h.ID("lsm")
		r := h.RT("create", "--bundle", b.Dir, id)
		if r.Code == 0 || !strings.Contains(r.Stderr, field) {
			t.Errorf("%s without the LSM: %v", field, r)
		}
		if fileExists(filepath.Join(h.Root, id)) {
			t.Errorf("%s: state left after a refused create", field)
		}
		if ds := cgroupDirs(b.Cgroup); len(ds) > 0 {
			t.Errorf("%s: cgroups left after a refused create: %v", field, ds)
		}
	}
	out := h.MustSh("echo ok", func(s *specs.Spec) { s.Linux.MountLabel = "system_u:object_r:container_file_t:s0" })
	if out != "ok\n" {
		t.Errorf("linux.mountLabel without SELinux: %q", out)
	}
	id, _ := h.StartDetached(h.Bundle(sleeper))
	if r := h.RT("exec", "--apparmor", "docker-default", id, "true"); r.Code == 0 || !strings.Contains(r.Stderr, "apparmorProfile") {
		t.Errorf("exec --apparmor without AppArmor: %v", r)
	}
	if r := h.RT("exec", "--process-label", "system_u:system_r:container_t:s0", id, "true"); r.Code == 0 || !strings.Contains(r.Stderr, "selinuxLabel") {
		t.Errorf("exec --process-label without SELinux: %v", r)
	}
}
