package libct

import (
	"os"

	"golang.org/x/sys/unix"
)

// Named steps of create, in order. Each marks a point where the journal in
// state.json already lists everything made so far.
const (
	stepCgroup    = "cgroup"    // about to create the cgroup
	stepFifo      = "fifo"      // about to make the exec fifo
	stepSpawn     = "spawn"     // about to start the init
	stepBootstrap = "bootstrap" // init started and in its cgroup
	stepCreated   = "created"   // init ready, pid file written
)

// CrashEnv names the test-only variable that makes rt SIGKILL itself at a
// named step, so tests can check that `delete --force` undoes a create
// killed there. It is read only by the test hook below.
const CrashEnv = "RT_TEST_CRASH_AT"

func crashPoint(step string) error {
	if v := os.Getenv(CrashEnv); v != "" && v == step {
		unix.Kill(os.Getpid(), unix.SIGKILL)
		select {}
	}
	return nil
}
