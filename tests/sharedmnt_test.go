package tests

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A container without a mount namespace whose config mounts things
// (runtime-tools' linux_ns_itype): rt binds the rootfs at <state dir>/root
// in its own mount namespace, mounts below that bind, chroots into it,
// and unmounts it all at delete. The host's mounts keep their propagation.

func noMountNS(s *specs.Spec) { dropNS(s, specs.MountNamespace) }

// TestSharedMountNamespace: the container sees its /proc, masked and
// read-only paths and a read-only root, shares rt's mount namespace, the
// mounts show under the rootfs on the host while it lives, and delete
// leaves the host's mount table as it was.
func TestSharedMountNamespace(t *testing.T) {
	h := newH(t)
	before := hostMounts()
	hostNS, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	b := h.Bundle(noMountNS, args("sleep", "30"), func(s *specs.Spec) { s.Root.Readonly = true })
	id, _ := h.Create(b)
	under := mountsUnder(filepath.Join(h.Root, id, "root"))
	if len(under) < 3 {
		t.Errorf("host mounts under the state dir's root while created: %q, want the rootfs bind, proc, dev...", under)
	}
	if m := mountsUnder(b.Rootfs + "/"); len(m) > 0 {
		t.Errorf("mounts on the rootfs path itself: %q, want none (they belong under the state dir)", m)
	}
	h.MustRT("start", id)
	got := kv(h.MustRT("exec", id, "sh", "-c", `
		echo mnt=$(readlink /proc/self/ns/mnt)
		[ -e /proc/self/status ] && echo proc=yes
		[ -s /proc/kcore ] && echo kcore=visible || echo kcore=masked
		echo x > /proc/sys/kernel/hostname 2>/dev/null && echo procsys=rw || echo procsys=ro
		touch /newfile 2>/dev/null && echo root=rw || echo root=ro
		[ -c /dev/null ] && echo devnull=yes`).Stdout)
	want := map[string]string{"mnt": hostNS, "proc": "yes", "kcore": "masked", "procsys": "ro", "root": "ro", "devnull": "yes"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("exec in a container without a mount namespace: %s=%q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	h.MustRT("delete", "--force", id)
	if left := mountsUnder(filepath.Join(h.Root, id)); len(left) > 0 {
		t.Errorf("mounts left under the state dir after delete: %q", left)
	}
	checkMountsUnchanged(t, before)
}

// TestSharedMountNamespaceRun: `rt run` of such a container in the
// foreground, then nothing is left on the host.
func TestSharedMountNamespaceRun(t *testing.T) {
	h := newH(t)
	before := hostMounts()
	b := h.Bundle(noMountNS, sh(`[ -e /proc/self/status ] && echo proc=yes; [ -c /dev/null ] && echo devnull=yes`))
	r := h.Run(b, RunOpts{})
	if r.Code != 0 || r.Stdout != "proc=yes\ndevnull=yes\n" {
		t.Errorf("run without a mount namespace: %v, want proc=yes devnull=yes", r)
	}
	if left := mountsUnder(h.Root); len(left) > 0 {
		t.Errorf("mounts left under the state root: %q", left)
	}
	checkMountsUnchanged(t, before)
}

// TestSharedMountNamespaceFails: a mount that fails half-way through the
// setup in the shared namespace leaves no mount behind, and so does a
// refused rootfsPropagation.
func TestSharedMountNamespaceFails(t *testing.T) {
	h := newH(t)
	before := hostMounts()
	b := h.Bundle(noMountNS, addMount(specs.Mount{Destination: "/bad", Type: "nosuchfs", Source: "x"}))
	r := h.Run(b, RunOpts{})
	if r.Code == 0 || !strings.Contains(r.Stderr, "mounts[") {
		t.Errorf("bad mount without a mount namespace: %v, want a failure naming mounts[N]", r)
	}
	if left := mountsUnder(h.Root); len(left) > 0 {
		t.Errorf("mounts left under the state root after a failed create: %q", left)
	}
	b = h.Bundle(noMountNS, func(s *specs.Spec) { s.Linux.RootfsPropagation = "shared" })
	if r := h.Run(b, RunOpts{}); r.Code == 0 || !strings.Contains(r.Stderr, "linux.rootfsPropagation: needs a mount namespace") {
		t.Errorf("rootfsPropagation without a mount namespace: %v, want a refusal", r)
	}
	checkMountsUnchanged(t, before)
	if entries, _ := os.ReadDir(h.Root); len(entries) > 0 {
		var names []string
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), "@") {
				names = append(names, e.Name())
			}
		}
		if len(names) > 0 {
			t.Errorf("state left behind: %v", names)
		}
	}
}

// TestSharedRootDeleteIgnoresRootfsPath: delete detaches the bind in the
// state dir, never what the rootfs path resolves to by then. Security
// review: with the bind on the rootfs path itself, a bundle whose
// root.path was swapped for a symlink to another mount (a tmpfs here,
// made by the test) made delete unmount that mount.
func TestSharedRootDeleteIgnoresRootfsPath(t *testing.T) {
	h := newH(t)
	victim := filepath.Join(h.Dir, "victim")
	if err := os.Mkdir(victim, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", victim, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	defer syscall.Unmount(victim, syscall.MNT_DETACH)
	b := h.Bundle(noMountNS, args("sleep", "30"))
	real := filepath.Join(b.Dir, "real-rootfs")
	if err := os.Rename(b.Rootfs, real); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, b.Rootfs); err != nil {
		t.Fatal(err)
	}
	id, _ := h.Create(b)
	os.Remove(b.Rootfs)
	if err := os.Symlink(victim, b.Rootfs); err != nil {
		t.Fatal(err)
	}
	h.MustRT("delete", "--force", id)
	if len(mountsUnder(victim)) == 0 {
		t.Errorf("delete unmounted %s, which the rootfs path pointed to at delete", victim)
	}
	if left := mountsUnder(h.Root); len(left) > 0 {
		t.Errorf("mounts left under the state root: %q", left)
	}
}

// TestSharedRootNotSeenByOthers: a container without a mount namespace
// binds a host directory at /mnt; another container with its own mount
// namespace and the same root.path must not see it (security review: its
// rbind of the rootfs copied the first one's mounts).
func TestSharedRootNotSeenByOthers(t *testing.T) {
	h := newH(t)
	secret := filepath.Join(h.Dir, "secret")
	os.Mkdir(secret, 0o755)
	os.WriteFile(filepath.Join(secret, "key"), []byte("TOPSECRET\n"), 0o644)
	a := h.Bundle(noMountNS, args("sleep", "30"), addMount(specs.Mount{Destination: "/mnt", Type: "bind", Source: secret, Options: []string{"rbind", "ro"}}))
	idA, _ := h.StartDetached(a)
	b := h.Bundle(sh("cat /mnt/key 2>/dev/null || echo none"), func(s *specs.Spec) { s.Root.Path = a.Rootfs })
	if r := h.Run(b, RunOpts{}); r.Code != 0 || r.Stdout != "none\n" {
		t.Errorf("second container on the same rootfs: %v, want none (no view of the first's /mnt)", r)
	}
	h.MustRT("delete", "--force", idA)
	if left := mountsUnder(h.Root); len(left) > 0 {
		t.Errorf("mounts left under the state root: %q", left)
	}
}
