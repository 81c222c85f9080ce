package spec

import (
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// MountOptionNames lists every mount option ParseMountOptions knows.
func MountOptionNames() []string {
	var out []string
	for k := range mountFlags {
		out = append(out, k)
	}
	for k := range propagations {
		out = append(out, k)
	}
	for k := range recAttrs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Host is what `features` reports about the machine and build.
type Host struct {
	CgroupV1, CgroupV2 bool
	Systemd            bool
	AppArmor, SELinux  bool
}

// Features is the runtime-spec features document of this build: only what
// rt really implements (rt refuses the rest with a clear error).
func Features(h Host) *features.Features {
	f := false
	caps := CapNames()
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  MountOptionNames(),
		Linux: &features.Linux{
			Namespaces:   []string{"cgroup", "ipc", "mount", "network", "pid", "uts"},
			Capabilities: caps,
			Cgroup: &features.Cgroup{
				V1: &h.CgroupV1, V2: &h.CgroupV2, Systemd: &f, SystemdUser: &f, Rdma: &f,
			},
			Seccomp:         &features.Seccomp{Enabled: &f},
			Apparmor:        &features.Apparmor{Enabled: &h.AppArmor},
			Selinux:         &features.Selinux{Enabled: &h.SELinux},
			IntelRdt:        &features.IntelRdt{Enabled: &f},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &f}},
			NetDevices:      &features.NetDevices{Enabled: &f},
		},
		Annotations: map[string]string{
			"org.opencontainers.runc.checkpoint.enabled": "false",
		},
		PotentiallyUnsafeConfigAnnotations: nil,
	}
}
