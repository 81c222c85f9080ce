package cri

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// step runs one named step as a subtest; the steps after a failed one are
// not run (each needs what the one before made).
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

const mi = 1 << 20

// appCmd logs one line on each stream and exits 0 on SIGTERM.
var appCmd = []string{"sh", "-c", `trap "echo got SIGTERM; exit 0" TERM; echo hello-stdout; echo hello-stderr >&2; while :; do sleep 1 & wait $!; done`}

// TestPodLifecycle walks one pod through every CRI call kubelet makes for it.
func TestPodLifecycle(t *testing.T) {
	need(t)
	top := t
	var (
		p    *pod
		cid  string
		ip   string
		cg   string // the container's cgroup path (cgroupfs)
		log  string
		pPid int
	)
	step(t, "RunPodSandbox", func(t *testing.T) {
		p = runPod(t, top, "lifecycle", nil)
		st, info := p.status(t)
		if st.GetState() != runtimeapi.PodSandboxState_SANDBOX_READY {
			t.Fatalf("sandbox state %s", st.GetState())
		}
		if h := st.GetRuntimeHandler(); h != "" && h != cfg.handler {
			t.Errorf("runtime handler %q, want %q", h, cfg.handler)
		}
		ip = st.GetNetwork().GetIp()
		_, subnet, err := net.ParseCIDR(cfg.subnet)
		if err != nil {
			t.Fatal(err)
		}
		if pip := net.ParseIP(ip); pip == nil || !subnet.Contains(pip) {
			t.Errorf("pod IP %q is not in the CNI subnet %s", ip, cfg.subnet)
		}
		pPid = infoPid(t, info)
		wantRtState(t, p.id, "running")
		t.Logf("sandbox %.12s: pause pid %d, IP %s, rt state running", p.id, pPid, ip)
	})
	step(t, "CreateContainer", func(t *testing.T) {
		cid = p.create(t, "app", appCmd, &runtimeapi.LinuxContainerConfig{Resources: &runtimeapi.LinuxContainerResources{
			CpuPeriod: 100000, CpuQuota: 200000, CpuShares: 1024,
			MemoryLimitInBytes: 128 * mi, MemorySwapLimitInBytes: 128 * mi, OomScoreAdj: 1000,
		}})
		st, info := containerStatus(t, cid)
		if st.GetState() != runtimeapi.ContainerState_CONTAINER_CREATED {
			t.Fatalf("state %s, want CONTAINER_CREATED", st.GetState())
		}
		// containerd 1.6 makes the task (rt create) only at StartContainer
		if o, _ := info["runtimeOptions"].(map[string]any); o["binary_name"] != cfg.rt {
			t.Errorf("runtime options %v: binary_name is not %s", info["runtimeOptions"], cfg.rt)
		}
		if rt := info["runtimeType"]; rt != "io.containerd.runc.v2" {
			t.Errorf("runtime type %v", rt)
		}
	})
	step(t, "StartContainer", func(t *testing.T) {
		start(t, cid)
		cg = bundleSpec(t, cid).Linux.CgroupsPath
		if want := p.config.Linux.CgroupParent + "/" + cid; cg != want {
			t.Errorf("cgroupsPath %q in the bundle, want %q", cg, want)
		}
		st, _ := containerStatus(t, cid)
		if st.GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING || st.GetStartedAt() == 0 {
			t.Fatalf("state %s, started at %d", st.GetState(), st.GetStartedAt())
		}
		wantRtState(t, cid, "running")
	})
	step(t, "ExecSync", func(t *testing.T) {
		o, e, c := execSync(t, cid, "sh", "-c", "echo out; echo err >&2; exit 3")
		if o != "out\n" || e != "err\n" || c != 3 {
			t.Errorf("exec: stdout %q stderr %q exit %d, want \"out\\n\" \"err\\n\" 3", o, e, c)
		}
		if h := out(t, cid, "hostname"); h != "lifecycle" {
			t.Errorf("hostname %q, want the pod's", h)
		}
		if a := out(t, cid, "ip", "-4", "-o", "addr", "show", "eth0"); !strings.Contains(a, " "+ip+"/") {
			t.Errorf("eth0 in the container: %q, want the pod IP %s", a, ip)
		}
		if u := out(t, cid, "id", "-u"); u != "0" {
			t.Errorf("uid %q", u)
		}
	})
	step(t, "ContainerStatus", func(t *testing.T) {
		st, info := containerStatus(t, cid)
		if st.GetId() != cid || st.GetMetadata().GetName() != "app" || st.GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING {
			t.Errorf("status: id %s name %s state %s", st.GetId(), st.GetMetadata().GetName(), st.GetState())
		}
		if st.GetImage().GetImage() == "" || st.GetImageRef() == "" || st.GetCreatedAt() == 0 {
			t.Errorf("status: image %q ref %q created %d", st.GetImage().GetImage(), st.GetImageRef(), st.GetCreatedAt())
		}
		log = st.GetLogPath()
		if want := filepath.Join(p.config.LogDirectory, "app", "0.log"); log != want {
			t.Errorf("log path %q, want %q", log, want)
		}
		pid := infoPid(t, info)
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), ":memory:"+cg+"\n") {
			t.Errorf("init pid %d is not in the memory cgroup %s:\n%s", pid, cg, b)
		}
	})
	step(t, "ContainerStats", func(t *testing.T) {
		r, err := rs.ContainerStats(ctxT(t, 10*time.Second), &runtimeapi.ContainerStatsRequest{ContainerId: cid})
		if err != nil {
			t.Fatalf("ContainerStats: %v", err)
		}
		s := r.GetStats()
		if s.GetAttributes().GetId() != cid {
			t.Errorf("stats for %q", s.GetAttributes().GetId())
		}
		if s.GetCpu().GetUsageCoreNanoSeconds().GetValue() == 0 {
			t.Errorf("cpu usage 0: %v", s.GetCpu())
		}
		if s.GetMemory().GetWorkingSetBytes().GetValue() == 0 || s.GetMemory().GetUsageBytes().GetValue() == 0 {
			t.Errorf("memory usage 0: %v", s.GetMemory())
		}
		t.Logf("cpu %d ns, memory working set %d bytes", s.GetCpu().GetUsageCoreNanoSeconds().GetValue(), s.GetMemory().GetWorkingSetBytes().GetValue())
	})
	step(t, "UpdateContainerResources", func(t *testing.T) {
		checkLimits(t, cid, cg, 128*mi, 200000, 1024)
		_, err := rs.UpdateContainerResources(ctxT(t, 30*time.Second), &runtimeapi.UpdateContainerResourcesRequest{
			ContainerId: cid,
			Linux: &runtimeapi.LinuxContainerResources{
				CpuPeriod: 100000, CpuQuota: 50000, CpuShares: 512,
				MemoryLimitInBytes: 96 * mi, MemorySwapLimitInBytes: 96 * mi,
			},
		})
		if err != nil {
			t.Fatalf("UpdateContainerResources: %v", err)
		}
		checkLimits(t, cid, cg, 96*mi, 50000, 512)
	})
	step(t, "ContainerLogFile", func(t *testing.T) {
		waitLog(t, log, "stderr", "hello-stderr")
		waitLog(t, log, "stdout", "hello-stdout")
	})
	step(t, "StopContainer", func(t *testing.T) {
		t0 := time.Now()
		if _, err := rs.StopContainer(ctxT(t, 40*time.Second), &runtimeapi.StopContainerRequest{ContainerId: cid, Timeout: 20}); err != nil {
			t.Fatalf("StopContainer: %v", err)
		}
		if d := time.Since(t0); d > 15*time.Second {
			t.Errorf("StopContainer took %s: SIGTERM did not end it", d)
		}
		st := waitExited(t, cid, 10*time.Second)
		if st.GetExitCode() != 0 || st.GetReason() != "Completed" || st.GetFinishedAt() == 0 {
			t.Errorf("after stop: exit code %d reason %q finished %d, want 0 Completed", st.GetExitCode(), st.GetReason(), st.GetFinishedAt())
		}
		waitLog(t, log, "stdout", "got SIGTERM")
	})
	step(t, "RemoveContainer", func(t *testing.T) {
		if _, err := rs.RemoveContainer(ctxT(t, 30*time.Second), &runtimeapi.RemoveContainerRequest{ContainerId: cid}); err != nil {
			t.Fatalf("RemoveContainer: %v", err)
		}
		if _, err := rs.ContainerStatus(ctxT(t, 10*time.Second), &runtimeapi.ContainerStatusRequest{ContainerId: cid}); err == nil || !notFound(err) {
			t.Errorf("ContainerStatus after remove: %v, want not found", err)
		}
		if s, err := rtState(t, cid); err == nil {
			t.Errorf("rt still has the container (%s)", s)
		}
		if _, err := os.Stat(filepath.Join(cfg.state, "io.containerd.runtime.v2.task", "k8s.io", cid)); !os.IsNotExist(err) {
			t.Errorf("bundle left: %v", err)
		}
	})
	step(t, "StopPodSandbox", func(t *testing.T) {
		_, info := p.status(t)
		netns := sandboxNetNS(info)
		if _, err := rs.StopPodSandbox(ctxT(t, 60*time.Second), &runtimeapi.StopPodSandboxRequest{PodSandboxId: p.id}); err != nil {
			t.Fatalf("StopPodSandbox: %v", err)
		}
		st, _ := p.status(t)
		if st.GetState() != runtimeapi.PodSandboxState_SANDBOX_NOTREADY {
			t.Errorf("sandbox state %s after stop", st.GetState())
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(pPid)); err == nil {
			t.Errorf("pause pid %d still there", pPid)
		}
		if netns == "" {
			t.Errorf("no network namespace path in the sandbox info")
		} else if mounted(t, netns) {
			t.Errorf("network namespace %s still mounted", netns)
		}
		if rules := iptablesFor(t, p.id); rules != "" {
			t.Errorf("iptables rules of the pod left:\n%s", rules)
		}
		deadline := time.Now().Add(10 * time.Second)
		for s, err := rtState(t, p.id); err == nil; s, err = rtState(t, p.id) {
			if time.Now().After(deadline) {
				t.Errorf("rt still has the sandbox (%s)", s)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	step(t, "RemovePodSandbox", func(t *testing.T) {
		if _, err := rs.RemovePodSandbox(ctxT(t, 60*time.Second), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: p.id}); err != nil {
			t.Fatalf("RemovePodSandbox: %v", err)
		}
		if _, err := rs.PodSandboxStatus(ctxT(t, 10*time.Second), &runtimeapi.PodSandboxStatusRequest{PodSandboxId: p.id}); err == nil || !notFound(err) {
			t.Errorf("PodSandboxStatus after remove: %v, want not found", err)
		}
		r, err := rs.ListPodSandbox(ctxT(t, 10*time.Second), &runtimeapi.ListPodSandboxRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range r.GetItems() {
			if s.GetId() == p.id {
				t.Errorf("ListPodSandbox still lists %s", p.id)
			}
		}
	})
}

// checkLimits reads the memory and CPU limits on the host (the container's
// cgroups) and inside the container (its /sys/fs/cgroup)
func checkLimits(t *testing.T, cid, cg string, mem, quota, shares int64) {
	t.Helper()
	want := map[string]int64{
		"memory/memory.limit_in_bytes": mem, "cpu/cpu.cfs_quota_us": quota, "cpu/cpu.shares": shares,
	}
	for f, v := range want {
		ctl, file, _ := strings.Cut(f, "/")
		b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", ctl, cg, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(b)); got != strconv.FormatInt(v, 10) {
			t.Errorf("host %s of the container: %s, want %d", f, got, v)
		}
		if got := out(t, cid, "cat", "/sys/fs/cgroup/"+f); got != strconv.FormatInt(v, 10) {
			t.Errorf("/sys/fs/cgroup/%s in the container: %s, want %d", f, got, v)
		}
	}
}

// waitLog waits until the CRI log file has a full line msg on stream, in
// the format kubelet reads: "<RFC3339Nano time> <stream> F <msg>".
func waitLog(t *testing.T, path, stream, msg string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			p := strings.SplitN(sc.Text(), " ", 4)
			if len(p) != 4 {
				t.Errorf("log line %q is not in the CRI format", sc.Text())
				continue
			}
			if _, err := time.Parse(time.RFC3339Nano, p[0]); err != nil {
				t.Errorf("log line %q: time: %v", sc.Text(), err)
			}
			if p[1] == stream && p[2] == "F" && p[3] == msg {
				_ = f.Close()
				return
			}
		}
		_ = f.Close()
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(path)
			t.Fatalf("log %s has no %s line %q:\n%s", path, stream, msg, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sandboxNetNS is the network namespace path in the sandbox's spec.
func sandboxNetNS(info map[string]any) string {
	spec, _ := info["runtimeSpec"].(map[string]any)
	linux, _ := spec["linux"].(map[string]any)
	nss, _ := linux["namespaces"].([]any)
	for _, n := range nss {
		if m, _ := n.(map[string]any); m["type"] == "network" {
			p, _ := m["path"].(string)
			return p
		}
	}
	return ""
}

func mounted(t *testing.T, path string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == path {
			return true
		}
	}
	return false
}

// iptablesFor lists the host's iptables rules that name the sandbox (the
// bridge plugin's ipMasq rules carry its ID in a comment).
func iptablesFor(t *testing.T, id string) string {
	t.Helper()
	b, err := exec.Command("iptables-save").Output()
	if err != nil {
		t.Logf("iptables-save: %v (not checked)", err)
		return ""
	}
	var left []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, id) {
			left = append(left, l)
		}
	}
	return strings.Join(left, "\n")
}
