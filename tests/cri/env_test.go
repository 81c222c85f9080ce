package cri

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// env is what run.sh tells the tests about the containerd it started.
type env struct {
	endpoint string // unix:// address of containerd's socket
	handler  string // the runtime handler configured for rt
	pause    string // the sandbox image containerd was configured with
	busybox  string // the image every container runs
	rt       string // rt's binary, as BinaryName of the handler
	rtRoot   string // rt's --root as the shim passes it (Root option + namespace)
	state    string // containerd's state dir (bundles under io.containerd.runtime.v2.task)
	logDir   string // parent of the pods' log directories
	subnet   string // the CNI bridge network's subnet
	cgParent string // parent cgroup of the pods (cgroupfs driver)
}

var (
	cfg env
	rs  runtimeapi.RuntimeServiceClient
	is  runtimeapi.ImageServiceClient
)

func loadEnv() (env, bool) {
	e := env{
		endpoint: os.Getenv("RT_CRI_ENDPOINT"),
		handler:  os.Getenv("RT_CRI_HANDLER"),
		pause:    os.Getenv("RT_CRI_PAUSE"),
		busybox:  os.Getenv("RT_CRI_BUSYBOX"),
		rt:       os.Getenv("RT_CRI_RT"),
		rtRoot:   os.Getenv("RT_CRI_RTROOT"),
		state:    os.Getenv("RT_CRI_STATE"),
		logDir:   os.Getenv("RT_CRI_LOGDIR"),
		subnet:   os.Getenv("RT_CRI_SUBNET"),
		cgParent: os.Getenv("RT_CRI_CGROUP_PARENT"),
	}
	return e, e.endpoint != ""
}

func TestMain(m *testing.M) {
	var ok bool
	if cfg, ok = loadEnv(); !ok {
		fmt.Println("RT_CRI_ENDPOINT is not set: the CRI tests need the containerd that tests/cri/run.sh starts; skipping")
		os.Exit(m.Run())
	}
	conn, err := grpc.NewClient(cfg.endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintf(os.Stderr, "connect %s: %v\n", cfg.endpoint, err)
		os.Exit(1)
	}
	rs = runtimeapi.NewRuntimeServiceClient(conn)
	is = runtimeapi.NewImageServiceClient(conn)
	if os.Getenv("RT_CRI_SWEEP") == "" {
		if err := waitReady(30 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	_ = conn.Close()
	os.Exit(code)
}

// waitReady waits until the CRI reports the runtime and the network ready
// (the CNI config is loaded) and both images are present: nothing is pulled.
func waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		err := ready()
		if err == nil || status.Code(err) == codes.Unimplemented || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func ready() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := rs.Status(ctx, &runtimeapi.StatusRequest{})
	if err != nil {
		return fmt.Errorf("CRI Status (is the CRI plugin loaded? see containerd's log): %w", err)
	}
	for _, c := range st.GetStatus().GetConditions() {
		if !c.GetStatus() {
			return fmt.Errorf("CRI condition %s is false: %s %s", c.GetType(), c.GetReason(), c.GetMessage())
		}
	}
	for _, ref := range []string{cfg.pause, cfg.busybox} {
		r, err := is.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
		if err != nil {
			return fmt.Errorf("ImageStatus %s: %w", ref, err)
		}
		if r.GetImage() == nil {
			return fmt.Errorf("image %s is not present (the tests never pull)", ref)
		}
	}
	return nil
}

// need skips a test when run.sh did not set the environment up.
func need(t *testing.T) {
	t.Helper()
	if cfg.endpoint == "" {
		t.Skip("RT_CRI_ENDPOINT is not set (run tests/cri/run.sh)")
	}
}

// ctxT is a context that times out after d and ends with the test.
func ctxT(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
