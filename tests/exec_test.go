package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// sleeper is a bundle mutator for a container that waits to be exec'd into.
func sleeper(s *specs.Spec) {
	s.Process.Args = []string{"sleep", "1000"}
	s.Hostname = "exec-ctr"
}

// TestExecJoinsEverything: the exec'd process is in every namespace and
// every cgroup of the container's init, sees the container's root, and
// gets nothing of rt's descriptors.
func TestExecJoinsEverything(t *testing.T) {
	t.Parallel()
	h := newH(t)
	id, initPid := h.StartDetached(h.Bundle(sleeper))
	pf := filepath.Join(h.Dir, "exec.pid")
	h.MustRT("exec", "-d", "--pid-file", pf, id, "sleep", "100")
	pid := readPid(t, pf)
	defer unix.Kill(pid, unix.SIGKILL)
	for _, ns := range []string{"pid", "net", "ipc", "uts", "mnt", "cgroup"} {
		want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", initPid, ns))
		got, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if want == "" || got != want {
			t.Errorf("namespace %s: exec'd process in %q, init in %q", ns, got, want)
		}
	}
	if want, got := hostFile(t, fmt.Sprintf("/proc/%d/cgroup", initPid)), hostFile(t, fmt.Sprintf("/proc/%d/cgroup", pid)); got != want {
		t.Errorf("cgroups: exec'd process in\n%s\ninit in\n%s", got, want)
	}
	out := h.MustRT("exec", id, "sh", "-c", `hostname; echo pid=$$; ls /proc/self/fd; pwd; ls /`).Stdout
	l := lines(out)
	if len(l) < 3 || l[0] != "exec-ctr" || !strings.HasPrefix(l[1], "pid=") {
		t.Fatalf("exec output: %q", out)
	}
	if n, _ := strconv.Atoi(strings.TrimPrefix(l[1], "pid=")); n <= 1 || n > 100 {
		t.Errorf("exec'd shell has pid %d: not in the container's pid namespace", n)
	}
	// ls's own directory descriptor is 3; nothing else of rt's.
	if fds := strings.Join(l[2:6], " "); fds != "0 1 2 3" {
		t.Errorf("descriptors of the exec'd process: %q, want 0 1 2 3", fds)
	}
	if !strings.Contains(out, "\n/\n") || !strings.Contains(out, "linuxrc") {
		t.Errorf("exec'd process does not see the container's root: %q", out)
	}
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		t.Fatalf("pid file %q: %v", b, err)
	}
	return pid
}

// TestExecExitStatus: a foreground exec returns the process's status,
// 128+N for a signal, and its stdio is the caller's.
func TestExecExitStatus(t *testing.T) {
	t.Parallel()
	h := newH(t)
	id, _ := h.StartDetached(h.Bundle(sleeper))
	if r := h.RT("exec", id, "sh", "-c", "exit 7"); r.Code != 7 {
		t.Errorf("exit 7: %v", r)
	}
	if r := h.RT("exec", id, "sh", "-c", "kill -TERM $$"); r.Code != 128+15 {
		t.Errorf("killed by SIGTERM: %v", r)
	}
	r := h.RTo(RunOpts{Stdin: "from-stdin\n"}, "exec", id, "sh", "-c", "read x; echo got $x; echo err >&2")
	if r.Code != 0 || r.Stdout != "got from-stdin\n" || !strings.Contains(r.Stderr, "err") {
		t.Errorf("stdio: %v", r)
	}
}

