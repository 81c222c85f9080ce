package nsenter

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// dumpProbe is a program that reports, first thing in main (nothing
// before it changes dumpability), what the exec made of it: its
// dumpability and capability sets.
const dumpProbe = `package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	d, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_GET_DUMPABLE, 0, 0)
	fd, _ := strconv.Atoi(os.Args[1])
	st, _ := os.ReadFile("/proc/self/status")
	s := "Dumpable:\t" + strconv.Itoa(int(d)) + "/" + strconv.Itoa(int(e)) + "\n"
	for _, l := range strings.Split(string(st), "\n") {
		if strings.HasPrefix(l, "Cap") {
			s += l + "\n"
		}
	}
	os.NewFile(uintptr(fd), "out").WriteString(s)
}
`

// sealedProbe builds dumpProbe (static, no cgo) and returns a sealed
// memfd copy of it.
func sealedProbe(t *testing.T) int {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir := t.TempDir()
	for name, text := range map[string]string{"main.go": dumpProbe, "go.mod": "module probe\n\ngo 1.21\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(goBin, "build", "-o", "probe", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build the probe program: %v: %s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	fd, err := SealedBytes("probe", b)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// statusCaps returns the Cap* lines of a /proc status file.
func statusCaps(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return capLines(string(b))
}

func capLines(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && (strings.HasPrefix(k, "Cap") || k == "Dumpable") {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// runProbe spawns the probe with a and returns what it reported.
func runProbe(t *testing.T, exe int, a *Attr) map[string]string {
	t.Helper()
	a.CgroupFd = -1
	out, ws := spawnOut(t, exe, a, func(w int) []string { return []string{"probe", strconv.Itoa(w)} })
	if ws.ExitStatus() != 0 {
		t.Fatalf("probe: %v, output %q", ws, out)
	}
	return capLines(out)
}

// TestSpawnExecNotDumpable: the process Spawn execs from a sealed copy is
// non-dumpable from its exec on (the copy is mode 0111 and the child
// leaves CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH out of its effective set for
// the exec, so it can't read what it execs), on every path, and still gets
// every capability root gets from an exec. The caller's own capabilities
// are untouched (the vfork child shares its memory, not its credentials).
func TestSpawnExecNotDumpable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	exe := sealedProbe(t)
	defer unix.Close(exe)
	var st unix.Stat_t
	if err := unix.Fstat(exe, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o7777 != 0o111 {
		t.Errorf("sealed copy has mode %#o, want 0111", st.Mode&0o7777)
	}
	if d, err := os.ReadFile("/proc/sys/fs/suid_dumpable"); err == nil && strings.TrimSpace(string(d)) == "1" {
		t.Skip("fs.suid_dumpable is 1: the kernel leaves such processes dumpable")
	}

	// A holder in a new pid namespace, to join as rt exec does.
	hexe, err := unix.Open("/bin/sleep", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	holder, err := Spawn(&Attr{ExeFd: hexe, Argv: []string{"sleep", "60"}, CgroupFd: -1,
		Clone: unix.CLONE_NEWPID | unix.CLONE_NEWUTS})
	unix.Close(hexe)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		unix.Kill(holder.Pid, unix.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(holder.Pid, &ws, 0, nil)
		if holder.Pidfd >= 0 {
			unix.Close(holder.Pidfd)
		}
	}()
	pidns, err := unix.Open("/proc/"+strconv.Itoa(holder.Pid)+"/ns/pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pidns)
	identity := func(pid int) error {
		for _, f := range []string{"uid_map", "gid_map"} {
			if err := os.WriteFile("/proc/"+strconv.Itoa(pid)+"/"+f, []byte("0 0 4294967295\n"), 0); err != nil {
				return err
			}
		}
		return nil
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := statusCaps(t, "/proc/thread-self/status")
	for _, c := range []struct {
		name string
		a    Attr
		// newNS: a new user namespace, where root's sets are full.
		newNS bool
	}{
		{"fast path, shared memory", Attr{Clone: unix.CLONE_NEWUTS}, false},
		{"fast path, own memory", Attr{Clone: unix.CLONE_NEWUTS, NoSharedMemory: true}, false},
		{"join path (pid namespace)", Attr{Clone: unix.CLONE_NEWUTS,
			Join: []Join{{Type: unix.CLONE_NEWPID, Fd: pidns, Path: "pid"}}}, false},
		// Root of a user namespace that maps host root: CAP_DAC_* there
		// would cover the file too.
		{"new user namespace (identity map)", Attr{Clone: unix.CLONE_NEWUSER | unix.CLONE_NEWUTS, UserMaps: identity}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := runProbe(t, exe, &c.a)
			if got["Dumpable"] != "0/0" {
				t.Errorf("dumpable (errno) at main: %s, want 0/0", got["Dumpable"])
			}
			want := before
			if c.newNS {
				want = map[string]string{"CapEff": got["CapBnd"], "CapPrm": got["CapBnd"], "CapInh": before["CapInh"], "CapBnd": got["CapBnd"]}
			}
			for _, k := range []string{"CapEff", "CapPrm", "CapInh", "CapBnd"} {
				if got[k] != want[k] {
					t.Errorf("%s after the exec: %s, want %s", k, got[k], want[k])
				}
			}
			if got["CapEff"] == "" {
				t.Errorf("no capabilities reported: %v", got)
			}
		})
		// The spawning thread keeps its capabilities (and is not the
		// vfork child's credentials).
		if after := statusCaps(t, "/proc/thread-self/status"); after["CapEff"] != before["CapEff"] || after["CapPrm"] != before["CapPrm"] {
			t.Fatalf("%s: the caller's capabilities changed: %v, was %v", c.name, after, before)
		}
	}
}

// TestSealedBytesExecOnly: the sealed memfd copies are mode 0111 (so
// sealed against writes, and fchmod worked on the memfd).
func TestSealedBytesExecOnly(t *testing.T) {
	for name, open := range map[string]func() (int, error){
		"SealedBytes": func() (int, error) { return SealedBytes("x", []byte("\x7fELF")) },
		"memfdSelf":   memfdSelf,
	} {
		fd, err := open()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var st unix.Stat_t
		err = unix.Fstat(fd, &st)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode&0o7777 != execOnlyMode {
			t.Errorf("%s: mode %#o, want %#o", name, st.Mode&0o7777, execOnlyMode)
		}
	}
}
