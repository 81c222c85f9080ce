package cri

import (
	"os"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestSweep is run.sh's clean-up step (RT_CRI_SWEEP=1): it stops and removes
// every container and pod sandbox the containerd of this run still has,
// through CRI, so that the network is torn down by CNI as kubelet would.
func TestSweep(t *testing.T) {
	need(t)
	if os.Getenv("RT_CRI_SWEEP") == "" {
		t.Skip("run.sh's clean-up step (RT_CRI_SWEEP=1)")
	}
	cs, err := rs.ListContainers(ctxT(t, 10*time.Second), &runtimeapi.ListContainersRequest{})
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	for _, c := range cs.GetContainers() {
		if _, err := rs.StopContainer(ctxT(t, 20*time.Second), &runtimeapi.StopContainerRequest{ContainerId: c.GetId(), Timeout: 1}); err != nil && !notFound(err) {
			t.Errorf("StopContainer %s: %v", c.GetId(), err)
		}
		if _, err := rs.RemoveContainer(ctxT(t, 20*time.Second), &runtimeapi.RemoveContainerRequest{ContainerId: c.GetId()}); err != nil && !notFound(err) {
			t.Errorf("RemoveContainer %s: %v", c.GetId(), err)
		}
	}
	ps, err := rs.ListPodSandbox(ctxT(t, 10*time.Second), &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		t.Fatalf("ListPodSandbox: %v", err)
	}
	for _, p := range ps.GetItems() {
		removePod(t, p.GetId())
	}
	t.Logf("swept %d containers and %d pod sandboxes", len(cs.GetContainers()), len(ps.GetItems()))
}
