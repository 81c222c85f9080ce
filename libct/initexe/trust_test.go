package initexe

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTrusted(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	if err := os.Mkdir(ok, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := trusted(ok, filepath.Join(ok, "missing")); err != nil {
		t.Errorf("own 0700 dir: %v", err)
	}
	open := filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o777)
	if err := trusted(open); err == nil {
		t.Error("a world-writable dir is trusted")
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(ok, link); err != nil {
		t.Fatal(err)
	}
	if err := trusted(link); err == nil {
		t.Error("a symlink is trusted")
	}
	if os.Geteuid() == 0 {
		theirs := filepath.Join(dir, "theirs")
		if err := os.Mkdir(theirs, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(theirs, 12345, 12345); err != nil {
			t.Fatal(err)
		}
		if err := trusted(theirs); err == nil {
			t.Error("another user's dir is trusted")
		}
	}
}

func TestTrustedAncestors(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (chown)")
	}
	dir := t.TempDir() // under /tmp: sticky, world-writable
	mk := func(p string, mode os.FileMode, uid int) string {
		t.Helper()
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		os.Chown(p, uid, uid)
		return p
	}
	good := mk(filepath.Join(dir, "good", "root"), 0o700, 0)
	if err := trustedAncestors(good); err != nil {
		t.Errorf("root-owned ancestors below a sticky /tmp: %v", err)
	}
	theirs := mk(filepath.Join(dir, "theirs"), 0o755, 12345)
	if err := trustedAncestors(mk(filepath.Join(theirs, "root"), 0o700, 0)); err == nil {
		t.Error("a state root below another user's directory is trusted")
	}
	open := mk(filepath.Join(dir, "open"), 0o777, 0)
	if err := trustedAncestors(mk(filepath.Join(open, "root"), 0o700, 0)); err == nil {
		t.Error("a state root below a world-writable (not sticky) directory is trusted")
	}
	sticky := mk(filepath.Join(dir, "sticky"), 0o777|os.ModeSticky, 0)
	os.Chmod(sticky, 0o777|os.ModeSticky)
	if err := trustedAncestors(mk(filepath.Join(sticky, "root"), 0o700, 0)); err != nil {
		t.Errorf("a state root below a sticky directory: %v", err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(filepath.Join(theirs, "root"), link)
	if err := trustedAncestors(link); err == nil {
		t.Error("a symlinked state root is checked at the link, not its target")
	}
}
