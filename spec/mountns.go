package spec

import specs "github.com/opencontainers/runtime-spec/specs-go"

// SharesHostMounts tells whether a container without a mount namespace of
// its own still needs its root filesystem built: mounts, masked or
// read-only paths, devices or a read-only root. rt then binds the rootfs
// onto itself in the shared (runtime's) mount namespace, mounts below that
// bind, chroots into it, and unmounts the bind at delete. Without any of
// these fields the init only chroots and mounts nothing.
func SharesHostMounts(s *specs.Spec) bool {
	if s == nil || s.Linux == nil {
		return false
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.MountNamespace {
			return false
		}
	}
	l := s.Linux
	return len(s.Mounts) > 0 || len(l.MaskedPaths) > 0 || len(l.ReadonlyPaths) > 0 ||
		len(l.Devices) > 0 || (s.Root != nil && s.Root.Readonly)
}
