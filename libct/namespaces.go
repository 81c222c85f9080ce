package libct

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/nsenter"
)

var nsFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// joinOrder: the user namespace first (the others may be owned by it),
// the mount namespace last.
var joinOrder = []specs.LinuxNamespaceType{
	specs.UserNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.NetworkNamespace,
	specs.PIDNamespace, specs.CgroupNamespace, specs.TimeNamespace, specs.MountNamespace,
}

// nsPlan is how the init gets its namespaces.
type nsPlan struct {
	clone uintptr // namespaces created at clone
	join  []nsenter.Join
	// cgroupNS: the init unshares its cgroup namespace itself, once it is
	// in its cgroup (cgroup v1, where CLONE_INTO_CGROUP can't be used).
	cgroupNS bool
}

func (p *nsPlan) close() {
	for _, j := range p.join {
		unix.Close(j.Fd)
	}
	p.join = nil
}

// planNamespaces opens every namespace path of linux.namespaces (checking
// it is a namespace of the right type) and collects the flags of the new
// ones. Nothing is changed on the host.
func planNamespaces(s *specs.Spec) (*nsPlan, error) {
	p := &nsPlan{}
	if s.Linux == nil {
		return p, nil
	}
	byType := map[specs.LinuxNamespaceType]nsenter.Join{}
	for i, ns := range s.Linux.Namespaces {
		flag, ok := nsFlags[ns.Type]
		if !ok {
			p.close()
			return nil, fmt.Errorf("linux.namespaces[%d].type: unknown namespace %q", i, ns.Type)
		}
		if ns.Path == "" {
			p.clone |= flag
			continue
		}
		fd, err := unix.Open(ns.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			p.closeMap(byType)
			return nil, fmt.Errorf("linux.namespaces[%d].path: %w", i, &os.PathError{Op: "open", Path: ns.Path, Err: err})
		}
		t, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
		if err != nil || uintptr(t) != flag {
			unix.Close(fd)
			p.closeMap(byType)
			return nil, fmt.Errorf("linux.namespaces[%d].path: %s is not the %s namespace asked for", i, ns.Path, ns.Type)
		}
		byType[ns.Type] = nsenter.Join{Type: flag, Fd: fd, Path: ns.Path}
	}
	for _, t := range joinOrder {
		if j, ok := byType[t]; ok {
			p.join = append(p.join, j)
		}
	}
	return p, nil
}

func (p *nsPlan) closeMap(m map[specs.LinuxNamespaceType]nsenter.Join) {
	for _, j := range m {
		unix.Close(j.Fd)
	}
}

// joinsCgroupNS reports whether the raw child joins a cgroup namespace
// before its clone: cgroup v2 then refuses CLONE_INTO_CGROUP from rt's
// cgroup, outside that namespace (ENOENT with nsdelegate).
func joinsCgroupNS(joins []nsenter.Join) bool {
	for _, j := range joins {
		if j.Type == unix.CLONE_NEWCGROUP {
			return true
		}
	}
	return false
}
