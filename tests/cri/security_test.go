package cri

import (
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// restricted is the security context of a pod under the "restricted" Pod
// Security Standard, as kubelet passes it: a non-root user, a read-only root,
// no capabilities, no privilege escalation, the runtime's default seccomp
// profile, and a memory limit.
func restricted(memLimit int64) *runtimeapi.LinuxContainerConfig {
	return &runtimeapi.LinuxContainerConfig{
		Resources: &runtimeapi.LinuxContainerResources{
			MemoryLimitInBytes: memLimit, MemorySwapLimitInBytes: memLimit,
		},
		SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
			RunAsUser:      &runtimeapi.Int64Value{Value: 1000},
			RunAsGroup:     &runtimeapi.Int64Value{Value: 1000},
			ReadonlyRootfs: true,
			Capabilities:   &runtimeapi.Capability{DropCapabilities: []string{"ALL"}},
			NoNewPrivs:     true,
			Seccomp:        &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault},
		},
	}
}

// TestSecurityContext checks each part of a restricted security context from
// inside the container, and that a container breaking its memory limit is
// reported with the reason OOMKilled (the shim watches the container's memory
// cgroup that rt made).
func TestSecurityContext(t *testing.T) {
	need(t)
	p := runPod(t, t, "secure", &runtimeapi.LinuxSandboxSecurityContext{
		Seccomp: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault},
	})
	id := p.run(t, "restricted", []string{"sleep", "3600"}, restricted(64*mi))
	wantRtState(t, id, "running")

	t.Run("RunAsUser", func(t *testing.T) {
		if got := out(t, id, "id", "-u"); got != "1000" {
			t.Errorf("uid %s, want 1000", got)
		}
		if got := out(t, id, "id", "-g"); got != "1000" {
			t.Errorf("gid %s, want 1000", got)
		}
	})
	t.Run("ReadOnlyRootFilesystem", func(t *testing.T) {
		_, e, c := execSync(t, id, "touch", "/rt-cri-probe")
		if c == 0 || !strings.Contains(e, "Read-only file system") {
			t.Errorf("touch /rt-cri-probe: exit %d, stderr %q: want EROFS", c, e)
		}
		if got := out(t, id, "sh", "-c", "grep ' / ' /proc/mounts"); !strings.Contains(got, " ro,") && !strings.Contains(got, " ro ") {
			t.Errorf("root mount %q is not read-only", got)
		}
	})
	t.Run("CapabilitiesDropAll", func(t *testing.T) {
		st := procStatus(t, id)
		for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
			if st[k] != "0000000000000000" {
				t.Errorf("%s %s, want none", k, st[k])
			}
		}
		if st["NoNewPrivs"] != "1" {
			t.Errorf("NoNewPrivs %q, want 1", st["NoNewPrivs"])
		}
	})
	t.Run("SeccompRuntimeDefault", func(t *testing.T) {
		if st := procStatus(t, id); st["Seccomp"] != "2" || st["Seccomp_filters"] == "0" {
			t.Errorf("Seccomp %q, filters %q: want mode 2 (filter)", st["Seccomp"], st["Seccomp_filters"])
		}
		// unshare(CLONE_NEWUSER) needs no capability, but the default profile
		// allows unshare only with CAP_SYS_ADMIN
		if _, e, c := execSync(t, id, "unshare", "-U", "true"); c == 0 || !strings.Contains(e, "Operation not permitted") {
			t.Errorf("unshare -U under RuntimeDefault: exit %d, stderr %q: want EPERM", c, e)
		}
	})
	t.Run("MemoryLimitOOMKilled", func(t *testing.T) {
		// the shell doubles a string until the memory cgroup's OOM killer
		// ends it (no swap: swap limit = memory limit)
		oom := p.run(t, "oom", []string{"sh", "-c", "x=a; while :; do x=$x$x; done"}, restricted(32*mi))
		st := waitExited(t, oom, 60*time.Second)
		if st.GetReason() != "OOMKilled" || st.GetExitCode() != 137 {
			t.Errorf("exit code %d, reason %q, message %q: want 137 OOMKilled", st.GetExitCode(), st.GetReason(), st.GetMessage())
		}
	})
}

// procStatus is the container's /proc/self/status as a map.
func procStatus(t *testing.T, id string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range strings.Split(out(t, id, "cat", "/proc/self/status"), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}
