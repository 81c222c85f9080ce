package nsenter

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// spawnSh runs `sh -c script` through Spawn and returns its stdout.
func spawnSh(t *testing.T, a *Attr, script string) (string, unix.WaitStatus) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	exe, err := unix.Open("/bin/sh", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(exe)
	a.Env = []string{"PATH=/usr/bin:/bin"}
	out, ws := spawnOut(t, exe, a, func(w int) []string {
		return []string{"sh", "-c", "exec >/proc/self/fd/" + strconv.Itoa(w) + "; " + script}
	})
	return strings.TrimSpace(out), ws
}

// spawnOut runs exe through Spawn with the argv that argv(w) gives, w
// being the inherited write end of a pipe, and returns what was written
// to it and the exit status.
func spawnOut(t *testing.T, exe int, a *Attr, argv func(w int) []string) (string, unix.WaitStatus) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	a.ExeFd = exe
	a.Argv = argv(p[1])
	a.Inherit = append(a.Inherit, p[1])
	proc, err := Spawn(a)
	unix.Close(p[1])
	if err != nil {
		unix.Close(p[0])
		t.Fatal(err)
	}
	out, _ := readAll(p[0])
	unix.Close(p[0])
	var ws unix.WaitStatus
	if _, err := unix.Wait4(proc.Pid, &ws, 0, nil); err != nil {
		t.Fatal(err)
	}
	if proc.Pidfd >= 0 {
		unix.Close(proc.Pidfd)
	}
	return out, ws
}

func readAll(fd int) (string, error) {
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if n > 0 {
			sb.Write(buf[:n])
		}
		if err == unix.EINTR {
			continue
		}
		if n <= 0 || err != nil {
			return sb.String(), err
		}
	}
}

func nsID(t *testing.T, path string) string {
	s, err := os.Readlink(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSpawnFastPathNewNamespaces(t *testing.T) {
	out, ws := spawnSh(t, &Attr{CgroupFd: -1, Clone: unix.CLONE_NEWUTS | unix.CLONE_NEWPID | unix.CLONE_NEWNET},
		"echo $$ $(readlink /proc/self/ns/uts) $(readlink /proc/self/ns/net)")
	if ws.ExitStatus() != 0 {
		t.Fatalf("exit %v", ws)
	}
	f := strings.Fields(out)
	if len(f) != 3 {
		t.Fatalf("output %q", out)
	}
	if f[0] != "1" {
		t.Errorf("pid in new pid namespace = %s, want 1", f[0])
	}
	if f[1] == nsID(t, "/proc/self/ns/uts") || f[2] == nsID(t, "/proc/self/ns/net") {
		t.Errorf("child shares the test's namespaces: %q", out)
	}
}

func TestSpawnJoinPath(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	// A process in its own uts+net namespaces to join.
	holder, ws := spawnHolder(t)
	defer func() {
		unix.Kill(holder, unix.SIGKILL)
		unix.Wait4(holder, &ws, 0, nil)
	}()
	uts, _ := unix.Open("/proc/"+strconv.Itoa(holder)+"/ns/uts", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	netns, _ := unix.Open("/proc/"+strconv.Itoa(holder)+"/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	defer unix.Close(uts)
	defer unix.Close(netns)
	out, st := spawnSh(t, &Attr{CgroupFd: -1, Clone: unix.CLONE_NEWPID,
		Join: []Join{{Type: unix.CLONE_NEWUTS, Fd: uts}, {Type: unix.CLONE_NEWNET, Fd: netns}}},
		"echo $$ $(readlink /proc/self/ns/uts) $(readlink /proc/self/ns/net) $PPID")
	if st.ExitStatus() != 0 {
		t.Fatalf("exit %v", st)
	}
	f := strings.Fields(out)
	if len(f) != 4 {
		t.Fatalf("output %q", out)
	}
	hp := "/proc/" + strconv.Itoa(holder) + "/ns/"
	if f[1] != nsID(t, hp+"uts") || f[2] != nsID(t, hp+"net") {
		t.Errorf("did not join: got %s %s, want %s %s", f[1], f[2], nsID(t, hp+"uts"), nsID(t, hp+"net"))
	}
	if f[0] != "1" {
		t.Errorf("pid %s, want 1 in the new pid namespace", f[0])
	}
}

func TestSpawnJoinBadNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	fd, _ := unix.Open("/proc/self/ns/uts", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	defer unix.Close(fd)
	exe, _ := unix.Open("/bin/true", unix.O_PATH|unix.O_CLOEXEC, 0)
	defer unix.Close(exe)
	// A uts namespace file given as a network namespace: setns fails.
	_, err := Spawn(&Attr{ExeFd: exe, Argv: []string{"true"}, CgroupFd: -1,
		Join: []Join{{Type: unix.CLONE_NEWNET, Fd: fd, Path: "/proc/self/ns/uts"}}})
	if err == nil || !strings.Contains(err.Error(), "/proc/self/ns/uts") || !strings.Contains(err.Error(), "setns") {
		t.Fatalf("want a setns error naming the path, got %v", err)
	}
}

func TestSpawnExecFailure(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir, _ := unix.Open("/", unix.O_PATH|unix.O_CLOEXEC, 0)
	defer unix.Close(dir)
	_, err := Spawn(&Attr{ExeFd: dir, Argv: []string{"x"}, CgroupFd: -1})
	if err == nil || !strings.Contains(err.Error(), "execveat") {
		t.Fatalf("want an execveat error, got %v", err)
	}
}

func TestSealedSelf(t *testing.T) {
	fd, err := SealedSelf()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	w, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(w)
		t.Fatal("opened the sealed executable for writing")
	}
}

func spawnHolder(t *testing.T) (int, unix.WaitStatus) {
	exe, err := unix.Open("/bin/sleep", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(exe)
	p, err := Spawn(&Attr{ExeFd: exe, Argv: []string{"sleep", "60"}, CgroupFd: -1,
		Clone: unix.CLONE_NEWUTS | unix.CLONE_NEWNET})
	if err != nil {
		t.Fatal(err)
	}
	if p.Pidfd >= 0 {
		unix.Close(p.Pidfd)
	}
	return p.Pid, 0
}

func TestSealedSelfOverlayIsReadOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	fd, err := overlaySelf()
	if err != nil {
		t.Skipf("overlay not available: %v", err)
	}
	defer unix.Close(fd)
	// Reopening the handle for writing (what a container could try through
	// /proc/PID/exe) must fail.
	w, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(w)
		t.Fatal("opened the sealed executable for writing")
	}
	if err != unix.EROFS && err != unix.ETXTBSY && err != unix.EACCES {
		t.Fatalf("write open: %v, want EROFS", err)
	}
}

func TestMemfdSelfSealed(t *testing.T) {
	fd, err := memfdSelf()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil || seals&unix.F_SEAL_WRITE == 0 {
		t.Fatalf("seals %#x %v", seals, err)
	}
}

func TestSealedBytes(t *testing.T) {
	fd, err := SealedBytes("x", []byte("#!/bin/sh\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if _, err := unix.Pwrite(fd, []byte("y"), 0); err == nil {
		t.Fatal("wrote to a sealed memfd")
	}
}
