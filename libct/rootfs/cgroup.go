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
	if err := mountAt("tmpfs", target, "tmpfs", tflags, "mode=755"); err != nil {
		return err
	}
	// Everything below happens in that fresh tmpfs, through one handle of
	// it: it is ours alone (this mount namespace, no container process
	// yet), so its entries are made and opened relative to it, without
	// resolving dest in the rootfs again for each hierarchy.
	tmp, err := openInFlags(root, dest, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer tmp.Close()
	if err := isFreshTmpfs(tmp); err != nil {
		return fmt.Errorf("cgroup mount at %s: %w", dest, err)
	}
	tfd := int(tmp.Fd())
	hier, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup"))
	if err != nil {
		return err
	}
	sort.Slice(hier, func(i, j int) bool { return hier[i].Mountpoint < hier[j].Mountpoint })
	fl := opts.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
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

// isFreshTmpfs checks that f is the root of an empty tmpfs (the one just
// mounted).
func isFreshTmpfs(f *os.File) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return err
	}
	if st.Type != unix.TMPFS_MAGIC {
		return fmt.Errorf("not the tmpfs just mounted (filesystem type %#x)", st.Type)
	}
	return nil
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
	var st unix.Statfs_t
	keep := uintptr(0)
	if unix.Fstatfs(b, &st) == nil {
		keep = uintptr(st.Flags) & preservedMask
	}
	if err := unix.Mount("", fdPath(b), "", unix.MS_BIND|unix.MS_REMOUNT|fl|keep, ""); err != nil {
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