// TestExecFlags: the command-line process fields of exec.
func TestExecFlags(t *testing.T) {
	t.Parallel()
	h := newH(t)
	id, _ := h.StartDetached(h.Bundle(sleeper, func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "KEEP=1", "OVER=old") }))
	out := h.MustRT("exec", "--env", "FOO=bar", "--env", "OVER=new", "--cwd", "/tmp", "--user", "1000:1001",
		"--additional-gids", "5", "--no-new-privs", id,
		"sh", "-c", `echo $FOO $KEEP $OVER; pwd; id -u; id -g; id -G; grep NoNewPrivs /proc/self/status`).Stdout
	kv := lines(out)
	want := []string{"bar 1 new", "/tmp", "1000", "1001", "1001 5"}
	for i, w := range want {
		if i >= len(kv) || kv[i] != w {
			t.Fatalf("exec output %q: line %d want %q", out, i, w)
		}
	}
	if !strings.Contains(out, "NoNewPrivs:\t1") {
		t.Errorf("--no-new-privs not applied: %q", out)
	}
	// --cap adds to the container's sets: CAP_SYS_ADMIN is bit 21.
	caps := h.MustRT("exec", "--cap", "CAP_SYS_ADMIN", id, "grep", "CapEff", "/proc/self/status").Stdout
	if v, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(caps, "CapEff:")), 16, 64); err != nil || v&(1<<21) == 0 {
		t.Errorf("--cap CAP_SYS_ADMIN: %q", caps)
	}
	plain := h.MustRT("exec", id, "grep", "CapEff", "/proc/self/status").Stdout
	if v, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(plain, "CapEff:")), 16, 64); v&(1<<21) != 0 {
		t.Errorf("default exec has CAP_SYS_ADMIN: %q", plain)
	}
}

// TestExecProcessJSON: --process gives the whole process.
func TestExecProcessJSON(t *testing.T) {
	t.Parallel()
	h := newH(t)
	id, _ := h.StartDetached(h.Bundle(sleeper))
	p := specs.Process{
		Args: []string{"sh", "-c", "echo $A; pwd; id -u"},
		Env:  []string{"PATH=/bin:/usr/bin", "A=from-json"},
		Cwd:  "/etc",
		User: specs.User{UID: 42, GID: 42},
	}
	data, _ := json.Marshal(p)
	path := filepath.Join(h.Dir, "process.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := h.MustRT("exec", "--process", path, id).Stdout; out != "from-json\n/etc\n42\n" {
		t.Errorf("--process output %q", out)
	}
	os.WriteFile(path, []byte(`{"args":["true"],"cwd":"relative"}`), 0o644)
	if r := h.RT("exec", "--process", path, id); r.Code == 0 || !strings.Contains(r.Stderr, "cwd") {
		t.Errorf("bad process.json: %v", r)
	}
}

// TestExecFailures: errors name what is wrong and leave no process.
func TestExecFailures(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(sleeper)
	id, _ := h.StartDetached(b)
	if r := h.RT("exec", id, "no-such-program"); r.Code == 0 || !strings.Contains(r.Stderr, "process.args") {
		t.Errorf("missing program: %v", r)
	}
	if r := h.RT("exec", id, "/etc"); r.Code == 0 || !strings.Contains(r.Stderr, "process.args") {
		t.Errorf("directory as program: %v", r)
	}
	if r := h.RT("exec", "--user", "root", id, "true"); r.Code == 0 || !strings.Contains(r.Stderr, "--user") {
		t.Errorf("--user root: %v", r)
	}
	if r := h.RT("exec", "no-such-container", "true"); r.Code == 0 || !strings.Contains(r.Stderr, "does not exist") {
		t.Errorf("missing container: %v", r)
	}
	if r := h.RT("exec", id); r.Code == 0 || !strings.Contains(r.Stderr, "missing command") {
		t.Errorf("no command: %v", r)
	}
	if n := len(procsInCgroup(b.Cgroup)); n != 1 {
		t.Errorf("%d processes in the container's cgroup after failed execs, want only the init", n)
	}
	h.MustRT("pause", id)
	if r := h.RT("exec", id, "true"); r.Code == 0 || !strings.Contains(r.Stderr, "paused") {
		t.Errorf("exec into a paused container: %v", r)
	}
	h.MustRT("resume", id)
	h.MustRT("kill", id, "KILL")
	h.WaitStatus(id, specs.StateStopped)
	if r := h.RT("exec", id, "true"); r.Code == 0 || !strings.Contains(r.Stderr, "container not running") {
		t.Errorf("exec into a stopped container: %v", r)
	}
}

// TestExecCreated: exec works before start too (runc allows it).
func TestExecCreated(t *testing.T) {
	t.Parallel()
	h := newH(t)
	id, _ := h.Create(h.Bundle(sleeper))
	if out := h.MustRT("exec", id, "hostname").Stdout; out != "exec-ctr\n" {
		t.Errorf("exec into a created container: %q", out)
	}
	if st := h.State(id); st.Status != specs.StateCreated {
		t.Errorf("status after exec: %s, want created", st.Status)
	}
}

