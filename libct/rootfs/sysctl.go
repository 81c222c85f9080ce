package rootfs

import (
	"fmt"
	"os"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/spec"
)

// setSysctls writes linux.sysctl through <root>/proc/sys, resolved inside
// root, checking that each file really is on procfs (CVE-2025-52881).
func setSysctls(root *os.File, m map[string]string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		rel, err := spec.SysctlPath(k)
		if err != nil {
			return fmt.Errorf("linux.sysctl[%q]: %w", k, err)
		}
		f, err := openInFlags(root, "/proc/sys/"+rel, unix.O_WRONLY|unix.O_NOFOLLOW)
		if err != nil {
			return fmt.Errorf("linux.sysctl[%q]: %w", k, err)
		}
		var st unix.Statfs_t
		if err := unix.Fstatfs(int(f.Fd()), &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
			f.Close()
			return fmt.Errorf("linux.sysctl[%q]: /proc/sys/%s is not on procfs", k, rel)
		}
		_, err = f.WriteString(v)
		f.Close()
		if err != nil {
			return fmt.Errorf("linux.sysctl[%q] = %q: %w", k, v, err)
		}
	}
	return nil
}

// SetSysctls is setSysctls for a container without its own mount
// namespace, from inside its root.
func SetSysctls(m map[string]string) error {
	if len(m) == 0 {
		return nil
	}
	root, err := openRoot()
	if err != nil {
		return err
	}
	defer root.Close()
	return setSysctls(root, m)
}
