package spec

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Validate checks a decoded config.json for `rt create` before any side
// effect. bundle is the bundle directory (relative paths are resolved
// against the working directory). The only host access is reading: stat of
// the rootfs and of namespace paths.
//
// The first problem found is returned as a *FieldError whose message starts
// with the config.json field path, e.g.
// `linux.namespaces[2].type: unknown namespace "foo"`.
func Validate(s *specs.Spec, bundle string) error {
	if s == nil {
		return &FieldError{Msg: "config is empty"}
	}
	v := &validator{s: s, bundle: bundle}
	for _, check := range specChecks {
		if err := check(v); err != nil {
			return err
		}
	}
	return nil
}

// validator carries what several checks need.
type validator struct {
	s      *specs.Spec
	bundle string
	// ns is filled by checkNamespaces: type -> entry.
	ns map[specs.LinuxNamespaceType]nsEntry
}

type nsEntry struct {
	index int
	path  string
}

func (v *validator) has(t specs.LinuxNamespaceType) bool { _, ok := v.ns[t]; return ok }

// linux returns s.Linux or an empty section, so checks need no nil tests.
func (v *validator) linux() *specs.Linux {
	if v.s.Linux == nil {
		return &specs.Linux{}
	}
	return v.s.Linux
}

// specChecks run in order; checkNamespaces must come before the checks that
// look at v.ns.
var specChecks = []func(*validator) error{
	checkVersion,
	checkRoot,
	checkProcess,
	checkNamespaces,
	checkMountNamespace,
	checkUTS,
	checkUserNamespace,
	checkTimeNamespace,
	checkMounts,
	checkLinuxPaths,
	checkSysctl,
	checkDevices,
	checkResources,
	checkPersonality,
	checkNetDevices,
	checkHooks,
	checkCowAnnotations, // spec/validate_overlay.go
}

// RootfsPath returns the absolute, clean host path of the container's root
// filesystem: root.path if absolute, else root.path relative to the (made
// absolute) bundle. It returns "" if s has no root.
func RootfsPath(s *specs.Spec, bundle string) string {
	if s == nil || s.Root == nil {
		return ""
	}
	p := s.Root.Path
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	if abs, err := filepath.Abs(bundle); err == nil {
		bundle = abs
	}
	return filepath.Join(bundle, p)
}

func checkVersion(v *validator) error {
	if strings.TrimSpace(v.s.Version) == "" {
		return fieldErr("ociVersion", "missing")
	}
	// Any 1.x is read with the 1.3 types (fields are only added within a
	// major version); another major version is a different format.
	if !strings.HasPrefix(v.s.Version, "1.") {
		return fieldErr("ociVersion", "%q: rt reads runtime-spec 1.x configs", v.s.Version)
	}
	return nil
}

func checkRoot(v *validator) error {
	if v.s.Root == nil {
		return fieldErr("root", "missing")
	}
	if v.s.Root.Path == "" {
		return fieldErr("root.path", "empty")
	}
	if hasNUL(v.s.Root.Path) {
		return fieldErr("root.path", "contains a NUL byte")
	}
	rootfs := RootfsPath(v.s, v.bundle)
	st, err := os.Stat(rootfs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fieldErr("root.path", "rootfs %s does not exist: %w", rootfs, err)
	case err != nil:
		return fieldErr("root.path", "rootfs %s: %w", rootfs, err)
	case !st.IsDir():
		return fieldErr("root.path", "rootfs %s is not a directory", rootfs)
	}
	// The host's own root can't be a container's: rt makes device nodes
	// and mount points in the rootfs, which would change the host.
	if hs, err := os.Stat("/"); err == nil && os.SameFile(st, hs) {
		return fieldErr("root.path", "rootfs %s is the host's root directory", rootfs)
	}
	return nil
}

func checkProcess(v *validator) error {
	if v.s.Process == nil {
		return fieldErr("process", "missing, required for create")
	}
	return ValidateProcess(v.s.Process, "process")
}

