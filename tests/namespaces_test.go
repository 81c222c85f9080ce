package tests

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func nsLink(t testing.TB, pid int, ns string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestNewNamespaces(t *testing.T) {
	t.Parallel()
	h := newH(t)
	names := []string{"net", "uts", "ipc", "pid", "mnt", "cgroup"}
	script := ""
	for _, n := range names {
		script += fmt.Sprintf("echo %s=$(readlink /proc/self/ns/%s); ", n, n)
	}
	m := kv(h.MustSh(script))
	self := os.Getpid()
	for _, n := range names {
		if host := nsLink(t, self, n); m[n] == "" || m[n] == host {
			t.Errorf("%s namespace inside = %q, want a new one (host: %s)", n, m[n], host)
		}
	}
	// Without a network namespace in the config, the host's is shared.
	m = kv(h.MustSh(`echo net=$(readlink /proc/self/ns/net)`, func(s *specs.Spec) {
		dropNS(s, specs.NetworkNamespace)
	}))
	if host := nsLink(t, self, "net"); m["net"] != host {
		t.Errorf("no network namespace configured: inside %q, want the host's %s", m["net"], host)
	}
}

// TestJoinNamespaces: container B joins container A's uts, network, ipc
// and pid namespaces by path.
func TestJoinNamespaces(t *testing.T) {
	t.Parallel()
	h := newH(t)
	a := h.Bundle(args("sleep", "1000"), func(s *specs.Spec) { s.Hostname = "a" })
	_, apid := h.StartDetached(a)
	join := func(s *specs.Spec) {
		s.Hostname = ""
		s.Linux.Namespaces = []specs.LinuxNamespace{
			{Type: specs.UTSNamespace, Path: fmt.Sprintf("/proc/%d/ns/uts", apid)},
			{Type: specs.NetworkNamespace, Path: fmt.Sprintf("/proc/%d/ns/net", apid)},
			{Type: specs.IPCNamespace, Path: fmt.Sprintf("/proc/%d/ns/ipc", apid)},
			{Type: specs.PIDNamespace, Path: fmt.Sprintf("/proc/%d/ns/pid", apid)},
			{Type: specs.MountNamespace},
		}
	}
	out := h.MustSh(`echo host=$(hostname); for n in net ipc uts pid; do echo $n=$(readlink /proc/self/ns/$n); done; echo pid=$$; ps -o pid,args`, join)
	m := kv(out)
	if m["host"] != "a" {
		t.Errorf("hostname in B = %q, want A's \"a\"", m["host"])
	}
	for _, n := range []string{"net", "ipc", "uts"} {
		if want := nsLink(t, apid, n); m[n] != want {
			t.Errorf("%s namespace of B = %q, want A's %s", n, m[n], want)
		}
	}
	if m["pid"] == "1" {
		t.Errorf("B is pid 1: it did not join A's pid namespace")
	}
	if !strings.Contains(out, "sleep 1000") {
		t.Errorf("ps in B does not show A's sleep 1000:\n%s", out)
	}
	// With joins the init is started by an intermediate process; rt run
	// still waits for it and passes its exit status on.
	if r := h.Sh(`exit 7`, join); r.Code != 7 {
		t.Errorf("exit 7 in a container that joined namespaces: rt run exit %d\n%v", r.Code, r)
	}
	id, pid := h.StartDetached(h.Bundle(args("sleep", "1000"), join))
	if st := h.State(id); st.Status != specs.StateRunning || st.Pid != pid {
		t.Errorf("detached container with joins: %+v", st)
	}
	h.MustRT("delete", "--force", id)
	checkGone(t, pid, "delete --force of a container in A's pid namespace")
}

func TestJoinNamespaceWrongType(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(func(s *specs.Spec) {
		for i := range s.Linux.Namespaces {
			if s.Linux.Namespaces[i].Type == specs.UTSNamespace {
				s.Linux.Namespaces[i].Path = "/proc/self/ns/net" // rt's own: a network namespace
			}
		}
	})
	idx := -1
	for i, ns := range b.Spec.Linux.Namespaces {
		if ns.Type == specs.UTSNamespace {
			idx = i
		}
	}
	r := h.Run(b, RunOpts{})
	field := fmt.Sprintf("linux.namespaces[%d].path", idx)
	if r.Code == 0 || !strings.Contains(r.Stderr, field) {
		t.Errorf("uts path to a net namespace: want failure naming %s: %v", field, r)
	}
	if n := len(lines(r.Stderr)); n != 1 {
		t.Errorf("stderr has %d lines, want 1: %q", n, r.Stderr)
	}
}

// TestJoinMountNamespace joins the mount namespace of a holder process
// (a private copy of the host's, made by unshare(1)). Whatever rt does with
// it, the namespace it joins must not be rebuilt: no mounts added, no
// pivot_root of the holder's root. (With path /proc/1/ns/mnt that would be
// the host.)
func TestJoinMountNamespace(t *testing.T) {
	t.Parallel()
	h := newH(t)
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare(1) not installed")
	}
	holder := exec.Command(unshare, "-m", "--propagation", "private", "sleep", "1000")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	hp := holder.Process.Pid
	if !waitFor(5*time.Second, func() bool { return nsLink(t, hp, "mnt") != nsLink(t, os.Getpid(), "mnt") }) {
		t.Fatal("holder never entered its mount namespace")
	}
	joinMnt := func(s *specs.Spec) {
		for i := range s.Linux.Namespaces {
			if s.Linux.Namespaces[i].Type == specs.MountNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/mnt", hp)
			}
		}
	}
	// As runc and crun: the rootfs is mounted and pivoted into in the
	// joined namespace, with the configured mounts and masks.
	b := h.Bundle(sh(`readlink /proc/self/ns/mnt; test -e /linuxrc && echo rootfs; grep -c ' /proc ' /proc/self/mountinfo`), joinMnt)
	r := h.Run(b, RunOpts{})
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, nsLink(t, hp, "mnt")+"\nrootfs\n") {
		t.Errorf("run in a joined mount namespace: %v, want the holder's mnt namespace %s and the rootfs", r, nsLink(t, hp, "mnt"))
	}
	// rt's own mount namespace (the host's here) is refused: the rootfs
	// would be mounted and pivoted into it.
	own := h.Bundle(func(s *specs.Spec) {
		for i := range s.Linux.Namespaces {
			if s.Linux.Namespaces[i].Type == specs.MountNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/mnt", os.Getpid())
			}
		}
	})
	if r := h.Run(own, RunOpts{}); r.Code == 0 || !strings.Contains(r.Stderr, "rt's own mount namespace") {
		t.Errorf("joining rt's own mount namespace: %v, want a refusal", r)
	}
}

// TestNoMountNamespace: without a mount namespace the init only chroots
// into the rootfs; nothing is mounted on the host.
func TestNoMountNamespace(t *testing.T) {
	t.Parallel()
	h := newH(t)
	mounts := hostMounts()
	b := h.Bundle(sh(`cat /marker; echo pid=$$; [ -e /proc/self ] && echo proc=yes || echo proc=no`), writable, func(s *specs.Spec) {
		dropNS(s, specs.MountNamespace)
		s.Mounts = nil
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
	})
	os.WriteFile(b.Rootfs+"/marker", []byte("chrooted\n"), 0o644)
	r := h.Run(b, RunOpts{})
	if r.Code != 0 || r.Stdout != "chrooted\npid=1\nproc=no\n" {
		t.Errorf("no mount namespace: %v, want chrooted, pid=1, no /proc", r)
	}
	checkMountsUnchanged(t, mounts)
}
