package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Rootless containers (docs/rootless.md): an unprivileged user, made for
// this run with useradd (a home, and a range in /etc/subuid and
// /etc/subgid), runs rt with its state under $XDG_RUNTIME_DIR/rt. Every
// check looks from inside the container or at the host's files and
// processes. The user, its ranges, its runtime dir and everything made
// for it are removed at the end.

// rlUser is the unprivileged user of this run.
type rlUser struct {
	name      string
	uid, gid  uint32
	home, xdg string
	sub, subg uint32 // first ID of its /etc/subuid and /etc/subgid range
	rt        string // a copy of the rt binary the user can execute
	dir       string // per-run directory the user may enter (0711)
}

const rlSubSize = 65536

// TestRootless groups the rootless tests so that they share one user,
// made first and deleted after the last subtest.
func TestRootless(t *testing.T) {
	t.Parallel()
	h := newH(t)
	u := newRootlessUser(t, h)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *rlUser)
	}{
		{"Spec", testRootlessSpec},
		{"Run", testRootlessRun},
		{"Lifecycle", testRootlessLifecycle},
		{"MultiID", testRootlessMultiID},
		{"Sysfs", testRootlessSysfs},
		{"Seccomp", testRootlessSeccomp},
		{"NoCgroup", testRootlessNoCgroup},
		{"Delegated", testRootlessDelegated},
		{"Errors", testRootlessErrors},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, u)
		})
	}
}

// newRootlessUser makes the user (useradd), its subordinate ID ranges, its
// runtime dir and a copy of rt it can run; cleanup undoes all of it.
func newRootlessUser(t *testing.T, h *H) *rlUser {
	t.Helper()
	if _, err := exec.LookPath("useradd"); err != nil {
		t.Skip("useradd not available")
	}
	// workDir and the test dir are 0700: the user must be able to pass.
	for _, d := range []string{workDir, h.Dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := strconv.ParseUint(runToken[:4], 16, 32)
	u := &rlUser{name: "rtrl" + runToken, dir: h.Dir}
	// A range of its own per run, away from the IDs other tests use.
	u.sub = uint32(2000000 + (n%1000)*rlSubSize)
	u.subg = u.sub
	// -K SUB_*_COUNT=0: no automatic range; ours is added below (and
	// userdel removes it with the user).
	mustRetry(t, "useradd", "-m", "-s", "/bin/sh", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", u.name)
	t.Cleanup(func() { u.remove(t) })
	rng := fmt.Sprintf("%d-%d", u.sub, u.sub+rlSubSize-1)
	mustRetry(t, "usermod", "--add-subuids", rng, "--add-subgids", rng, u.name)
	out, err := exec.Command("id", "-u", u.name).Output()
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	out, err = exec.Command("id", "-g", u.name).Output()
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	u.uid, u.gid = uint32(uid), uint32(gid)
	u.home = "/home/" + u.name
	u.xdg = fmt.Sprintf("/run/user/%d", uid)
	if fileExists(u.xdg) {
		t.Fatalf("%s exists already; a leftover of another run?", u.xdg)
	}
	os.MkdirAll("/run/user", 0o755)
	if err := os.Mkdir(u.xdg, 0o700); err != nil {
		t.Fatal(err)
	}
	u.chown(t, u.xdg)
	u.rt = filepath.Join(h.Dir, "rt")
	if err := copyFile(rtBin, u.rt, 0o755); err != nil {
		t.Fatal(err)
	}
	return u
}

// sweep reports and ends what the user left: containers (delete
// --force) and processes (by PID).
func (u *rlUser) sweep(t *testing.T) {
	if ents, err := os.ReadDir(filepath.Join(u.xdg, "rt")); err == nil {
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), "@") {
				t.Errorf("cleanup: container %s left in %s/rt", e.Name(), u.xdg)
				u.run(t, rlOpts{}, "delete", "--force", e.Name())
			}
		}
	}
	for _, pid := range u.processes() {
		p, _ := readProc(pid)
		t.Errorf("cleanup: process %d (%s) of %s left", pid, p.Cmdline, u.name)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	waitFor(5*time.Second, func() bool { reapZombies(); return len(u.processes()) == 0 })
}

// remove deletes everything of the user: what sweep ends, its runtime
// dir, the user with its home and ranges.
func (u *rlUser) remove(t *testing.T) {
	u.sweep(t)
	os.RemoveAll(u.xdg)
	if out, err := retry("userdel", "-r", u.name); err != nil {
		t.Errorf("cleanup: userdel: %v: %s", err, out)
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		if b, _ := os.ReadFile(f); strings.Contains(string(b), u.name+":") {
			t.Errorf("cleanup: %s still lists %s", f, u.name)
		}
	}
}

// processes lists live processes of the user.
func (u *rlUser) processes() []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat("/proc/"+e.Name(), &st) != nil || st.Uid != u.uid {
			continue
		}
		if p, ok := readProc(pid); ok && p.State != 'Z' {
			out = append(out, pid)
		}
	}
	return out
}

