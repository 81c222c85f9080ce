package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/spec"
)

// Config is what Setup needs.
type Config struct {
	Spec        *specs.Spec
	Rootfs      string // absolute path of root.path on the host
	Bundle      string
	NoPivot     bool
	CgroupPaths map[string]string
	CgroupV2    bool
	// BeforePivot runs after the mounts and /dev, in the container's mount
	// namespace, before the sysctls, masks and pivot_root (the hooks' moment).
	BeforePivot func() error
	// IDMapped: mounts[] index -> a detached idmapped mount made by the
	// host, attached in place of the bind (mount.go).
	IDMapped map[int]int
	// CowRootfs puts a copy-on-write overlay over Rootfs before anything
	// is mounted (cow.go); its upper layer is a tmpfs of CowSize ("" is
	// as large as RAM), or the host directory CowDir when set.
	CowRootfs bool
	CowSize   string
	CowDir    string
	// SharedAt: the container has no mount namespace of its own
	// (spec.SharesHostMounts). The propagation of / and of the rootfs's
	// parent mount stay as they are (they are the host's); the rootfs is
	// bound at SharedAt (a directory of rt's state dir), everything is
	// mounted below that bind, which Setup detaches again if it fails
	// (delete does after a create, libct/hostroot.go), and the init
	// chroots into it instead of pivot_root.
	SharedAt string
}

// Setup builds the root filesystem and enters it. It must run in the
// container's fresh mount namespace (or, with SharedAt, the runtime's),
// on the thread that will exec.
func Setup(c *Config) error {
	if c.SharedAt != "" {
		return setupShared(c)
	}
	if err := prepareRoot(c); err != nil {
		return err
	}
	if c.CowRootfs {
		if err := mountCowRoot(c); err != nil {
			return err
		}
	}
	if err := bindRootfs(c); err != nil {
		return err
	}
	if err := build(c); err != nil {
		return err
	}
	var err error
	if c.NoPivot {
		err = moveRoot(c.Rootfs)
	} else {
		err = pivotRoot(c.Rootfs)
	}
	return wrapNil(err, func(err error) error { return fieldErr("root.path", err) })
}

// prepareRoot sets the propagation of / (linux.rootfsPropagation, rslave
// by default) and makes the rootfs's parent mount private, in the
// container's own mount namespace.
func prepareRoot(c *Config) error {
	rootProp := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if l := c.Spec.Linux; l != nil && l.RootfsPropagation != "" {
		p, err := spec.Propagation(l.RootfsPropagation)
		if err != nil {
			return fieldErr("linux.rootfsPropagation", err)
		}
		rootProp = p
	}
	if rootProp&unix.MS_UNBINDABLE != 0 {
		// An unbindable / could not give the rootfs bind below; Finish
		// applies it after pivot_root.
		rootProp = unix.MS_SLAVE | unix.MS_REC
	}
	if err := unix.Mount("", "/", "", rootProp, ""); err != nil {
		return fieldErr("linux.rootfsPropagation", fmt.Errorf("set propagation of /: %w", err))
	}
	return parentPrivate(c.Rootfs)
}

// setupShared binds the rootfs at c.SharedAt (rt's directory, in the
// shared mount namespace), builds the root below that bind, leaving every
// existing mount's propagation alone, and chroots into it. A failure
// detaches the bind and everything below it.
func setupShared(c *Config) (err error) {
	if c.CowRootfs {
		return fieldErr("linux.namespaces", errors.New("a copy-on-write root needs a new mount namespace"))
	}
	if err := unix.Mount(c.Rootfs, c.SharedAt, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fieldErr("root.path", fmt.Errorf("bind %s at %s: %w", c.Rootfs, c.SharedAt, err))
	}
	defer func() {
		if err != nil {
			unix.Unmount(c.SharedAt, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
		}
	}()
	at := *c
	at.Rootfs = c.SharedAt
	if err := build(&at); err != nil {
		return err
	}
	return Chroot(c.SharedAt)
}

// bindRootfs binds the rootfs onto itself: the mount that is entered.
func bindRootfs(c *Config) error {
	if err := unix.Mount(c.Rootfs, c.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fieldErr("root.path", fmt.Errorf("bind %s: %w", c.Rootfs, err))
	}
	return nil
}

// build mounts everything below the bound rootfs: mounts[], /dev, the
// hooks' moment, sysctls, read-only and masked paths.
func build(c *Config) error {
	s := c.Spec
	var lin specs.Linux
	if s.Linux != nil {
		lin = *s.Linux
	}
	root, err := os.OpenFile(c.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fieldErr("root.path", err)
	}
	defer root.Close()

	devBound := false
	for i, m := range s.Mounts {
		if err := mountOne(root, c, i, m); err != nil {
			return err
		}
		if filepath.Clean(m.Destination) == "/dev" && isBind(m) {
			devBound = true
		}
	}
	if !devBound {
		if err := setupDev(root, lin.Devices); err != nil {
			return err
		}
	}
	if c.BeforePivot != nil {
		if err := c.BeforePivot(); err != nil {
			return err
		}
	}
	// Sysctls, then read-only and masked paths, still before pivot_root:
	// every path is resolved in the rootfs and mounted through the host's
	// /proc, never through a /proc the image controls.
	if err := setSysctls(root, lin.Sysctl); err != nil {
		return err
	}
	for i, p := range lin.ReadonlyPaths {
		if err := readonlyPath(root, p); err != nil {
			return fieldErr(fmt.Sprintf("linux.readonlyPaths[%d]", i), err)
		}
	}
	for i, p := range lin.MaskedPaths {
		if err := maskPath(root, p); err != nil {
			return fieldErr(fmt.Sprintf("linux.maskedPaths[%d]", i), err)
		}
	}
	return nil
}

// Finish runs after pivot_root: the read-only root and the final root
// propagation.
func Finish(s *specs.Spec) error {
	if s.Root != nil && s.Root.Readonly {
		if err := readonlyRoot(); err != nil {
			return fieldErr("root.readonly", err)
		}
	}
	if s.Linux != nil && s.Linux.RootfsPropagation != "" {
		p, _ := spec.Propagation(s.Linux.RootfsPropagation)
		if err := unix.Mount("", "/", "", p, ""); err != nil {
			return fieldErr("linux.rootfsPropagation", err)
		}
	}
	return nil
}

func isBind(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// parentPrivate makes the mount holding rootfs private if it is shared:
// pivot_root refuses a new root whose parent mount is shared.
func parentPrivate(rootfs string) error {
	infos, err := mountinfo.GetMounts(mountinfo.ParentsFilter(rootfs))
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	var best *mountinfo.Info
	for _, m := range infos {
		if best == nil || len(m.Mountpoint) > len(best.Mountpoint) {
			best = m
		}
	}
	if best == nil || !strings.Contains(best.Optional, "shared:") {
		return nil
	}
	if err := unix.Mount("", best.Mountpoint, "", unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make %s private: %w", best.Mountpoint, err)
	}
	return nil
}
