package libct

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/cgroups"
	"github.com/rt-oci/rt/spec"
)

// Rootless containers: rt run by an unprivileged user (euid != 0). See
// docs/rootless.md. What differs from root:
//
//   - the config must ask for a new user namespace (or join one), whose
//     maps are written directly or by newuidmap/newgidmap (rootless_idmap.go);
//   - cgroups the user can't write are left out (cgroups.Config.Rootless),
//     and device cgroup rules are never written;
//   - what needs host privilege is refused up front, before anything is
//     made, naming the config.json field (checkRootless).

// Rootless modes of the global --rootless flag, as runc's.
const (
	RootlessAuto  = "auto"
	RootlessTrue  = "true"
	RootlessFalse = "false"
)

// Unprivileged reports whether rt runs without root (euid != 0).
func Unprivileged() bool { return os.Geteuid() != 0 }

// rootlessCgroups says whether cgroup permission problems are expected and
// handled as for a rootless container: --rootless true, or auto (the
// default) when rt is not root. --rootless false makes them errors.
func rootlessCgroups(mode string) bool {
	switch mode {
	case RootlessTrue:
		return true
	case RootlessFalse:
		return false
	}
	return Unprivileged()
}

// CheckRootlessFlag validates the value of --rootless.
func CheckRootlessFlag(v string) error {
	switch v {
	case "", RootlessAuto, RootlessTrue, RootlessFalse:
		return nil
	}
	return fmt.Errorf("--rootless: %q is not true, false or auto", v)
}

// callerName names the caller in errors: "user NAME, uid N".
func callerName() string {
	uid := os.Geteuid()
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return fmt.Sprintf("user %s, uid %d", u.Username, uid)
	}
	return fmt.Sprintf("uid %d", uid)
}

// checkRootless refuses, before anything is made, what an unprivileged
// caller can't do. It does nothing for root.
func checkRootless(s *specs.Spec, root string) error {
	if !Unprivileged() {
		return nil
	}
	if err := checkRootlessRoot(root); err != nil {
		return err
	}
	l := s.Linux
	if l == nil {
		l = &specs.Linux{}
	}
	userNS := false
	for i, ns := range l.Namespaces {
		switch ns.Type {
		case specs.UserNamespace:
			userNS = true
		case specs.TimeNamespace:
			if ns.Path == "" {
				return fmt.Errorf("linux.namespaces[%d]: rt runs rootless (as %s) and can't make a time namespace "+
					"(unshare needs CAP_SYS_TIME on the host); remove it", i, callerName())
			}
		}
	}
	if !userNS {
		return fmt.Errorf("linux.namespaces: rt runs rootless (as %s) and needs a user namespace: add {\"type\": \"user\"} "+
			"with linux.uidMappings and linux.gidMappings (`rt spec --rootless` writes such a config)", callerName())
	}
	for i, m := range s.Mounts {
		opts, err := spec.ParseMountOptions(m.Options)
		if err == nil && (opts.IDMap || len(m.UIDMappings) > 0) {
			return fmt.Errorf("mounts[%d]: rt runs rootless (as %s) and can't make idmapped mounts "+
				"(mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN on the host)", i, callerName())
		}
	}
	if len(l.NetDevices) > 0 {
		return fmt.Errorf("linux.netDevices: rt runs rootless (as %s) and can't move host network devices (needs CAP_NET_ADMIN on the host)", callerName())
	}
	if l.IntelRdt != nil {
		return fmt.Errorf("linux.intelRdt: rt runs rootless (as %s) and can't create resctrl groups (needs root)", callerName())
	}
	for i, d := range l.Devices {
		if err := checkRootlessDevice(d); err != nil {
			return fmt.Errorf("linux.devices[%d]: %s: %w", i, d.Path, err)
		}
	}
	return nil
}

// checkRootlessDevice: in a user namespace mknod(2) of a device node is
// refused, so the init binds the host's node of the same path instead. It
// must be that device, and the user must be able to open it.
func checkRootlessDevice(d specs.LinuxDevice) error {
	if d.Type == "p" {
		return nil // a FIFO can be made in a user namespace
	}
	var st unix.Stat_t
	if err := unix.Stat(d.Path, &st); err != nil {
		return fmt.Errorf("rt runs rootless (as %s), can't mknod, and binds the host's node instead, but: %w", callerName(), err)
	}
	want := uint32(unix.S_IFCHR)
	if d.Type == "b" {
		want = unix.S_IFBLK
	}
	if st.Mode&unix.S_IFMT != want || unix.Major(st.Rdev) != uint32(d.Major) || unix.Minor(st.Rdev) != uint32(d.Minor) {
		return fmt.Errorf("rt runs rootless (as %s), can't mknod, and binds the host's node instead, but the host's %s is not device %s %d:%d",
			callerName(), d.Path, d.Type, d.Major, d.Minor)
	}
	if err := unix.Faccessat(unix.AT_FDCWD, d.Path, unix.R_OK|unix.W_OK, unix.AT_EACCESS); err != nil {
		return fmt.Errorf("rt runs rootless (as %s) and may not open the host's %s (%w); a rootless container gets only devices its user can use",
			callerName(), d.Path, err)
	}
	return nil
}

// checkRootlessRoot explains a state root the user can't write (the
// default /run/rt without $XDG_RUNTIME_DIR).
func checkRootlessRoot(root string) error {
	for d := filepath.Clean(root); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			err := unix.Faccessat(unix.AT_FDCWD, d, unix.W_OK|unix.X_OK, unix.AT_EACCESS)
			if err == nil {
				return nil
			}
			return fmt.Errorf("--root %s: %s may not write %s (%w); set XDG_RUNTIME_DIR (rt then keeps its state in $XDG_RUNTIME_DIR/rt) or pass --root",
				root, callerName(), d, err)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--root %s: %w", root, err)
		}
		if d == "/" || d == "." {
			return nil
		}
	}
}

// deviceRulesFor is withDeviceRules, without any device rule for a rootless
// container's cgroup: writing them needs CAP_SYS_ADMIN (v1 devices.allow,
// v2 device programs), and runc ignores them rootless too. Inside a user
// namespace no device node can be made anyway; the host's file
// permissions decide what the container may open.
func deviceRulesFor(s *specs.Spec, rootless bool) *specs.LinuxResources {
	r := withDeviceRules(s)
	if rootless {
		r.Devices = nil
	}
	return r
}

// bootstrapCgroups is the cgroup layout the init mounts for the "cgroup"
// mount type: the container's own cgroups, or, for a container without a
// cgroup of its own on cgroup v2 (rootless), rt's own cgroup, where the
// container runs (the init binds it when cgroup2 can't be mounted).
func bootstrapCgroups(paths map[string]string) map[string]string {
	if len(paths) > 0 || !cgroups.IsV2() {
		return paths
	}
	if dir, err := cgroups.OwnV2Dir(); err == nil {
		return map[string]string{"": dir}
	}
	return paths
}
