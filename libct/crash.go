package libct

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Named crash points, in order. At each one the record in state.json
// already lists everything made so far, so `delete --force` can undo a
// process killed there. docs/reliability.md describes what each leaves.
const (
	// create
	stepSpawn     = "spawn"     // about to start the init (on cgroup v1 before the record)
	stepRecord    = "record"    // state dir made and locked, journal not written
	stepCgroup    = "cgroup"    // about to create the cgroup
	stepFifo      = "fifo"      // init started, about to make the exec fifo
	stepBootstrap = "bootstrap" // init started and in its cgroup
	stepCreated   = "created"   // init ready, pid file written

	// start
	stepStartFifo      = "start-fifo"      // status checked, about to release the init
	stepStartRecord    = "start-record"    // init released, phase not yet "started"
	stepStartPoststart = "start-poststart" // phase "started" saved, poststart hooks next

	// delete (also the delete inside a foreground run)
	stepDeleteKill   = "delete-kill"   // record loaded, about to kill the init
	stepDeleteCgroup = "delete-cgroup" // init gone, about to empty and remove the cgroup
	stepDeleteState  = "delete-state"  // cgroup gone, about to run poststop and remove the state dir
)

// exec records nothing on the host: the new process waits for its
// bootstrap and exits on EOF when rt dies, wherever it is.
const (
	stepExecSpawn     = "exec-spawn"     // container checked, about to start the process
	stepExecCgroup    = "exec-cgroup"    // process started, about to join the cgroups
	stepExecBootstrap = "exec-bootstrap" // in the cgroups, bootstrap not sent
)

// CrashEnv names the test-only variable that makes rt SIGKILL itself at a
// named step, so tests can check that `delete --force` undoes a command
// killed there. It is read only by the test hook below; the container's
// init never sees it (its environment is set explicitly).
const CrashEnv = "RT_TEST_CRASH_AT"

// FailEnv names the test-only variable that makes create fail with an
// error at a named step, so tests can check that create's own undo
// leaves nothing (start and delete ignore it).
const FailEnv = "RT_TEST_FAIL_AT"

// crashPoint kills rt with SIGKILL if CrashEnv names step, and returns an
// error if FailEnv does.
func crashPoint(step string) error {
	if v := os.Getenv(CrashEnv); v != "" && v == step {
		unix.Kill(os.Getpid(), unix.SIGKILL)
		select {}
	}
	if v := os.Getenv(FailEnv); v != "" && v == step {
		return fmt.Errorf("failure injected at step %s (%s)", step, FailEnv)
	}
	return nil
}
