//go:build cgo

package seccomp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The load tests re-execute the test binary: the child locks its main
// goroutine to its thread, sets no_new_privs, loads a Program with Load and
// makes raw system calls on that same thread, then reports what each
// returned (or execs a program, which inherits the filter).

const childEnv = "RT_SECCOMP_TEST_CHILD"

// call is one raw system call the child makes after Load.
type call struct {
	Name string
	Nr   uint64
	Args [6]uint64
	Strs map[int]string // argument index -> pointer to this NUL-terminated string
}

type childReq struct {
	Program      *Program
	NoNNP        bool
	DropCaps     bool
	SendListener bool // send the listener fd over fd 3 (SCM_RIGHTS)
	Calls        []call
	Exec         []string
}

type callResult struct {
	Ret   uint64
	Errno unix.Errno
}

type childOut struct {
	loaded  bool
	loadErr string
	results map[string]callResult
	rest    string // what the child printed after its results (an exec'd program)
	stderr  string
	state   *os.ProcessState
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		childMain()
	}
	os.Exit(m.Run())
}

// childMain never returns. After Load it avoids allocating and calling into
// the runtime, so that a strict profile meets only the system calls listed
// in runtimeNames.
func childMain() {
	runtime.LockOSThread()
	debug.SetGCPercent(-1)
	fail := func(msg string) {
		os.Stdout.WriteString("CHILD-ERR " + msg + "\n")
		os.Exit(3)
	}
	b, err := os.ReadFile(os.Getenv(childEnv))
	if err != nil {
		fail(err.Error())
	}
	var req childReq
	if err := json.Unmarshal(b, &req); err != nil {
		fail(err.Error())
	}
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		fail(err.Error())
	}
	if !req.NoNNP {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			fail(err.Error())
		}
	}
	if req.DropCaps {
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			fail(err.Error())
		}
		data[0].Effective, data[1].Effective = 0, 0
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			fail(err.Error())
		}
	}
	var keep [][]byte
	for i := range req.Calls {
		for idx, s := range req.Calls[i].Strs {
			p := append([]byte(s), 0)
			keep = append(keep, p)
			req.Calls[i].Args[idx] = uint64(uintptr(unsafe.Pointer(&p[0])))
		}
	}
	var execPath *byte
	var execArgv, execEnv []*byte
	if len(req.Exec) > 0 {
		var env []string
		for _, e := range os.Environ() {
			if !strings.HasPrefix(e, childEnv+"=") {
				env = append(env, e)
			}
		}
		execPath, _ = unix.BytePtrFromString(req.Exec[0])
		execArgv, execEnv = cStrings(req.Exec), cStrings(env)
	}
	results := make([]callResult, len(req.Calls))
	out := make([]byte, 0, 1<<16)

	fd, err := Load(req.Program)
	if err != nil {
		out = append(out, "LOAD-ERR "...)
		out = append(out, err.Error()...)
		out = append(out, '\n')
		unix.Write(1, out)
		unix.Exit(0)
	}
	if req.SendListener {
		if err := unix.Sendmsg(3, []byte{'L'}, unix.UnixRights(fd), nil, 0); err != nil {
			fail(err.Error())
		}
	}
	for i := range req.Calls {
		a := &req.Calls[i].Args
		r, _, e := unix.RawSyscall6(uintptr(req.Calls[i].Nr), uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5]))
		results[i] = callResult{uint64(r), e}
	}
	out = append(out, "LOADED "...)
	out = strconv.AppendInt(out, int64(fd), 10)
	out = append(out, '\n')
	for i := range req.Calls {
		out = append(out, "R "...)
		out = append(out, req.Calls[i].Name...)
		out = append(out, ' ')
		out = strconv.AppendUint(out, results[i].Ret, 10)
		out = append(out, ' ')
		out = strconv.AppendInt(out, int64(results[i].Errno), 10)
		out = append(out, '\n')
	}
	out = append(out, "END\n"...)
	unix.Write(1, out)
	runtime.KeepAlive(keep)
	if execPath != nil {
		_, _, e := unix.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(execPath)),
			uintptr(unsafe.Pointer(&execArgv[0])), uintptr(unsafe.Pointer(&execEnv[0])))
		out = append(out[:0], "EXEC-ERR "...)
		out = strconv.AppendInt(out, int64(e), 10)
		out = append(out, '\n')
		unix.Write(1, out)
	}
	unix.Exit(0)
}

// cStrings makes a NULL-terminated array of C strings.
func cStrings(ss []string) []*byte {
	out := make([]*byte, 0, len(ss)+1)
	for _, s := range ss {
		p, err := unix.BytePtrFromString(s)
		if err != nil {
			panic(err)
		}
		out = append(out, p)
	}
	return append(out, nil)
}

// startChild starts the child for req; extra files become fd 3 and on.
func startChild(t *testing.T, req childReq, extra ...*os.File) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("the load tests use x86_64 system call numbers")
	}
	dir := t.TempDir()
	j, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	reqFile := filepath.Join(dir, "req.json")
	if err := os.WriteFile(reqFile, j, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, self, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+reqFile)
	cmd.Dir = dir
	cmd.ExtraFiles = extra
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stdout, &stderr
}

// finishChild waits for the child and parses what it reported.
func finishChild(t *testing.T, cmd *exec.Cmd, stdout, stderr *bytes.Buffer) *childOut {
	t.Helper()
	_ = cmd.Wait() // the exit status is in ProcessState
	o := &childOut{results: map[string]callResult{}, stderr: stderr.String(), state: cmd.ProcessState}
	sc := bufio.NewScanner(bytes.NewReader(stdout.Bytes()))
	var rest []string
	done := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case done:
			rest = append(rest, line)
		case strings.HasPrefix(line, "CHILD-ERR "):
			t.Fatalf("child setup failed: %s", line)
		case strings.HasPrefix(line, "LOAD-ERR "):
			o.loadErr = strings.TrimPrefix(line, "LOAD-ERR ")
		case strings.HasPrefix(line, "LOADED "):
			o.loaded = true
		case strings.HasPrefix(line, "R "):
			f := strings.Fields(line)
			ret, _ := strconv.ParseUint(f[2], 10, 64)
			e, _ := strconv.Atoi(f[3])
			o.results[f[1]] = callResult{ret, unix.Errno(e)}
		case line == "END":
			done = true
		}
	}
	o.rest = strings.Join(rest, "\n")
	return o
}

func runChild(t *testing.T, req childReq) *childOut {
	t.Helper()
	cmd, stdout, stderr := startChild(t, req)
	return finishChild(t, cmd, stdout, stderr)
}

// mustLoad fails the test unless the child loaded the filter and exited 0.
func (o *childOut) mustLoad(t *testing.T) {
	t.Helper()
	if !o.loaded {
		t.Fatalf("child did not load the filter: loadErr=%q state=%v stderr:\n%s", o.loadErr, o.state, o.stderr)
	}
}

// expect checks that call name failed with errno want (0: succeeded).
func (o *childOut) expect(t *testing.T, name string, want unix.Errno) {
	t.Helper()
	r, ok := o.results[name]
	if !ok {
		t.Errorf("%s: no result (state %v, stderr %q)", name, o.state, o.stderr)
		return
	}
	if r.Errno != want {
		t.Errorf("%s: errno %d (%v), want %d (%v)", name, int(r.Errno), r.Errno, int(want), want)
	}
}

// signaledBy reports whether the child died of sig.
func (o *childOut) signaledBy(sig unix.Signal) bool {
	ws, ok := o.state.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}
