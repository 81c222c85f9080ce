package cgroups

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// linux.resources.network: the v1 net_cls and net_prio controllers, as
// runc writes them. Cgroup v2 has neither: checkV2 refuses the fields.

func wantNetCls(r *specs.LinuxResources) string {
	if n := r.Network; n != nil && n.ClassID != nil && *n.ClassID != 0 {
		return fClassID
	}
	return ""
}

func wantNetPrio(r *specs.LinuxResources) string {
	if n := r.Network; n != nil && len(n.Priorities) > 0 {
		return fPriorities
	}
	return ""
}

// setNetCls writes net_cls.classid, the class ID (0xAAAABBBB for tc
// class AAAA:BBBB) the container's packets carry.
func setNetCls(dir string, r *specs.LinuxResources) error {
	return field(fClassID, writeFile(dir, "net_cls.classid", strconv.FormatUint(uint64(*r.Network.ClassID), 10)))
}

// setNetPrio writes one net_prio.ifpriomap line per interface. The kernel
// looks the name up in the host's initial network namespace.
func setNetPrio(dir string, r *specs.LinuxResources) error {
	for i, p := range r.Network.Priorities {
		err := writeFile(dir, "net_prio.ifpriomap", p.Name+" "+strconv.FormatUint(uint64(p.Priority), 10))
		if errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("%s[%d]: %w (the kernel looks %q up among the interfaces of the host's initial network namespace)", fPriorities, i, err, p.Name)
		}
		if err != nil {
			return fmt.Errorf("%s[%d]: %w", fPriorities, i, err)
		}
	}
	return nil
}
