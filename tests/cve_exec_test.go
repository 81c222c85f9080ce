package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// More attack regressions for the CVE rows of docs/security.md (the
// helpers are in cve_test.go): sysctl writes redirected through a crafted
// /proc, /proc/self/exe overwrite, leaked directory descriptors as cwd,
// exec into a container whose /proc is hostile.

// ---- CVE-2025-52881: sysctl writes redirected through a crafted /proc ----

// TestCVE202552881SysctlRedirect: linux.sysctl must reach the real procfs
// of the container. A bind of a plain directory or a tmpfs over /proc/sys,
// a tmpfs as /proc, or an image-controlled /proc (no proc mount) with a
// decoy file or a symlink are refused naming linux.sysctl; the decoy and
// the host's value never change. The plain config sets the value.
func TestCVE202552881SysctlRedirect(t *testing.T) {
	t.Parallel()
	h := newH(t)
	const key, rel = "net.ipv4.ip_default_ttl", "net/ipv4/ip_default_ttl"
	hostBefore := hostFile(t, "/proc/sys/"+rel)
	want := "99"
	if hostBefore == want {
		want = "98"
	}
	setTTL := func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{key: want} }
	decoyDir := filepath.Join(h.Dir, "fake-sys")
	os.MkdirAll(filepath.Join(decoyDir, "net", "ipv4"), 0o755)
	decoy := filepath.Join(decoyDir, rel)

	cases := []struct {
		name string
		muts []func(*specs.Spec)
		prep func(b *Bundle) // crafts the image
	}{
		{"bind-over-proc-sys", []func(*specs.Spec){addMount(specs.Mount{Destination: "/proc/sys", Type: "bind", Source: decoyDir, Options: []string{"rbind"}})}, nil},
		{"tmpfs-over-proc-sys", []func(*specs.Spec){addMount(specs.Mount{Destination: "/proc/sys", Type: "tmpfs", Source: "tmpfs"})}, nil},
		{"tmpfs-as-proc", []func(*specs.Spec){withoutMounts("/proc"), addMount(specs.Mount{Destination: "/proc", Type: "tmpfs", Source: "tmpfs"})}, nil},
		{"image-file", []func(*specs.Spec){withoutMounts("/proc")}, func(b *Bundle) {
			os.MkdirAll(filepath.Join(b.Rootfs, "proc/sys/net/ipv4"), 0o755)
			os.WriteFile(filepath.Join(b.Rootfs, "proc/sys", rel), []byte("64\n"), 0o644)
		}},
		{"image-symlink", []func(*specs.Spec){withoutMounts("/proc")}, func(b *Bundle) {
			os.WriteFile(filepath.Join(b.Rootfs, "etc/decoy"), []byte("64\n"), 0o644)
			mustSymlink(t, "/etc/decoy", filepath.Join(b.Rootfs, "proc/sys", rel))
		}},
	}
	for _, c := range cases {
		os.WriteFile(decoy, []byte("64\n"), 0o644)
		muts := append([]func(*specs.Spec){setTTL, writable, args("true"), func(s *specs.Spec) {
			s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
		}}, c.muts...)
		b := h.Bundle(muts...)
		if c.prep != nil {
			c.prep(b)
		}
		r := h.Run(b, RunOpts{})
		if !refusedNaming(r, "linux.sysctl") {
			t.Errorf("%s: want one error line naming linux.sysctl: %v", c.name, r)
		}
		for _, p := range []string{decoy, filepath.Join(b.Rootfs, "proc/sys", rel), filepath.Join(b.Rootfs, "etc/decoy")} {
			if got, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(got)) != "64" {
				t.Errorf("%s: the sysctl write landed in the plain file %s (%q)", c.name, p, got)
			}
		}
	}
	// The plain config: written through the container's procfs only.
	out := h.MustSh(`cat /proc/sys/`+rel, setTTL)
	if strings.TrimSpace(out) != want {
		t.Errorf("plain config: %s inside = %q, want %s", key, out, want)
	}
	if got := hostFile(t, "/proc/sys/"+rel); got != hostBefore {
		t.Errorf("the host's %s changed from %s to %s", key, hostBefore, got)
	}
}