// TestExecTerminal: --tty with --console-socket; the master arrives on
// the socket and the process has the pty as stdio and controlling tty.
func TestExecTerminal(t *testing.T) {
	t.Parallel()
	h := newH(t)
	id, _ := h.StartDetached(h.Bundle(sleeper))
	sock := filepath.Join(h.Dir, "console.sock")
	got := recvFd(t, sock)
	h.MustRT("exec", "-d", "--tty", "--console-socket", sock, id, "sh", "-c", "tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty")
	var master *os.File
	select {
	case master = <-got:
	case <-time.After(10 * time.Second):
	}
	if master == nil {
		t.Fatal("no pty master on the console socket")
	}
	defer master.Close()
	out, _ := io.ReadAll(master)
	s := strings.ReplaceAll(string(out), "\r", "")
	if !strings.Contains(s, "/dev/pts/") || !strings.Contains(s, "all-tty") {
		t.Errorf("terminal output %q", s)
	}
	if r := h.RT("exec", "-d", "--tty", id, "true"); r.Code == 0 || !strings.Contains(r.Stderr, "console-socket") {
		t.Errorf("detached --tty without --console-socket: %v", r)
	}
}

// TestExecPreserveFds: --preserve-fds passes descriptor 3 on.
func TestExecPreserveFds(t *testing.T) {
	t.Parallel()
	h := newH(t)
	id, _ := h.StartDetached(h.Bundle(sleeper))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("passed-on\n")
	w.Close()
	defer r.Close()
	res := h.RTo(RunOpts{ExtraFiles: []*os.File{r}}, "exec", "--preserve-fds", "1", id, "cat", "/proc/self/fd/3")
	if res.Code != 0 || res.Stdout != "passed-on\n" {
		t.Errorf("--preserve-fds 1: %v", res)
	}
}

// TestPidfdSocket: create and exec send a pidfd of their process.
func TestPidfdSocket(t *testing.T) {
	t.Parallel()
	h := newH(t)
	sock := filepath.Join(h.Dir, "pidfd.sock")
	got := recvFd(t, sock)
	id, initPid := h.Create(h.Bundle(sleeper), "--pidfd-socket", sock)
	if p := pidOfPidfd(t, got); p != initPid {
		t.Errorf("create --pidfd-socket: pidfd of %d, init is %d", p, initPid)
	}
	h.MustRT("start", id)
	sock2 := filepath.Join(h.Dir, "pidfd2.sock")
	got = recvFd(t, sock2)
	pf := filepath.Join(h.Dir, "exec.pid")
	h.MustRT("exec", "-d", "--pid-file", pf, "--pidfd-socket", sock2, id, "sleep", "100")
	pid := readPid(t, pf)
	defer unix.Kill(pid, unix.SIGKILL)
	if p := pidOfPidfd(t, got); p != pid {
		t.Errorf("exec --pidfd-socket: pidfd of %d, process is %d", p, pid)
	}
}

func pidOfPidfd(t *testing.T, got <-chan *os.File) int {
	t.Helper()
	var f *os.File
	select {
	case f = <-got:
	case <-time.After(10 * time.Second):
	}
	if f == nil {
		t.Fatal("no descriptor on the socket")
	}
	defer f.Close()
	info := hostFile(t, fmt.Sprintf("/proc/self/fdinfo/%d", f.Fd()))
	for _, l := range lines(info) {
		if v, ok := strings.CutPrefix(l, "Pid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	t.Fatalf("not a pidfd: %q", info)
	return 0
}

// recvFd listens on a unix socket at path and delivers the first
// descriptor a client sends (nil on failure).
func recvFd(t *testing.T, path string) <-chan *os.File {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got := make(chan *os.File, 1)
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 256), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			got <- nil
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		if len(msgs) != 1 {
			got <- nil
			return
		}
		fds, _ := unix.ParseUnixRights(&msgs[0])
		if len(fds) != 1 {
			got <- nil
			return
		}
		got <- os.NewFile(uintptr(fds[0]), "received")
	}()
	return got
}
