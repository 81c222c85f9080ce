package libct

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// unsupported refuses config fields this build does not implement yet,
// rather than silently running a container weaker than asked for.
func unsupported(s *specs.Spec) error {
	if s.Linux == nil {
		return nil
	}
	// linux.intelRdt needs resctrl on the host (libct/intelrdt.go).
	if err := checkIntelRdt(s.Linux.IntelRdt); err != nil {
		return err
	}
	if err := unsupportedResources(s.Linux.Resources); err != nil {
		return err
	}
	for i, ns := range s.Linux.Namespaces {
		if ns.Type == specs.MountNamespace && ns.Path != "" {
			if err := joinedMountNS(s, i); err != nil {
				return err
			}
		}
	}
	return nil
}

// joinedMountNS: a container that joins an existing mount namespace uses
// it as it is; the filesystem fields would not be applied, so asking for
// them (hardening included) is an error rather than silently ignored.
func joinedMountNS(s *specs.Spec, i int) error {
	bad := ""
	switch {
	case len(s.Mounts) > 0:
		bad = "mounts"
	case len(s.Linux.MaskedPaths) > 0:
		bad = "linux.maskedPaths"
	case len(s.Linux.ReadonlyPaths) > 0:
		bad = "linux.readonlyPaths"
	case len(s.Linux.Devices) > 0:
		bad = "linux.devices"
	case s.Root != nil && s.Root.Readonly:
		bad = "root.readonly"
	case s.Linux.RootfsPropagation != "":
		bad = "linux.rootfsPropagation"
	}
	if bad != "" {
		return fmt.Errorf("%s: not applied when joining the mount namespace of linux.namespaces[%d].path; remove it", bad, i)
	}
	return nil
}

// unsupportedResources refuses limits the cgroup code does not write yet
// (zero values, which engines send for "unset", pass).
func unsupportedResources(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if len(r.HugepageLimits) > 0 {
		return errors.New("linux.resources.hugepageLimits: not supported yet")
	}
	if r.Network != nil && (r.Network.ClassID != nil || len(r.Network.Priorities) > 0) {
		return errors.New("linux.resources.network: not supported yet")
	}
	if len(r.Rdma) > 0 {
		return errors.New("linux.resources.rdma: not supported yet")
	}
	if b := r.BlockIO; b != nil {
		switch {
		case len(b.WeightDevice) > 0:
			return errors.New("linux.resources.blockIO.weightDevice: not supported yet")
		case len(b.ThrottleReadBpsDevice)+len(b.ThrottleWriteBpsDevice)+len(b.ThrottleReadIOPSDevice)+len(b.ThrottleWriteIOPSDevice) > 0:
			return errors.New("linux.resources.blockIO.throttle*: not supported yet")
		case b.LeafWeight != nil && *b.LeafWeight != 0:
			return errors.New("linux.resources.blockIO.leafWeight: not supported yet")
		}
	}
	if c := r.CPU; c != nil {
		switch {
		case c.Burst != nil && *c.Burst != 0:
			return errors.New("linux.resources.cpu.burst: not supported yet")
		case (c.RealtimeRuntime != nil && *c.RealtimeRuntime != 0) || (c.RealtimePeriod != nil && *c.RealtimePeriod != 0):
			return errors.New("linux.resources.cpu.realtimeRuntime: not supported yet")
		case c.Idle != nil && *c.Idle != 0:
			return errors.New("linux.resources.cpu.idle: not supported yet")
		}
	}
	return nil
}
