package cri

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// pod is a sandbox made the way kubelet makes one: a pod log directory, a
// cgroup parent of its own (cgroupfs driver) and the namespace modes kubelet
// uses by default (network and IPC per pod, PID per container).
type pod struct {
	id     string
	config *runtimeapi.PodSandboxConfig
}

func podNamespaces() *runtimeapi.NamespaceOption {
	return &runtimeapi.NamespaceOption{
		Network: runtimeapi.NamespaceMode_POD,
		Pid:     runtimeapi.NamespaceMode_CONTAINER,
		Ipc:     runtimeapi.NamespaceMode_POD,
	}
}

func randomUID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// runPod runs a sandbox with the rt handler. The clean-up, registered on
// owner (the test that outlives the pod), stops and removes the sandbox with
// its containers, its pod cgroup and its log directory.
func runPod(t, owner *testing.T, name string, sc *runtimeapi.LinuxSandboxSecurityContext) *pod {
	t.Helper()
	uid := randomUID(t)
	logDir := filepath.Join(cfg.logDir, "default_"+name+"_"+uid)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if sc == nil {
		sc = &runtimeapi.LinuxSandboxSecurityContext{}
	}
	sc.NamespaceOptions = podNamespaces()
	p := &pod{config: &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Uid: uid, Namespace: "default"},
		Hostname:     name,
		LogDirectory: logDir,
		Labels:       map[string]string{"rt-cri-test": name},
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent:    cfg.cgParent + "/pod" + uid,
			SecurityContext: sc,
		},
	}}
	owner.Cleanup(func() {
		removePod(owner, p.id)
		removePodCgroups(owner, p.config.Linux.CgroupParent)
		_ = os.RemoveAll(logDir)
	})
	r, err := rs.RunPodSandbox(ctxT(t, 60*time.Second), &runtimeapi.RunPodSandboxRequest{Config: p.config, RuntimeHandler: cfg.handler})
	if err != nil {
		t.Fatalf("RunPodSandbox %s: %v", name, err)
	}
	p.id = r.GetPodSandboxId()
	return p
}

// removePod stops and removes a sandbox; one that is gone already is fine.
func removePod(t *testing.T, id string) {
	t.Helper()
	if id == "" {
		return
	}
	if _, err := rs.StopPodSandbox(ctxT(t, 60*time.Second), &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}); err != nil && !notFound(err) {
		t.Errorf("clean-up: StopPodSandbox %s: %v", id, err)
	}
	if _, err := rs.RemovePodSandbox(ctxT(t, 60*time.Second), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil && !notFound(err) {
		t.Errorf("clean-up: RemovePodSandbox %s: %v", id, err)
	}
}

// removePodCgroups removes the pod's cgroup in every hierarchy, as kubelet
// does once the pod is gone, and the parent if no other pod uses it.
func removePodCgroups(t *testing.T, parent string) {
	t.Helper()
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*" + parent)
	for _, d := range dirs {
		if err := rmdirRetry(d); err != nil {
			t.Errorf("clean-up: pod cgroup %s: %v (a container cgroup left below it?)", d, err)
		}
	}
	top, _ := filepath.Glob("/sys/fs/cgroup/*" + cfg.cgParent)
	for _, d := range top {
		_ = os.Remove(d) // busy while another test's pod lives
	}
}

func rmdirRetry(d string) error {
	var err error
	for i := 0; i < 30; i++ {
		if err = os.Remove(d); err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

func notFound(err error) bool {
	return status.Code(err) == codes.NotFound || strings.Contains(err.Error(), "not found")
}

// status returns the sandbox's status and its verbose info (pid and config).
func (p *pod) status(t *testing.T) (*runtimeapi.PodSandboxStatus, map[string]any) {
	t.Helper()
	r, err := rs.PodSandboxStatus(ctxT(t, 10*time.Second), &runtimeapi.PodSandboxStatusRequest{PodSandboxId: p.id, Verbose: true})
	if err != nil {
		t.Fatalf("PodSandboxStatus %s: %v", p.id, err)
	}
	return r.GetStatus(), verboseInfo(t, r.GetInfo())
}

// pid is the sandbox's (the pause process's) host PID.
func (p *pod) pid(t *testing.T) int {
	t.Helper()
	_, info := p.status(t)
	return infoPid(t, info)
}

func verboseInfo(t *testing.T, info map[string]string) map[string]any {
	t.Helper()
	m := map[string]any{}
	if s, ok := info["info"]; ok {
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("verbose info: %v", err)
		}
	}
	return m
}

func infoPid(t *testing.T, info map[string]any) int {
	t.Helper()
	pid, _ := info["pid"].(float64)
	if pid <= 0 {
		t.Fatalf("verbose info has no pid: %v", info)
	}
	return int(pid)
}
