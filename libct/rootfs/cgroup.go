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
	hier, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup"))
	if err != nil {
		return err
	}
	sort.Slice(hier, func(i, j int) bool { return hier[i].Mountpoint < hier[j].Mountpoint })
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
		sub := filepath.Join(dest, name)
		t, err := mkdirIn(root, sub, 0o755)
		if err != nil {
			return err
		}
		srcf, err := os.OpenFile(src, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Close()
			return fmt.Errorf("cgroup %s: %w", src, err)
		}
		err = mountAt(procFd(srcf), t, "", unix.MS_BIND|unix.MS_REC, "")
		srcf.Close()
		t.Close()
		if err != nil {
			return fmt.Errorf("bind cgroup %s: %w", src, err)
		}
		fl := opts.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
		if fl != 0 {
			t, err = openIn(root, sub)
			if err != nil {
				return err
			}
			err = unix.Mount("", procFd(t), "", unix.MS_BIND|unix.MS_REMOUNT|fl|preservedFlags(t), "")
			t.Close()
			if err != nil {
				return fmt.Errorf("remount cgroup %s: %w", sub, err)
			}
		}
		if strings.Contains(name, ",") {
			for _, part := range strings.Split(name, ",") {
				d, err := openIn(root, dest)
				if err != nil {
					return err
				}
				unix.Symlinkat(name, int(d.Fd()), part)
				d.Close()
			}
		}
	}
	if ro {
		t, err := openIn(root, dest)
		if err != nil {
			return err
		}
		defer t.Close()
		if err := unix.Mount("", procFd(t), "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|preservedFlags(t), ""); err != nil {
			return fmt.Errorf("remount %s read-only: %w", dest, err)
		}
	}
	return nil
}
