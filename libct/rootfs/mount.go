package rootfs

import (
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/selinux/go-selinux"
	"github.com/opencontainers/selinux/go-selinux/label"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/spec"
)

// mountOne performs mounts[i].
func mountOne(root *os.File, c *Config, i int, m specs.Mount) error {
	field := fmt.Sprintf("mounts[%d]", i)
	opts, err := spec.ParseMountOptions(m.Options)
	if err != nil {
		return fieldErr(field+".options", err)
	}
	dest := m.Destination
	if !filepath.IsAbs(dest) {
		dest = "/" + dest
	}
	var wrap = func(err error) error {
		return fmt.Errorf("%s: mount %s (%s) on %s: %w", field, m.Source, m.Type, m.Destination, err)
	}
	if m.Type == "overlay" {
		return wrapNil(overlayMount(root, c, m, dest, opts), wrap)
	}
	if fd, ok := c.IDMapped[i]; ok {
		return wrapNil(attachIDMapped(root, fd, dest, opts), wrap)
	}
	if m.Type == "bind" || opts.Bind {
		return wrapNil(bindMount(root, c, m, dest, opts), wrap)
	}
	if m.Type == "cgroup" {
		return wrapNil(cgroupMount(root, c, dest, opts), wrap)
	}
	target, err := mkdirIn(root, dest, 0o755)
	if err != nil {
		return wrap(err)
	}
	defer target.Close()
	flags := opts.Flags
	data := withMountLabel(c.Spec, m.Type, opts.Data)
	if opts.TmpCopyUp && m.Type == "tmpfs" {
		return wrapNil(tmpfsWithCopyUp(root, target, m, dest, opts, data), wrap)
	}
	if err := mountAt(m.Source, target, m.Type, flags, data); err != nil {
		if m.Type == "sysfs" && err == unix.EPERM {
			// A user namespace without its own network namespace can't
			// mount sysfs: bind the host's /sys recursively, as runc does;
			// read-only then means every mount below it too.
			m.Source, opts.Recursive = "/sys", true
			if flags&unix.MS_RDONLY != 0 {
				opts.RecAttrSet |= unix.MOUNT_ATTR_RDONLY
			}
			return wrapNil(bindMount(root, c, m, dest, opts), wrap)
		}
		return wrap(err)
	}
	return wrapNil(afterMount(root, dest, opts), wrap)
}

// tmpfsWithCopyUp mounts a tmpfs holding a copy of what target held
// ("tmpcopyup"): mounted writable, filled, then remounted read-only if
// the options ask for it.
func tmpfsWithCopyUp(root, target *os.File, m specs.Mount, dest string, opts spec.MountOptions, data string) error {
	under, err := openInFlags(root, dest, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer under.Close()
	if err := mountAt(m.Source, target, m.Type, opts.Flags&^unix.MS_RDONLY, data); err != nil {
		return err
	}
	top, err := openInFlags(root, dest, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer top.Close()
	if err := tmpfsCopyUp(under, top); err != nil {
		return err
	}
	if opts.Flags&unix.MS_RDONLY != 0 {
		if err := unix.Mount("", procFd(top), "", unix.MS_REMOUNT|opts.Flags, data); err != nil {
			return fmt.Errorf("remount read-only after tmpcopyup: %w", err)
		}
	}
	return afterMount(root, dest, opts)
}

// withMountLabel adds linux.mountLabel as the context= option of the
// filesystems that take one, when SELinux is enabled (otherwise the label
// is ignored, as runc does).
func withMountLabel(s *specs.Spec, fstype, data string) string {
	if s.Linux == nil || s.Linux.MountLabel == "" || !selinux.GetEnabled() {
		return data
	}
	switch fstype {
	case "proc", "sysfs", "cgroup", "cgroup2", "mqueue", "overlay":
		return data
	}
	return label.FormatMountLabel(data, s.Linux.MountLabel)
}

// afterMount applies propagation flags and recursive attributes to the
// mount now at dest.
func afterMount(root *os.File, dest string, opts spec.MountOptions) error {
	if len(opts.Propagation) == 0 && opts.RecAttrSet == 0 && opts.RecAttrClr == 0 {
		return nil
	}
	f, err := openIn(root, dest)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range opts.Propagation {
		if err := unix.Mount("", procFd(f), "", p, ""); err != nil {
			return fmt.Errorf("set propagation: %w", err)
		}
	}
	if opts.RecAttrSet != 0 || opts.RecAttrClr != 0 {
		attr := &unix.MountAttr{Attr_set: opts.RecAttrSet, Attr_clr: opts.RecAttrClr}
		if err := unix.MountSetattr(int(f.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr); err != nil {
			return fmt.Errorf("mount_setattr: %w", err)
		}
	}
	return nil
}

func bindMount(root *os.File, c *Config, m specs.Mount, dest string, opts spec.MountOptions) error {
	src := m.Source
	if !filepath.IsAbs(src) {
		src = filepath.Join(c.Bundle, src)
	}
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	var target *os.File
	if st.IsDir() {
		target, err = mkdirIn(root, dest, 0o755)
	} else {
		target, err = mkfileIn(root, dest)
	}
	if err != nil {
		return err
	}
	defer target.Close()
	flags := uintptr(unix.MS_BIND)
	if opts.Recursive {
		flags |= unix.MS_REC
	}
	srcf, err := os.OpenFile(src, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer srcf.Close()
	if err := mountAt(procFd(srcf), target, "", flags, ""); err != nil {
		return err
	}
	return remountBind(root, dest, opts)
}

// attachIDMapped moves a detached idmapped mount (made by the host) to
// dest, then applies the options as for a bind.
func attachIDMapped(root *os.File, fd int, dest string, opts spec.MountOptions) error {
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	var target *os.File
	var err error
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		target, err = mkdirIn(root, dest, 0o755)
	} else {
		target, err = mkfileIn(root, dest)
	}
	if err != nil {
		return err
	}
	defer target.Close()
	if err := unix.MoveMount(fd, "", int(target.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount of the idmapped mount: %w", err)
	}
	return remountBind(root, dest, opts)
}

// remountBind applies a bind mount's options at dest.
func remountBind(root *os.File, dest string, opts spec.MountOptions) error {
	// Flags other than bind need a remount of the new mount.
	extra := opts.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
	if extra != 0 || opts.ClearFlags != 0 {
		f, err := openIn(root, dest)
		if err != nil {
			return err
		}
		defer f.Close()
		fl := (preservedFlags(f) &^ opts.ClearFlags) | extra
		if err := unix.Mount("", procFd(f), "", unix.MS_BIND|unix.MS_REMOUNT|fl, ""); err != nil {
			return fmt.Errorf("remount with options: %w", err)
		}
	}
	return afterMount(root, dest, opts)
}

func wrapNil(err error, wrap func(error) error) error {
	if err == nil {
		return nil
	}
	return wrap(err)
}
