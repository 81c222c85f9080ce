package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/spec"
)

// cgroupMount mounts the "cgroup" type. On cgroup v2 it is a cgroup2 mount
// (the container has its own cgroup namespace, or sees the host's tree).
// On v1 it is a tmpfs holding, per v1 hierarchy, a bind of the container's
// own cgroup directory, as runc does; co-mounted controllers get symlinks.
func cgroupMount(root *os.File, c *Config, dest string, opts spec.MountOptions) error {
	target, err := mkdirIn(root, dest, 0o755)
	if err != nil {
		return err
	}
	defer target.Close()
	if c.CgroupV2 {
		err := mountAt("cgroup2", target, "cgroup2", opts.Flags, "")
		if err == unix.EPERM || err == unix.EBUSY {
			// A user namespace can't mount cgroup2 without a cgroup
			// namespace (EPERM), nor over the host's cgroup2 that a /sys
			// rbind brought (EBUSY): bind the container's own cgroup, as
			// runc does.
			if c.CgroupPaths[""] == "" {
				return fmt.Errorf("cgroup2 can't be mounted here (%w) and the container has no cgroup of its own to bind: add a cgroup namespace to linux.namespaces", err)
			}
			opts.Recursive = false
			return bindMount(root, c, specs.Mount{Source: c.CgroupPaths[""]}, dest, opts)
		}
		return err
	}
	ro := opts.Flags&unix.MS_RDONLY != 0
	tflags := opts.Flags &^ unix.MS_RDONLY
	// The tmpfs is made detached and attached onto target's handle: the
	// handle fsmount gave is then the one everything below goes through,
	// relative to it, so nothing is resolved in the rootfs again (whoever
	// can write the rootfs, another container sharing it, could swap a
	// path component for a symlink in between).
	tmp, err := freshTmpfsAt(target, tflags)
	if err != nil {
		return fmt.Errorf("cgroup mount at %s: %w", dest, err)
	}
	defer tmp.Close()
	tfd := int(tmp.Fd())
	hier, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup"))
	if err != nil {
		return err
	}
	sort.Slice(hier, func(i, j int) bool { return hier[i].Mountpoint < hier[j].Mountpoint })
	fl := opts.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
	seen := map[string]bool{}
	for _, h := range hier {
		src := ""
		for _, p := range c.CgroupPaths {
			if strings.HasPrefix(p, h.Mountpoint+"/") || p == h.Mountpoint {
				src = p
				break
			}
		}
		if src == "" {
			continue
		}
		name := filepath.Base(h.Mountpoint)
		if seen[name] {
			continue // one hierarchy mounted at two places
		}
		seen[name] = true
		if err := bindCgroupV1(tfd, name, src, fl); err != nil {
			return err
		}
		if strings.Contains(name, ",") {
			for _, part := range strings.Split(name, ",") {
				unix.Symlinkat(name, tfd, part)
			}
		}
	}
	if ro {
		if err := unix.Mount("", procFd(tmp), "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|preservedFlags(tmp), ""); err != nil {
			return fmt.Errorf("remount %s read-only: %w", dest, err)
		}
	}
	return nil
}

// freshTmpfsAt makes a tmpfs (mode 755) with flags, detached, attaches it
// onto the object target refers to, and returns the handle of its root.
func freshTmpfsAt(target *os.File, flags uintptr) (*os.File, error) {
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsopen tmpfs: %w", err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "mode", "755"); err != nil {
		return nil, fmt.Errorf("tmpfs mode: %w", err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return nil, fmt.Errorf("create tmpfs: %w", err)
	}
	mnt, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, fsmountAttrs(flags))
	if err != nil {
		return nil, fmt.Errorf("fsmount tmpfs: %w", err)
	}
	if err := unix.MoveMount(mnt, "", int(target.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		unix.Close(mnt)
		return nil, fmt.Errorf("attach tmpfs: %w", err)
	}
	return os.NewFile(uintptr(mnt), "tmpfs"), nil
}

// bindCgroupV1 binds the host cgroup directory src at name in the tmpfs
// tfd, then applies fl (nosuid, read-only, ...) to the bind.
func bindCgroupV1(tfd int, name, src string, fl uintptr) error {
	if err := unix.Mkdirat(tfd, name, 0o755); err != nil && err != unix.EEXIST {
		return fmt.Errorf("cgroup %s: mkdir: %w", name, err)
	}
	// A plain directory of our tmpfs: no symlink, no other mount.
	sub, err := openBeneath(tfd, name, unix.RESOLVE_NO_SYMLINKS|unix.RESOLVE_NO_XDEV)
	if err != nil {
		return fmt.Errorf("cgroup %s: %w", name, err)
	}
	srcfd, err := unix.Open(src, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(sub)
		return fmt.Errorf("cgroup %s: %w", src, err)
	}
	err = unix.Mount(fdPath(srcfd), fdPath(sub), "", unix.MS_BIND|unix.MS_REC, "")
	unix.Close(srcfd)
	unix.Close(sub)
	if err != nil {
		return fmt.Errorf("bind cgroup %s: %w", src, err)
	}
	if fl == 0 {
		return nil
	}
	// The bind's root now (crossing into it).
	b, err := openBeneath(tfd, name, unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return fmt.Errorf("cgroup %s: %w", name, err)
	}
	defer unix.Close(b)
	if err := unix.Mount("", fdPath(b), "", unix.MS_BIND|unix.MS_REMOUNT|fl|preservedFlagsFd(b), ""); err != nil {
		return fmt.Errorf("remount cgroup %s: %w", name, err)
	}
	return nil
}

// openBeneath opens dirfd/name (one component) as an O_PATH directory.
func openBeneath(dirfd int, name string, resolve uint64) (int, error) {
	for {
		fd, err := unix.Openat2(dirfd, name, &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC,
			Resolve: resolve | unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "openat2", Path: name, Err: err}
		}
		return fd, nil
	}
}