func retry(name string, args ...string) ([]byte, error) {
	var out []byte
	var err error
	for i := 0; i < 20; i++ {
		// useradd and friends lock /etc/passwd; another run may hold it.
		if out, err = helperOutput(exec.Command(name, args...)); err == nil {
			return out, nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return out, err
}

func mustRetry(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := retry(name, args...); err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (u *rlUser) chown(t *testing.T, paths ...string) {
	t.Helper()
	owner := fmt.Sprintf("%d:%d", u.uid, u.gid)
	for _, p := range paths {
		if out, err := helperOutput(exec.Command("chown", "-R", owner, p)); err != nil {
			t.Fatalf("chown %s: %v: %s", p, err, out)
		}
	}
}

// rlOpts tune one command run as the user.
type rlOpts struct {
	env []string // replaces variables of the default environment
	dir string   // working directory (default /)
}

// run runs rt as the user with its environment (XDG_RUNTIME_DIR set).
func (u *rlUser) run(t *testing.T, o rlOpts, args ...string) Result {
	t.Helper()
	return u.command(t, o, u.rt, args...)
}

// mustRun is run that requires exit status 0.
func (u *rlUser) mustRun(t *testing.T, args ...string) Result {
	t.Helper()
	r := u.run(t, rlOpts{}, args...)
	if r.Code != 0 {
		t.Fatalf("as %s: %v", u.name, r)
	}
	return r
}

// command runs any program as the user, stdio in files (a detached
// container keeps them open).
func (u *rlUser) command(t *testing.T, o rlOpts, prog string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: []uint32{u.gid}}}
	env := map[string]string{
		"PATH":            "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
		"HOME":            u.home,
		"USER":            u.name,
		"LOGNAME":         u.name,
		"XDG_RUNTIME_DIR": u.xdg,
	}
	for _, e := range o.env {
		k, v, _ := strings.Cut(e, "=")
		if v == "" && !strings.Contains(e, "=") {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Dir = "/"
	if o.dir != "" {
		cmd.Dir = o.dir
	}
	stdout, err := os.CreateTemp(workDir, "stdout-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(stdout.Name())
	defer stdout.Close()
	stderr, err := os.CreateTemp(workDir, "stderr-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(stderr.Name())
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	err = startTracked(cmd)
	if err != nil {
		t.Fatalf("start %s as %s: %v", prog, u.name, err)
	}
	err = cmd.Wait()
	trackSpawn(cmd.Process.Pid, false)
	r := Result{Args: args}
	ob, _ := os.ReadFile(stdout.Name())
	eb, _ := os.ReadFile(stderr.Name())
	r.Stdout, r.Stderr = string(ob), string(eb)
	if ctx.Err() != nil {
		t.Fatalf("%s %v as %s: timed out\n%v", prog, args, u.name, r)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v as %s: %v", prog, args, u.name, err)
	}
	return r
}

// rlBundle is a bundle the user owns: `rt spec --rootless` run as the
// user, terminal off, root writable, then muts; the rootfs is a copy of
// the fixture owned by the user.
type rlBundle struct {
	dir, rootfs string
	spec        *specs.Spec
}

func (u *rlUser) bundle(t *testing.T, muts ...func(*specs.Spec)) *rlBundle {
	t.Helper()
	dir, err := os.MkdirTemp(u.dir, "rlbundle-")
	if err != nil {
		t.Fatal(err)
	}
	b := &rlBundle{dir: dir, rootfs: filepath.Join(dir, "rootfs")}
	if out, err := helperOutput(exec.Command("cp", "-a", rootfsSrc, b.rootfs)); err != nil {
		t.Fatalf("cp -a rootfs: %v: %s", err, out)
	}
	u.chown(t, dir)
	if r := u.run(t, rlOpts{}, "spec", "--rootless", "--bundle", dir); r.Code != 0 {
		t.Fatalf("rt spec --rootless as %s: %v", u.name, r)
	}
	s := &specs.Spec{}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, s); err != nil {
		t.Fatal(err)
	}
	s.Process.Terminal = false
	s.Process.Args = []string{"true"}
	s.Root.Readonly = false
	for _, m := range muts {
		m(s)
	}
	b.spec = s
	b.write(t)
	return b
}

func (b *rlBundle) write(t *testing.T) {
	t.Helper()
	data, err := json.MarshalIndent(b.spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (u *rlUser) id(prefix string) string {
	return fmt.Sprintf("rl%s-%s-%d", prefix, runToken, counter.Add(1))
}

// stateDir is the container's directory under $XDG_RUNTIME_DIR/rt.
func (u *rlUser) stateDir(id string) string { return filepath.Join(u.xdg, "rt", id) }

// checkNothingLeft: no state dir and no process of the container.
func (u *rlUser) checkNothingLeft(t *testing.T, id string, pid int) {
	t.Helper()
	if fileExists(u.stateDir(id)) {
		t.Errorf("state dir %s left", u.stateDir(id))
	}
	if pid > 0 {
		checkGone(t, pid, "container init")
	}
}

func withCapsRL(names ...string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		c := s.Process.Capabilities
		c.Bounding = append(c.Bounding, names...)
		c.Effective = append(c.Effective, names...)
		c.Permitted = append(c.Permitted, names...)
	}
}

// subMaps maps container 0 to the user and 1..65536 to its ranges.
func (u *rlUser) subMaps(s *specs.Spec) {
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: u.uid, Size: 1}, {ContainerID: 1, HostID: u.sub, Size: rlSubSize}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: u.gid, Size: 1}, {ContainerID: 1, HostID: u.subg, Size: rlSubSize}}
}
