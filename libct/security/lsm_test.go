package security

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The test hosts run neither AppArmor nor SELinux: labels are refused
// with the field named, and no label means nothing to check.
func TestCheckLSM(t *testing.T) {
	if err := CheckLSM(&specs.Process{}, "process"); err != nil {
		t.Fatalf("no labels: %v", err)
	}
	if !AppArmorEnabled() {
		err := CheckLSM(&specs.Process{ApparmorProfile: "docker-default"}, "process")
		if err == nil || !strings.Contains(err.Error(), "process.apparmorProfile") {
			t.Errorf("AppArmor profile on a host without AppArmor: %v", err)
		}
	}
	if !SELinuxEnabled() {
		err := CheckLSM(&specs.Process{SelinuxLabel: "system_u:system_r:container_t:s0"}, "process")
		if err == nil || !strings.Contains(err.Error(), "process.selinuxLabel") {
			t.Errorf("SELinux label on a host without SELinux: %v", err)
		}
	}
}

// A procfs attribute file is written only if it really is on procfs: a
// file on another filesystem (a crafted /proc) is refused.
func TestWriteProcAttrRefusesFakeProc(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "exec")
	if err := os.WriteFile(fake, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := writeProcAttr(fake, "exec unconfined")
	if err == nil || !strings.Contains(err.Error(), "not on procfs") {
		t.Fatalf("write to a file outside procfs: %v", err)
	}
	if b, _ := os.ReadFile(fake); len(b) != 0 {
		t.Errorf("the fake attribute file was written: %q", b)
	}
	link := filepath.Join(t.TempDir(), "link")
	os.Symlink("/proc/thread-self/attr/exec", link)
	if err := writeProcAttr(link, "x"); !errors.Is(err, unix.ELOOP) {
		t.Errorf("write through a symlink: %v, want ELOOP", err)
	}
}

// A real procfs file passes the check.
func TestCheckProcFile(t *testing.T) {
	fd, err := unix.Open("/proc/self/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := checkProcFile(fd); err != nil {
		t.Fatalf("/proc/self/stat: %v", err)
	}
}

// LastCap comes from the kernel, not from /proc.
func TestLastCapProbed(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		t.Skip(err)
	}
	if got, want := LastCap(), strings.TrimSpace(string(b)); fmt.Sprint(got) != want {
		t.Errorf("LastCap() = %d, cap_last_cap says %s", got, want)
	}
}