// namespaceTypes are the namespace types rt knows.
var namespaceTypes = map[specs.LinuxNamespaceType]bool{
	specs.PIDNamespace:     true,
	specs.NetworkNamespace: true,
	specs.MountNamespace:   true,
	specs.IPCNamespace:     true,
	specs.UTSNamespace:     true,
	specs.UserNamespace:    true,
	specs.CgroupNamespace:  true,
	specs.TimeNamespace:    true,
}

func checkNamespaces(v *validator) error {
	v.ns = make(map[specs.LinuxNamespaceType]nsEntry)
	for i, ns := range v.linux().Namespaces {
		f := idx("linux.namespaces", i)
		if !namespaceTypes[ns.Type] {
			return fieldErr(f+".type", "unknown namespace %q (want pid, network, mount, ipc, uts, user, cgroup or time)", ns.Type)
		}
		if prev, dup := v.ns[ns.Type]; dup {
			return fieldErr(f+".type", "duplicate namespace %q (also linux.namespaces[%d])", ns.Type, prev.index)
		}
		if ns.Path != "" {
			if err := checkAbs(f+".path", ns.Path); err != nil {
				return err
			}
			if _, err := os.Stat(ns.Path); err != nil {
				return fieldErr(f+".path", "%s namespace to join: %w", ns.Type, err)
			}
		}
		v.ns[ns.Type] = nsEntry{index: i, path: ns.Path}
	}
	return nil
}

// checkMountNamespace refuses what would change the propagation of the
// host's mounts when the container has no mount namespace of its own.
// Mounts, masked and read-only paths, devices and a read-only root are
// made below a bind mount of the rootfs in the shared namespace
// (SharesHostMounts); the propagation of the root would be the host's.
func checkMountNamespace(v *validator) error {
	if v.has(specs.MountNamespace) {
		return nil
	}
	if v.linux().RootfsPropagation != "" {
		return fieldErr("linux.rootfsPropagation", "needs a mount namespace, but linux.namespaces has none")
	}
	return nil
}

// hostNameMax is HOST_NAME_MAX; sethostname(2)/setdomainname(2) refuse more.
const hostNameMax = 64

func checkUTS(v *validator) error {
	for _, n := range []struct{ field, value string }{
		{"hostname", v.s.Hostname},
		{"domainname", v.s.Domainname},
	} {
		if n.value == "" {
			continue
		}
		if !v.has(specs.UTSNamespace) {
			return fieldErr(n.field, "unable to set %s without a private UTS namespace (linux.namespaces has no uts)", n.field)
		}
		if len(n.value) > hostNameMax || hasNUL(n.value) {
			return fieldErr(n.field, "invalid %s %q: at most %d bytes, no NUL", n.field, n.value, hostNameMax)
		}
	}
	return nil
}

func checkUserNamespace(v *validator) error {
	l := v.linux()
	ns, ok := v.ns[specs.UserNamespace]
	if !ok {
		if len(l.UIDMappings) > 0 {
			return fieldErr("linux.uidMappings", "user namespace mappings given, but linux.namespaces has no user namespace")
		}
		if len(l.GIDMappings) > 0 {
			return fieldErr("linux.gidMappings", "user namespace mappings given, but linux.namespaces has no user namespace")
		}
		return nil
	}
	// Mappings given for a joined user namespace are not applied (the
	// namespace already has its maps); they are still checked for sanity.
	if ns.path == "" {
		if len(l.UIDMappings) == 0 {
			return fieldErr("linux.uidMappings", "missing, required by the new user namespace linux.namespaces[%d]", ns.index)
		}
		if len(l.GIDMappings) == 0 {
			return fieldErr("linux.gidMappings", "missing, required by the new user namespace linux.namespaces[%d]", ns.index)
		}
	}
	if err := checkIDMappings("linux.uidMappings", l.UIDMappings); err != nil {
		return err
	}
	return checkIDMappings("linux.gidMappings", l.GIDMappings)
}

