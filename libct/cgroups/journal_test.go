package cgroups

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestMissingAndRemoveEmpty(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "memory", "exists"), 0o755)
	paths := map[string]string{
		"memory": filepath.Join(root, "memory", "exists", "a", "b"),
		"pids":   filepath.Join(root, "pids", "c"),
	}
	os.MkdirAll(filepath.Join(root, "pids"), 0o755)
	got := Missing(paths)
	want := []string{
		filepath.Join(root, "memory", "exists", "a"),
		filepath.Join(root, "memory", "exists", "a", "b"),
		filepath.Join(root, "pids", "c"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Missing = %v, want %v", got, want)
	}
	for _, d := range want {
		os.MkdirAll(d, 0o755)
	}
	// A sibling keeps a shared parent alive.
	os.MkdirAll(filepath.Join(root, "memory", "exists", "a", "other"), 0o755)
	if err := RemoveEmpty(got); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{want[1], want[2]} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s not removed", d)
		}
	}
	if _, err := os.Stat(want[0]); err != nil {
		t.Errorf("shared parent removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "memory", "exists")); err != nil {
		t.Error("pre-existing dir removed")
	}
}
