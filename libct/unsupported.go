package libct

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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
			if err := notOwnMountNS(i, ns.Path); err != nil {
				return err
			}
		}
	}
	return nil
}

// notOwnMountNS refuses joining rt's own mount namespace (the host's,
// usually): the rootfs would be mounted and pivoted into there.
func notOwnMountNS(i int, path string) error {
	var theirs, ours unix.Stat_t
	if unix.Stat(path, &theirs) != nil || unix.Stat("/proc/self/ns/mnt", &ours) != nil {
		return nil // planNamespaces reports a bad path
	}
	if theirs.Ino == ours.Ino && theirs.Dev == ours.Dev {
		return fmt.Errorf("linux.namespaces[%d].path: %s is rt's own mount namespace; the container's rootfs would be mounted and pivoted into it", i, path)
	}
	return nil
}
