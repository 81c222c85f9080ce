package libct

import (
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
