// Package tests holds rt's integration tests. They drive the built rt
// binary (built once by TestMain, or $RT_BINARY) on busybox bundles made
// from ../../shared/mkfixtures.sh (or $RT_SHARED/mkfixtures.sh), observe
// the container from inside with busybox, and check the host afterwards:
// no state dir, cgroup, mount or process is left behind.
//
// The test process makes itself a child subreaper, so every process rt
// leaves running (detached inits included) becomes its child: "no process
// left" is then a question about its own children, which other users of
// the machine cannot disturb.
package tests

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	rtBin     string // the rt binary under test
	rootfsSrc string // busybox rootfs to copy into bundles
	fixDir    string // the fixtures dir (rootfs/, bundle/config.json from `runc spec`)
	workDir   string // every bundle and state root lives below it
	runToken  string // random, in every container ID and cgroup path of this run
	skipAll   string // reason to skip every test ("" to run)
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if os.Geteuid() != 0 {
		skipAll = "rt integration tests need root"
		fmt.Fprintln(os.Stderr, "tests: skipping everything:", skipAll)
		return m.Run()
	}
	runToken = randHex(4)
	var err error
	if workDir, err = os.MkdirTemp("", "rt-itest-"); err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 1
	}
	defer func() {
		// Never recurse into a leaked mount (it may be a bind of a host dir).
		if len(mountsUnder(workDir)) == 0 {
			os.RemoveAll(workDir)
		} else {
			fmt.Fprintln(os.Stderr, "tests: mounts left under", workDir, "; not removing it")
		}
	}()
	// Children that rt leaves (detached inits) are reparented to us.
	if err := prctl(pr_SET_CHILD_SUBREAPER, 1); err != nil {
		fmt.Fprintln(os.Stderr, "tests: PR_SET_CHILD_SUBREAPER:", err)
		return 1
	}
	if rtBin = os.Getenv("RT_BINARY"); rtBin == "" {
		rtBin = filepath.Join(workDir, "rt")
		if err := buildRT(rtBin); err != nil {
			fmt.Fprintln(os.Stderr, "tests: build rt:", err)
			return 1
		}
	} else if rtBin, err = filepath.Abs(rtBin); err != nil {
		fmt.Fprintln(os.Stderr, "tests: RT_BINARY:", err)
		return 1
	}
	fix, err := fixtures()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests: fixtures:", err)
		return 1
	}
	fixDir = fix
	rootfsSrc = filepath.Join(fix, "rootfs")
	if _, err := os.Stat(filepath.Join(rootfsSrc, "bin", "busybox")); err != nil {
		fmt.Fprintln(os.Stderr, "tests: fixtures: no busybox rootfs:", err)
		return 1
	}
	code := m.Run()
	if leaks := globalLeaks(); len(leaks) > 0 {
		fmt.Fprintln(os.Stderr, "tests: LEFT BEHIND after all tests:\n  "+strings.Join(leaks, "\n  "))
		if code == 0 {
			code = 1
		}
	}
	return code
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "/usr/local/go/bin/go"
}

func buildRT(out string) error {
	// As the Makefile: cgo for libseccomp, linked statically.
	cmd := exec.Command(goTool(), "build", "-tags", "urfave_cli_no_docs,osusergo,netgo", "-ldflags", "-linkmode external -extldflags -static", "-o", out, "github.com/rt-oci/rt")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, b)
	}
	return nil
}

// sharedDir is $RT_SHARED, or ../../shared beside the repository.
func sharedDir() string {
	if shared := os.Getenv("RT_SHARED"); shared != "" {
		return shared
	}
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..", "shared")
}

// fixtures runs mkfixtures.sh from sharedDir().
func fixtures() (string, error) {
	script := filepath.Join(sharedDir(), "mkfixtures.sh")
	out, err := exec.Command("bash", script).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("%s: %v: %s", script, err, ee.Stderr)
		}
		return "", fmt.Errorf("%s: %v", script, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

func fileExists(p string) bool { _, err := os.Lstat(p); return err == nil }

const pr_SET_CHILD_SUBREAPER = 36

func prctl(op, arg uintptr) error {
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRCTL, op, arg, 0, 0, 0, 0); e != 0 {
		return e
	}
	return nil
}

