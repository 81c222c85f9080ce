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
