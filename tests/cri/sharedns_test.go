package cri

import (
	"strconv"
	"strings"
	"testing"
)

// TestPodSharedNamespaces runs two containers in one pod: containerd hands
// rt the sandbox's network, IPC and UTS namespaces as paths
// (/proc/<pause pid>/ns/...) and rt must join them, while each container
// keeps a PID namespace of its own (kubelet's default).
func TestPodSharedNamespaces(t *testing.T) {
	need(t)
	p := runPod(t, t, "shared", nil)
	sleep := []string{"sleep", "3600"}
	a := p.run(t, "a", sleep, nil)
	b := p.run(t, "b", sleep, nil)
	pause := p.pid(t)
	st, _ := p.status(t)
	ip := st.GetNetwork().GetIp()

	t.Run("JoinedByPath", func(t *testing.T) {
		for _, id := range []string{a, b} {
			s := bundleSpec(t, id)
			for typ, want := range map[string]string{"network": "net", "ipc": "ipc", "uts": "uts"} {
				if got, w := nsPath(t, s, typ), "/proc/"+strconv.Itoa(pause)+"/ns/"+want; got != w {
					t.Errorf("container %.12s: %s namespace path %q, want %q", id, typ, got, w)
				}
			}
			if got := nsPath(t, s, "pid"); got != "" {
				t.Errorf("container %.12s: pid namespace path %q, want a new one", id, got)
			}
		}
	})
	t.Run("SameNamespaces", func(t *testing.T) {
		for _, typ := range []string{"net", "ipc", "uts"} {
			host := hostNS(t, pause, typ)
			for _, id := range []string{a, b} {
				if got := out(t, id, "readlink", "/proc/self/ns/"+typ); got != host {
					t.Errorf("container %.12s: %s namespace %s, the sandbox's is %s", id, typ, got, host)
				}
			}
		}
		pa, pb := out(t, a, "readlink", "/proc/self/ns/pid"), out(t, b, "readlink", "/proc/self/ns/pid")
		if pa == pb || pa == hostNS(t, pause, "pid") {
			t.Errorf("PID namespaces: a %s, b %s, sandbox %s: want three different ones", pa, pb, hostNS(t, pause, "pid"))
		}
		if got := out(t, b, "cat", "/proc/1/comm"); got != "sleep" {
			t.Errorf("PID 1 in b is %q, want its own sleep (not the pause process)", got)
		}
	})
	t.Run("SharedNetwork", func(t *testing.T) {
		for _, id := range []string{a, b} {
			if got := out(t, id, "ip", "-4", "-o", "addr", "show", "eth0"); !strings.Contains(got, " "+ip+"/") {
				t.Errorf("container %.12s eth0: %q, want the pod IP %s", id, got, ip)
			}
			if h := out(t, id, "hostname"); h != "shared" {
				t.Errorf("container %.12s hostname %q, want the pod's", id, h)
			}
		}
	})
	t.Run("SharedIPC", func(t *testing.T) {
		// the pod's /dev/shm (a tmpfs containerd mounts once per sandbox) is
		// one and the same in both containers
		out(t, a, "sh", "-c", "echo from-a > /dev/shm/rt-cri")
		if got := out(t, b, "cat", "/dev/shm/rt-cri"); got != "from-a" {
			t.Errorf("b reads %q from /dev/shm, want what a wrote", got)
		}
	})
}
