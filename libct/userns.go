package libct

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// idMaps is how the ID maps of a container's new user namespace are
// written: directly into /proc/PID/{uid,gid}_map (root, or an unprivileged
// caller mapping only its own ID), or by the setuid helpers
// newuidmap/newgidmap for an unprivileged caller's /etc/subuid and
// /etc/subgid ranges (rootless_idmap.go).
type idMaps struct {
	uids, gids []specs.LinuxIDMapping
	// uidHelper, gidHelper: path of newuidmap/newgidmap, "" to write the
	// map directly.
	uidHelper, gidHelper string
	// denySetgroups: an unprivileged caller writing gid_map itself must
	// deny setgroups(2) in the namespace first (the kernel's rule).
	denySetgroups bool
	// unprivileged: the caller is not root; the child stays dumpable
	// until its maps are written (nsenter.Attr.DumpableForMaps).
	unprivileged bool
}

// planIDMaps decides, before anything is made, how the maps of a new user
// namespace will be written, and refuses mappings the caller may not
// write. It returns nil without a new user namespace.
func planIDMaps(s *specs.Spec) (*idMaps, error) {
	if s.Linux == nil || !newUserNS(s) {
		return nil, nil
	}
	m := &idMaps{uids: s.Linux.UIDMappings, gids: s.Linux.GIDMappings}
	if os.Geteuid() == 0 {
		return m, nil
	}
	if err := m.planRootless(s.Process); err != nil {
		return nil, err
	}
	return m, nil
}

// newUserNS reports whether linux.namespaces asks for a new user namespace.
func newUserNS(s *specs.Spec) bool {
	if s.Linux == nil {
		return false
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.UserNamespace && ns.Path == "" {
			return true
		}
	}
	return false
}

// writer returns the nsenter.Attr.UserMaps function: it writes the maps
// of the child's new user namespace, which waits for them before it
// becomes root there.
func (m *idMaps) writer() func(pid int) error {
	if m == nil {
		return nil
	}
	return m.write
}

func (m *idMaps) write(pid int) error {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	if err := applyMap(pid, dir+"uid_map", m.uidHelper, m.uids); err != nil {
		return fmt.Errorf("linux.uidMappings: %w", err)
	}
	if m.denySetgroups {
		if err := writeProc(dir+"setgroups", "deny"); err != nil {
			return fmt.Errorf("linux.gidMappings: %w", err)
		}
	}
	if err := applyMap(pid, dir+"gid_map", m.gidHelper, m.gids); err != nil {
		return fmt.Errorf("linux.gidMappings: %w", err)
	}
	return nil
}

func applyMap(pid int, path, helper string, ms []specs.LinuxIDMapping) error {
	if helper == "" {
		return writeIDMap(path, ms)
	}
	args := []string{strconv.Itoa(pid)}
	for _, e := range ms {
		args = append(args, strconv.FormatUint(uint64(e.ContainerID), 10),
			strconv.FormatUint(uint64(e.HostID), 10), strconv.FormatUint(uint64(e.Size), 10))
	}
	cmd := exec.Command(helper, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", helper, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// writeIDMap writes a whole map in one write(2), as the kernel requires.
func writeIDMap(path string, m []specs.LinuxIDMapping) error {
	var b strings.Builder
	for _, e := range m {
		fmt.Fprintf(&b, "%d %d %d\n", e.ContainerID, e.HostID, e.Size)
	}
	return writeProc(path, b.String())
}

func writeProc(path, val string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(val) // an *os.PathError naming path
	return err
}
