package cri

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// create makes a busybox container in the pod (never pulling: the image is
// present) with its log at <pod log dir>/<name>/0.log, as kubelet names it.
func (p *pod) create(t *testing.T, name string, cmd []string, lc *runtimeapi.LinuxContainerConfig) string {
	t.Helper()
	if lc == nil {
		lc = &runtimeapi.LinuxContainerConfig{}
	}
	if lc.SecurityContext == nil {
		lc.SecurityContext = &runtimeapi.LinuxContainerSecurityContext{}
	}
	lc.SecurityContext.NamespaceOptions = podNamespaces()
	if err := os.MkdirAll(filepath.Join(p.config.LogDirectory, name), 0o755); err != nil {
		t.Fatal(err)
	}
	cc := &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: name},
		Image:    &runtimeapi.ImageSpec{Image: cfg.busybox},
		Command:  cmd,
		LogPath:  filepath.Join(name, "0.log"),
		Labels:   map[string]string{"rt-cri-test": name},
		Linux:    lc,
	}
	r, err := rs.CreateContainer(ctxT(t, 60*time.Second), &runtimeapi.CreateContainerRequest{
		PodSandboxId: p.id, Config: cc, SandboxConfig: p.config,
	})
	if err != nil {
		t.Fatalf("CreateContainer %s: %v", name, err)
	}
	return r.GetContainerId()
}

func start(t *testing.T, id string) {
	t.Helper()
	if _, err := rs.StartContainer(ctxT(t, 60*time.Second), &runtimeapi.StartContainerRequest{ContainerId: id}); err != nil {
		t.Fatalf("StartContainer %s: %v", id, err)
	}
}

// run creates and starts a container.
func (p *pod) run(t *testing.T, name string, cmd []string, lc *runtimeapi.LinuxContainerConfig) string {
	t.Helper()
	id := p.create(t, name, cmd, lc)
	start(t, id)
	return id
}

// execSync runs cmd in the container through the runtime's exec.
func execSync(t *testing.T, id string, cmd ...string) (stdout, stderr string, code int32) {
	t.Helper()
	r, err := rs.ExecSync(ctxT(t, 40*time.Second), &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: cmd, Timeout: 30})
	if err != nil {
		t.Fatalf("ExecSync %s %q: %v", id, cmd, err)
	}
	return string(r.GetStdout()), string(r.GetStderr()), r.GetExitCode()
}

// out runs cmd in the container and requires exit code 0.
func out(t *testing.T, id string, cmd ...string) string {
	t.Helper()
	o, e, c := execSync(t, id, cmd...)
	if c != 0 {
		t.Fatalf("exec %q: exit code %d, stdout %q, stderr %q", cmd, c, o, e)
	}
	return strings.TrimSpace(o)
}

// containerStatus returns the status and the verbose info (pid, runtime
// options, the OCI spec containerd generated).
func containerStatus(t *testing.T, id string) (*runtimeapi.ContainerStatus, map[string]any) {
	t.Helper()
	r, err := rs.ContainerStatus(ctxT(t, 10*time.Second), &runtimeapi.ContainerStatusRequest{ContainerId: id, Verbose: true})
	if err != nil {
		t.Fatalf("ContainerStatus %s: %v", id, err)
	}
	return r.GetStatus(), verboseInfo(t, r.GetInfo())
}

// waitExited polls ContainerStatus until the container has exited.
func waitExited(t *testing.T, id string, limit time.Duration) *runtimeapi.ContainerStatus {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		st, _ := containerStatus(t, id)
		if st.GetState() == runtimeapi.ContainerState_CONTAINER_EXITED {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s still %s after %s", id, st.GetState(), limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rtState is `rt state ID` under the root the shim gives rt: the proof that
// rt, not another runtime, holds the container.
func rtState(t *testing.T, id string) (status string, err error) {
	t.Helper()
	b, err := exec.Command(cfg.rt, "--root", cfg.rtRoot, "state", id).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("rt --root %s state %s: %w: %s", cfg.rtRoot, id, err, bytes.TrimSpace(b))
	}
	var st struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("rt state %s: %v: %s", id, err, b)
	}
	return st.Status, nil
}

func wantRtState(t *testing.T, id, want string) {
	t.Helper()
	got, err := rtState(t, id)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("rt state %s: status %q, want %q", id, got, want)
	}
}

// ociSpec is the part of the bundle's config.json the tests look at.
type ociSpec struct {
	Linux struct {
		Namespaces []struct {
			Type string `json:"type"`
			Path string `json:"path"`
		} `json:"namespaces"`
		CgroupsPath string `json:"cgroupsPath"`
	} `json:"linux"`
}

// bundleSpec reads the config.json the shim handed rt for the container.
func bundleSpec(t *testing.T, id string) *ociSpec {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cfg.state, "io.containerd.runtime.v2.task", "k8s.io", id, "config.json"))
	if err != nil {
		t.Fatalf("bundle config: %v", err)
	}
	var s ociSpec
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("bundle config: %v", err)
	}
	return &s
}

// nsPath is the path the spec gives for a namespace type ("" = a new one).
func nsPath(t *testing.T, s *ociSpec, typ string) string {
	t.Helper()
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == typ {
			return ns.Path
		}
	}
	t.Fatalf("spec has no %s namespace", typ)
	return ""
}

// hostNS is the namespace link of a host process, e.g. "net:[4026532...]".
func hostNS(t *testing.T, pid int, typ string) string {
	t.Helper()
	l, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "ns", typ))
	if err != nil {
		t.Fatal(err)
	}
	return l
}
