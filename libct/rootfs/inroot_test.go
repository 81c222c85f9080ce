package rootfs

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func openRootDir(t *testing.T, dir string) *os.File {
	t.Helper()
	f, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// A symlink in the rootfs pointing at an absolute host path resolves
// inside the rootfs: mkdirIn and mkfileIn never touch the host.
func TestInRootSymlinksStayInside(t *testing.T) {
	base := t.TempDir()
	rootfs := filepath.Join(base, "rootfs")
	outside := filepath.Join(base, "outside")
	os.MkdirAll(rootfs, 0o755)
	os.MkdirAll(outside, 0o755)
	// rootfs/escape -> <base>/outside (absolute), rootfs/up -> ../../..
	os.Symlink(outside, filepath.Join(rootfs, "escape"))
	os.Symlink("../../../../..", filepath.Join(rootfs, "up"))
	root := openRootDir(t, rootfs)

	// The link dangles inside the root: mkdirIn fails closed (or would
	// create inside); it never creates the host's directory.
	if d, err := mkdirIn(root, "/escape/made", 0o755); err == nil {
		d.Close()
	}
	if _, err := os.Stat(filepath.Join(outside, "made")); err == nil {
		t.Fatal("mkdirIn followed a symlink out of the rootfs")
	}
	// Once its target exists inside the root, the link leads there.
	os.MkdirAll(filepath.Join(rootfs, outside), 0o755)
	d, err := mkdirIn(root, "/escape/made", 0o755)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := os.Stat(filepath.Join(rootfs, outside, "made")); err != nil {
		t.Fatalf("mkdirIn did not create the directory inside the rootfs: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "made")); err == nil {
		t.Fatal("mkdirIn followed a symlink out of the rootfs")
	}
	f, err := mkfileIn(root, "/up/file")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := os.Stat(filepath.Join(rootfs, "file")); err != nil {
		t.Fatalf("../ above the root should stop at the root: %v", err)
	}
}

func TestOpenInRejectsMagicLinks(t *testing.T) {
	rootfs := t.TempDir()
	os.Symlink("/proc/self/root", filepath.Join(rootfs, "magic"))
	root := openRootDir(t, rootfs)
	// Resolved in root, /proc/self/root does not exist inside: no escape.
	if f, err := openIn(root, "/magic/etc"); err == nil {
		f.Close()
		t.Fatal("resolved /proc/self/root through a symlink in the rootfs")
	}
}

func TestMkfileInKeepsExisting(t *testing.T) {
	rootfs := t.TempDir()
	os.WriteFile(filepath.Join(rootfs, "x"), []byte("keep"), 0o600)
	root := openRootDir(t, rootfs)
	f, err := mkfileIn(root, "x")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if b, _ := os.ReadFile(filepath.Join(rootfs, "x")); string(b) != "keep" {
		t.Fatalf("mkfileIn changed an existing file: %q", b)
	}
}