// ---- running rt ----

// Result is what one rt command did.
type Result struct {
	Args           []string
	Stdout, Stderr string
	Code           int
}

func (r Result) String() string {
	return fmt.Sprintf("rt %s: exit %d\nstdout: %q\nstderr: %q", strings.Join(r.Args, " "), r.Code, r.Stdout, r.Stderr)
}

// spawnMu: rt commands start under the read lock; reapZombies takes the
// write lock, so it never reaps an rt command before os/exec knows its pid.
var (
	spawnMu  sync.RWMutex
	spawning = map[int]bool{}
)

// RunOpts tune one rt invocation.
type RunOpts struct {
	Stdin      string
	ExtraFiles []*os.File
	Timeout    time.Duration
	Env        []string
	Started    chan<- int // receives rt's pid once it started
}

// execRT runs rt with args and waits for it; it fails the test if rt
// could not be started or timed out.
func execRT(t testing.TB, o RunOpts, args ...string) Result {
	t.Helper()
	r, err := rtCmd(o, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rtCmd runs rt; safe to call from any goroutine.
func rtCmd(o RunOpts, args ...string) (Result, error) {
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rtBin, args...)
	// Files, not pipes: a container started by create or run -d keeps its
	// stdio open, and os/exec would wait for pipes to close.
	stdout, err := os.CreateTemp(workDir, "stdout-")
	if err != nil {
		return Result{}, err
	}
	defer os.Remove(stdout.Name())
	defer stdout.Close()
	stderr, err := os.CreateTemp(workDir, "stderr-")
	if err != nil {
		return Result{}, err
	}
	defer os.Remove(stderr.Name())
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if o.Stdin != "" {
		cmd.Stdin = strings.NewReader(o.Stdin)
	}
	cmd.ExtraFiles = o.ExtraFiles
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.WaitDelay = 5 * time.Second
	err = startTracked(cmd)
	r := Result{Args: args}
	if err != nil {
		return r, fmt.Errorf("start %s: %v", rtBin, err)
	}
	if o.Started != nil {
		o.Started <- cmd.Process.Pid
	}
	err = cmd.Wait()
	trackSpawn(cmd.Process.Pid, false)
	ob, _ := os.ReadFile(stdout.Name())
	eb, _ := os.ReadFile(stderr.Name())
	r.Stdout, r.Stderr = string(ob), string(eb)
	if ctx.Err() != nil {
		return r, fmt.Errorf("rt %s: timed out after %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), o.Timeout, r.Stdout, r.Stderr)
	}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			return r, fmt.Errorf("rt %s: %v", strings.Join(args, " "), err)
		}
		r.Code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.Code = 128 + int(ws.Signal())
		}
	}
	return r, nil
}

var spawnMapMu sync.Mutex

func trackSpawn(pid int, add bool) {
	spawnMapMu.Lock()
	defer spawnMapMu.Unlock()
	if add {
		spawning[pid] = true
	} else {
		delete(spawning, pid)
	}
}

// startTracked starts cmd under spawnMu (no reap of zombies meanwhile)
// and records its PID, so that the leak check knows it is ours.
func startTracked(cmd *exec.Cmd) error {
	spawnMu.RLock()
	defer spawnMu.RUnlock()
	err := cmd.Start()
	if err == nil {
		trackSpawn(cmd.Process.Pid, true)
	}
	return err
}

// reapZombies reaps every zombie child of the test process that is not an
// rt command os/exec still waits for (container inits reparented to us).
// helperOutput runs a helper command (cp, ...) to completion with
// reapZombies held off, so its exit status is os/exec's to collect.
func helperOutput(cmd *exec.Cmd) ([]byte, error) {
	spawnMu.RLock()
	defer spawnMu.RUnlock()
	return cmd.CombinedOutput()
}

func reapZombies() {
	spawnMu.Lock()
	defer spawnMu.Unlock()
	spawnMapMu.Lock()
	defer spawnMapMu.Unlock()
	for _, p := range children() {
		if p.State == 'Z' && !spawning[p.Pid] {
			var ws syscall.WaitStatus
			syscall.Wait4(p.Pid, &ws, syscall.WNOHANG, nil)
		}
	}
}
