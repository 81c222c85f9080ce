package libct

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// idMapWriter returns the nsenter.Attr.UserMaps function of a container
// with a new user namespace: it writes linux.uidMappings and
// linux.gidMappings into /proc/PID/{uid,gid}_map of the child, which waits
// for them before it becomes root there.
func idMapWriter(s *specs.Spec) func(pid int) error {
	if s.Linux == nil {
		return nil
	}
	uids, gids := s.Linux.UIDMappings, s.Linux.GIDMappings
	return func(pid int) error {
		dir := "/proc/" + strconv.Itoa(pid) + "/"
		if err := writeIDMap(dir+"uid_map", uids); err != nil {
			return fmt.Errorf("linux.uidMappings: %w", err)
		}
		if err := writeIDMap(dir+"gid_map", gids); err != nil {
			return fmt.Errorf("linux.gidMappings: %w", err)
		}
		return nil
	}
}

// writeIDMap writes a whole map in one write(2), as the kernel requires.
func writeIDMap(path string, m []specs.LinuxIDMapping) error {
	var b strings.Builder
	for _, e := range m {
		fmt.Fprintf(&b, "%d %d %d\n", e.ContainerID, e.HostID, e.Size)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
