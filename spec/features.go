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
	Seccomp            bool // built with libseccomp
}

// Features is the runtime-spec features document of this build: only what
// rt really implements (rt refuses the rest with a clear error).
func Features(h Host) *features.Features {
	f, t := false, true
	caps := CapNames()
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  MountOptionNames(),
		Linux: &features.Linux{
			Namespaces:   []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"},
			Capabilities: caps,
			Cgroup: &features.Cgroup{
				V1: &h.CgroupV1, V2: &h.CgroupV2, Systemd: &f, SystemdUser: &f, Rdma: boolPtr(true),
			},
			Seccomp:         seccompFeatures(h.Seccomp),
			Apparmor:        &features.Apparmor{Enabled: &h.AppArmor},
			Selinux:         &features.Selinux{Enabled: &h.SELinux},
			IntelRdt:        &features.IntelRdt{Enabled: &t, Schemata: &t, Monitoring: &f}, // needs resctrl
			MemoryPolicy:    memoryPolicyFeatures(),
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: boolPtr(true)}},
			NetDevices:      &features.NetDevices{Enabled: &t},
		},
		Annotations: map[string]string{
			"org.opencontainers.runc.checkpoint.enabled": "false",
		},
		PotentiallyUnsafeConfigAnnotations: nil,
	}
}

// memoryPolicyFeatures lists the linux.memoryPolicy modes and flags.
func memoryPolicyFeatures() *features.MemoryPolicy {
	m := &features.MemoryPolicy{}
	for k := range MemoryPolicyModes {
		m.Modes = append(m.Modes, string(k))
	}
	for k := range MemoryPolicyFlags {
		m.Flags = append(m.Flags, string(k))
	}
	sort.Strings(m.Modes)
	sort.Strings(m.Flags)
	return m
}

func boolPtr(b bool) *bool { return &b }

// seccompFeatures lists what linux.seccomp accepts in this build.
func seccompFeatures(enabled bool) *features.Seccomp {
	if !enabled {
		return &features.Seccomp{Enabled: &enabled}
	}
	return &features.Seccomp{
		Enabled: &enabled,
		Actions: []string{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
			"SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"},
		Operators: []string{"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
			"SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"},
		Archs: []string{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
			"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
			"SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64",
			"SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390",
			"SCMP_ARCH_S390X", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB", "SCMP_ARCH_X32", "SCMP_ARCH_X86",
			"SCMP_ARCH_X86_64"},
		KnownFlags: []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
			"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"},
		// TSYNC is accepted and needs nothing: the filter is loaded on the
		// thread that execs, which leaves no other thread.
		SupportedFlags: []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
			"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"},
	}
}