// ---- CVE-2019-5736: overwriting the runtime through /proc/<pid>/exe ----

// TestCVE20195736ExecOverwrite: a privileged container (every capability,
// CAP_SYS_PTRACE included, no no_new_privs) tries to write the runtime
// through /proc/1/exe of its waiting init and through the exe of every
// process `rt exec` starts in it, directly and through a descriptor held
// open; and, as in the original exploit, it holds /proc/1/exe open until
// the init has exec'd the workload (so no runtime process runs any more
// and ETXTBSY no longer protects a plain binary), then writes through it.
// No write gets through and the rt binary on the host is unchanged.
func TestCVE20195736ExecOverwrite(t *testing.T) {
	t.Parallel()
	h := newH(t)
	before := fileSHA256(t, rtBin)
	b := h.Bundle(args("sleep", "1000"), writable, noNNP, withCaps(cveAllCaps(t)...))
	id, _ := h.Create(b) // the init waits in the created state: pid 1 is rt
	rootTmp := filepath.Join(b.Rootfs, "tmp")
	probe := `echo exe=$(readlink /proc/1/exe)
(echo -n X >> /proc/1/exe) 2>/dev/null && echo WROTE-direct
(exec 7</proc/1/exe || exit 1; echo opened; (echo -n X >> /proc/self/fd/7) 2>/dev/null && echo WROTE-held) 2>/dev/null
true`
	r := h.MustRT("exec", id, "sh", "-c", probe)
	if strings.Contains(r.Stdout, "WROTE") {
		t.Errorf("wrote through /proc/1/exe of the created init: %q", r.Stdout)
	}
	if !strings.Contains(r.Stdout, "opened") {
		t.Errorf("the init's exe could not even be opened read-only (%q): the attack is weaker than intended", r.Stdout)
	}

	// Every new process's exe, while rt exec starts processes in a loop.
	attacker := `: > /tmp/hits; while [ ! -e /tmp/stop ]; do
  for d in /proc/[0-9]*; do
    p=${d#/proc/}; [ "$p" = "$$" ] && continue
    x=$(readlink $d/exe 2>/dev/null) || continue
    case "$x" in /bin/*|/sbin/*|/usr/*|/linuxrc) continue;; esac
    echo "seen $p $x" >> /tmp/seen
    (echo -n X >> $d/exe) 2>/dev/null && echo "HIT direct $p $x" >> /tmp/hits
    (exec 7<$d/exe || exit 1; (echo -n X >> /proc/self/fd/7) 2>/dev/null && echo "HIT held $p $x" >> /tmp/hits) 2>/dev/null
  done
done; echo done >> /tmp/hits`
	apf := filepath.Join(h.Dir, "attacker.pid")
	h.MustRT("exec", "-d", "--pid-file", apf, id, "sh", "-c", attacker)
	defer killReap(readPid(t, apf))
	// The holder keeps the created init's exe open across the start.
	holder := `exec 7</proc/1/exe; touch /tmp/holding
while [ "$(readlink /proc/1/exe)" = "$(readlink /proc/self/fd/7)" ]; do sleep 0.01; done
i=0; while [ $i -lt 100 ]; do
  (echo -n X >> /proc/self/fd/7) 2>/dev/null && { echo "HIT held across start" >> /tmp/hits2; break; }
  i=$((i+1)); sleep 0.02
done; echo done >> /tmp/hits2`
	hpf := filepath.Join(h.Dir, "holder.pid")
	h.MustRT("exec", "-d", "--pid-file", hpf, id, "sh", "-c", holder)
	defer killReap(readPid(t, hpf))
	deadline := time.Now().Add(3 * time.Second)
	n := 0
	for time.Now().Before(deadline) {
		h.MustRT("exec", id, "true")
		n++
	}
	os.WriteFile(filepath.Join(rootTmp, "stop"), nil, 0o644)
	waitDone := func(name string) string {
		var d []byte
		if !waitFor(10*time.Second, func() bool {
			d, _ = os.ReadFile(filepath.Join(rootTmp, name))
			return strings.Contains(string(d), "done")
		}) {
			t.Errorf("the attacker did not finish (%s: %q)", name, d)
		}
		return string(d)
	}
	if d := waitDone("hits"); strings.Contains(d, "HIT") {
		t.Errorf("wrote through the exe of a runtime process:\n%s", d)
	}
	seen, _ := os.ReadFile(filepath.Join(rootTmp, "seen"))
	others := map[string]bool{}
	for _, l := range lines(string(seen)) {
		if f := strings.Fields(l); len(f) == 3 && f[1] != "1" {
			others[f[1]] = true
		}
	}
	t.Logf("%d execs; the attacker opened a runtime executable %d times (%q...), in %d exec'd processes", n, len(lines(string(seen))), firstLine(string(seen)), len(others))
	if !fileExists(filepath.Join(rootTmp, "holding")) {
		t.Fatalf("the holder could not open /proc/1/exe")
	}
	h.MustRT("start", id)
	if d := waitDone("hits2"); strings.Contains(d, "HIT") {
		t.Errorf("wrote through the created init's exe after the start:\n%s", d)
	}
	if after := fileSHA256(t, rtBin); after != before {
		t.Fatalf("the rt binary %s changed: sha256 %s, was %s", rtBin, after, before)
	}
}

