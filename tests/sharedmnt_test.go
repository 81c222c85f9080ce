package tests

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A container without a mount namespace whose config mounts things
// (runtime-tools' linux_ns_itype): rt binds the rootfs onto itself in its
// own mount namespace, mounts below that bind, chroots into it, and
// unmounts it all at delete. The host's mounts keep their propagation.

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
	under := mountsUnder(b.Rootfs)
	if len(under) < 3 {
		t.Errorf("host mounts under the rootfs while created: %q, want the rootfs bind, proc, dev...", under)
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
	if left := mountsUnder(b.Rootfs); len(left) > 0 {
		t.Errorf("mounts left under the rootfs after delete: %q", left)
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
	if left := mountsUnder(b.Rootfs); len(left) > 0 {
		t.Errorf("mounts left under the rootfs: %q", left)
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
	if left := mountsUnder(b.Rootfs); len(left) > 0 {
		t.Errorf("mounts left under the rootfs after a failed create: %q", left)
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
