package libct

import (
	"fmt"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/proto"
	"github.com/rt-oci/rt/nsenter"
	"github.com/rt-oci/rt/spec"
)

// idmappedMounts prepares, on the host, the idmapped bind mounts of
// mounts[]: for each, a detached clone of the source (open_tree) idmapped
// with mount_setattr(MOUNT_ATTR_IDMAP). The kernel wants CAP_SYS_ADMIN over
// the source's filesystem for that, which only the host side has; the
// init attaches the detached mounts in the container (move_mount). The
// user namespace giving the mapping is a fresh one with the mount's
// uidMappings/gidMappings, or, for "idmap" without them, the container's
// (its init is initPid). It returns the descriptors, close-on-exec, in
// mounts[] order, and what the bootstrap says about them.
func idmappedMounts(s *specs.Spec, bundle string, initPid int) (fds []int, list []proto.IDMapped, err error) {
	defer func() {
		if err != nil {
			closeFds(fds)
			fds, list = nil, nil
		}
	}()
	for i, m := range s.Mounts {
		opts, perr := spec.ParseMountOptions(m.Options)
		if perr != nil || (!opts.IDMap && len(m.UIDMappings) == 0) {
			continue
		}
		field := fmt.Sprintf("mounts[%d]", i)
		fd, err := idmappedMount(m, opts, bundle, initPid)
		if err != nil {
			return fds, list, fmt.Errorf("%s: idmapped mount of %s: %w", field, m.Source, err)
		}
		list = append(list, proto.IDMapped{Mount: i, Fd: len(fds)})
		fds = append(fds, fd)
	}
	return fds, list, nil
}

func idmappedMount(m specs.Mount, opts spec.MountOptions, bundle string, initPid int) (int, error) {
	var userns int
	var err error
	if len(m.UIDMappings) > 0 {
		userns, err = nsenter.UserNS(func(pid int) error {
			dir := "/proc/" + strconv.Itoa(pid) + "/"
			if err := writeIDMap(dir+"uid_map", m.UIDMappings); err != nil {
				return fmt.Errorf("uidMappings: %w", err)
			}
			if err := writeIDMap(dir+"gid_map", m.GIDMappings); err != nil {
				return fmt.Errorf("gidMappings: %w", err)
			}
			return nil
		})
	} else {
		userns, err = unix.Open("/proc/"+strconv.Itoa(initPid)+"/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return -1, err
	}
	defer unix.Close(userns)
	src := m.Source
	if !filepath.IsAbs(src) {
		src = filepath.Join(bundle, src)
	}
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if opts.Recursive {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, flags)
	if err != nil {
		return -1, fmt.Errorf("open_tree: %w", err)
	}
	setFlags := unix.AT_EMPTY_PATH
	if opts.RecursiveIDMap {
		setFlags |= unix.AT_RECURSIVE
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}
	if err := unix.MountSetattr(fd, "", uint(setFlags), attr); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("mount_setattr(MOUNT_ATTR_IDMAP): %w (does the source's filesystem support idmapped mounts?)", err)
	}
	return fd, nil
}