// ---- CVE-2024-21626: working directory through a leaked descriptor ----

// TestCVE202421626CwdCreateAndExec: process.cwd (create) and --cwd (exec)
// set to /proc/self/fd/N, for every descriptor the init might hold, and
// for a host directory passed with --preserve-fds: the process never
// starts outside the container; a refusal names process.cwd.
func TestCVE202421626CwdCreateAndExec(t *testing.T) {
	t.Parallel()
	h := newH(t)
	marker := filepath.Join(h.Dir, "host-marker")
	os.WriteFile(marker, []byte("host\n"), 0o644)
	up := strings.Repeat("../", 40) + marker[1:]
	probe := `echo pwd=$(pwd -P); cat ` + up + ` 2>/dev/null && echo ESCAPED; true`
	escaped := func(out string) bool {
		return strings.Contains(out, "ESCAPED") || strings.Contains(out, "unreachable")
	}
	hostDir, err := os.Open(h.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer hostDir.Close()

	// create + start; the script leaves its output in the rootfs.
	createCase := func(cwd string, preserve bool) {
		b := h.Bundle(writable, sh(`{ `+probe+`; } > /result 2>&1`), func(s *specs.Spec) { s.Process.Cwd = cwd })
		id := h.ID("cwd")
		a := []string{"create", "--bundle", b.Dir}
		o := RunOpts{}
		if preserve {
			a = append(a, "--preserve-fds", "1")
			o.ExtraFiles = []*os.File{hostDir}
		}
		r := h.RTo(o, append(a, id)...)
		if r.Code != 0 {
			if !refusedNaming(r, "process.cwd") {
				t.Errorf("create with cwd %s: failure does not name process.cwd in one line: %v", cwd, r)
			}
			return
		}
		h.MustRT("start", id)
		h.WaitStatus(id, specs.StateStopped)
		out, _ := os.ReadFile(filepath.Join(b.Rootfs, "result"))
		if escaped(string(out)) {
			t.Errorf("create with cwd %s (preserve-fds %v) started outside the container: %q", cwd, preserve, out)
		}
	}
	for fd := 3; fd <= 12; fd++ {
		createCase(fmt.Sprintf("/proc/self/fd/%d", fd), false)
	}
	createCase("/proc/self/fd/3", true)

	id, _ := h.StartDetached(h.Bundle(sleeper))
	execCase := func(cwd string, preserve bool) {
		a := []string{"exec", "--cwd", cwd}
		o := RunOpts{}
		if preserve {
			a = append(a, "--preserve-fds", "1")
			o.ExtraFiles = []*os.File{hostDir}
		}
		r := h.RTo(o, append(a, id, "sh", "-c", probe)...)
		if escaped(r.Stdout) {
			t.Errorf("exec --cwd %s (preserve-fds %v) ran outside the container: %v", cwd, preserve, r)
		}
		if r.Code != 0 && !refusedNaming(r, "process.cwd") {
			t.Errorf("exec --cwd %s: failure does not name process.cwd in one line: %v", cwd, r)
		}
	}
	for fd := 3; fd <= 24; fd++ {
		execCase(fmt.Sprintf("/proc/self/fd/%d", fd), false)
	}
	execCase("/proc/self/fd/3", true)
	execCase("/proc/thread-self/fd/3", true)
}

// ---- exec into a container that controls its /proc ----

// privilegedProcOvermount is a container with CAP_SYS_ADMIN (on top of the
// default set) whose init puts a tmpfs over /proc/sys/kernel with a fake
// cap_last_cap of 0 and one over /proc with fake entries, then waits.
func privilegedProcOvermount(h *H, t *testing.T) (*Bundle, []string) {
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"}
	b := h.Bundle(writable, noNNP, withCaps(caps...), sh(`set -e
mount -t tmpfs tmpfs /proc/sys/kernel; echo 0 > /proc/sys/kernel/cap_last_cap
mount -t tmpfs tmpfs /proc; mkdir -p /proc/self/ns /proc/1/ns /proc/sys/kernel /proc/thread-self/attr
echo 0 > /proc/sys/kernel/cap_last_cap; touch /proc/self/ns/mnt /proc/1/ns/mnt /proc/thread-self/attr/exec
touch /ready; exec sleep 1000`))
	return b, caps
}

// execIntoHostileProc starts a privilegedProcOvermount container, waits
// until it has overmounted its /proc and runs `rt exec -d sleep 100` in
// it (killed at the end of the test). It returns the container's ID,
// its capabilities, its init and the exec'd process.
func execIntoHostileProc(t *testing.T, h *H) (id string, caps []string, initPid, pid int) {
	t.Helper()
	b, caps := privilegedProcOvermount(h, t)
	id, initPid = h.StartDetached(b)
	if !waitFor(10*time.Second, func() bool { return fileExists(filepath.Join(b.Rootfs, "ready")) }) {
		t.Fatal("the container did not overmount its /proc")
	}
	pf := filepath.Join(h.Dir, "exec.pid")
	h.MustRT("exec", "-d", "--pid-file", pf, id, "sleep", "100")
	pid = readPid(t, pf)
	t.Cleanup(func() { killReap(pid) })
	return id, caps, initPid, pid
}

// TestExecHostileProc: the container overmounts its /proc (with
// CAP_SYS_ADMIN). `rt exec` opens the init's namespaces from the host's
// /proc, so the exec'd process still joins every namespace of the init
// and its root.
func TestExecHostileProc(t *testing.T) {
	t.Parallel()
	h := newH(t)
	id, _, initPid, pid := execIntoHostileProc(t, h)
	for _, ns := range []string{"pid", "net", "ipc", "uts", "mnt", "cgroup"} {
		want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", initPid, ns))
		got, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if want == "" || got != want {
			t.Errorf("namespace %s: exec'd process in %q, init in %q", ns, got, want)
		}
	}
	var a, c syscall.Stat_t
	syscall.Stat(fmt.Sprintf("/proc/%d/root", initPid), &a)
	syscall.Stat(fmt.Sprintf("/proc/%d/root", pid), &c)
	if a.Dev != c.Dev || a.Ino != c.Ino {
		t.Errorf("exec'd process's root differs from the init's")
	}
	if out := h.MustRT("exec", id, "sh", "-c", "echo ok; cat /ready && echo ready-visible").Stdout; out != "ok\nready-visible\n" {
		t.Errorf("foreground exec: %q", out)
	}
}
