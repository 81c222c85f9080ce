package security

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/selinux/go-selinux"
	"golang.org/x/sys/unix"
)

// AppArmorEnabled reports whether the host's kernel runs AppArmor.
func AppArmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.HasPrefix(string(b), "Y")
}

// SELinuxEnabled reports whether SELinux is enabled on the host.
func SELinuxEnabled() bool { return selinux.GetEnabled() }

// CheckLSM refuses a process whose labels need a security module the host
// does not run, as runc does: a profile that can't be applied would
// silently leave the container unconfined. field is the JSON path of the
// process ("process").
func CheckLSM(p *specs.Process, field string) error {
	if p.ApparmorProfile != "" && !AppArmorEnabled() {
		return fmt.Errorf("%s.apparmorProfile %q: AppArmor is not enabled on this host", field, p.ApparmorProfile)
	}
	if p.SelinuxLabel != "" && !SELinuxEnabled() {
		return fmt.Errorf("%s.selinuxLabel %q: SELinux is disabled or not supported on this host", field, p.SelinuxLabel)
	}
	return nil
}

// ApplyLSM sets the AppArmor profile and the SELinux label the calling
// thread's next execve takes on. It must run on the thread that execs.
func ApplyLSM(p *specs.Process) error {
	if p.ApparmorProfile != "" {
		err := writeProcAttr("/proc/thread-self/attr/apparmor/exec", "exec "+p.ApparmorProfile)
		if errors.Is(err, unix.ENOENT) {
			// Kernels before 5.8 have only the shared file.
			err = writeProcAttr("/proc/thread-self/attr/exec", "exec "+p.ApparmorProfile)
		}
		if err != nil {
			return fmt.Errorf("process.apparmorProfile %q: %w", p.ApparmorProfile, err)
		}
	}
	if p.SelinuxLabel != "" {
		if err := writeProcAttr("/proc/thread-self/attr/exec", p.SelinuxLabel); err != nil {
			return fmt.Errorf("process.selinuxLabel %q: %w", p.SelinuxLabel, err)
		}
	}
	return nil
}

// writeProcAttr writes value into a file of /proc/thread-self/attr. The
// /proc seen here may be the container's: the file must be a regular
// file on a real procfs, reached without following symlinks past
// thread-self, or a crafted mount would swallow the write and leave the
// process unconfined (CVE-2025-52881 class).
func writeProcAttr(path, value string) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := checkProcFile(fd); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, err := unix.Write(fd, []byte(value)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// checkProcFile verifies fd is a regular file on procfs.
func checkProcFile(fd int) error {
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err != nil {
		return err
	}
	if fs.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("not on procfs (filesystem magic %#x)", fs.Type)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return errors.New("not a regular file")
	}
	return nil
}