// maxIDMapLines is the kernel's limit on uid_map/gid_map lines (since 4.15).
const maxIDMapLines = 340

// checkIDMappings checks sizes, 32-bit overflow and overlaps, which the
// kernel would reject when the map is written.
func checkIDMappings(field string, maps []specs.LinuxIDMapping) error {
	if len(maps) > maxIDMapLines {
		return fieldErr(field, "%d mappings, the kernel allows at most %d", len(maps), maxIDMapLines)
	}
	for i, m := range maps {
		f := idx(field, i)
		if m.Size == 0 {
			return fieldErr(f+".size", "must be greater than 0")
		}
		if uint64(m.ContainerID)+uint64(m.Size) > 1<<32 {
			return fieldErr(f, "containerID %d + size %d overflows 32 bits", m.ContainerID, m.Size)
		}
		if uint64(m.HostID)+uint64(m.Size) > 1<<32 {
			return fieldErr(f, "hostID %d + size %d overflows 32 bits", m.HostID, m.Size)
		}
		for j := range i {
			p := maps[j]
			if overlap(p.ContainerID, p.Size, m.ContainerID, m.Size) {
				return fieldErr(f, "container range overlaps %s", idx(field, j))
			}
			if overlap(p.HostID, p.Size, m.HostID, m.Size) {
				return fieldErr(f, "host range overlaps %s", idx(field, j))
			}
		}
	}
	return nil
}

func overlap(a, alen, b, blen uint32) bool {
	return uint64(a) < uint64(b)+uint64(blen) && uint64(b) < uint64(a)+uint64(alen)
}

// timeClocks are the clocks a time namespace can offset.
var timeClocks = map[string]bool{"monotonic": true, "boottime": true}

func checkTimeNamespace(v *validator) error {
	offs := v.linux().TimeOffsets
	if len(offs) == 0 {
		return nil
	}
	ns, ok := v.ns[specs.TimeNamespace]
	if !ok {
		return fieldErr("linux.timeOffsets", "time namespace offsets given, but linux.namespaces has no time namespace")
	}
	if ns.path != "" {
		return fieldErr("linux.timeOffsets", "cannot set offsets of a joined time namespace (linux.namespaces[%d].path)", ns.index)
	}
	for _, k := range sortedKeys(offs) {
		if !timeClocks[k] {
			return fieldErr(key("linux.timeOffsets", k), "unknown clock (want monotonic or boottime)")
		}
		if offs[k].Nanosecs >= 1e9 {
			return fieldErr(key("linux.timeOffsets", k)+".nanosecs", "%d is not below 1000000000", offs[k].Nanosecs)
		}
	}
	return nil
}

func checkHooks(v *validator) error {
	h := v.s.Hooks
	if h == nil {
		return nil
	}
	for _, set := range []struct {
		field string
		hooks []specs.Hook
	}{
		{"hooks.prestart", h.Prestart}, //nolint:staticcheck // deprecated but still run
		{"hooks.createRuntime", h.CreateRuntime},
		{"hooks.createContainer", h.CreateContainer},
		{"hooks.startContainer", h.StartContainer},
		{"hooks.poststart", h.Poststart},
		{"hooks.poststop", h.Poststop},
	} {
		for i, hk := range set.hooks {
			f := idx(set.field, i)
			if err := checkAbs(f+".path", hk.Path); err != nil {
				return err
			}
			if hk.Timeout != nil && *hk.Timeout <= 0 {
				return fieldErr(f+".timeout", "must be greater than 0, got %d", *hk.Timeout)
			}
		}
	}
	return nil
}

func hasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkAbs reports a path that is not absolute or contains a NUL byte.
func checkAbs(field, p string) error {
	if !filepath.IsAbs(p) || hasNUL(p) {
		return fieldErr(field, "must be an absolute path: %q", p)
	}
	return nil
}
