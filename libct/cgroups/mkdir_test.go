package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A shared parent that another container's delete removes between its
// check and the mkdir of the leaf (TestParallelRuns hit this as
// "mkdir .../c27: no such file or directory"): mkdirTracked makes the
// parent again, as its own, and the leaf.
func TestMkdirTrackedParentVanishes(t *testing.T) {
	top := t.TempDir()
	parent := filepath.Join(top, "shared")
	leaf := filepath.Join(parent, "c1")
	if err := os.Mkdir(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	removed := 0
	old := mkdirFn
	t.Cleanup(func() { mkdirFn = old })
	mkdirFn = func(p string, perm os.FileMode) error {
		if p == leaf && removed < 2 {
			// The concurrent delete wins the race, twice.
			removed++
			if err := os.Remove(parent); err != nil {
				t.Fatal(err)
			}
		}
		return os.Mkdir(p, perm)
	}
	var made []string
	created, err := mkdirTracked(top, leaf, func(d string) error { made = append(made, d); return nil })
	if err != nil {
		t.Fatalf("mkdirTracked: %v", err)
	}
	if want := []string{parent, leaf}; !slices.Equal(created, want) {
		t.Errorf("created %v, want %v (the parent made again is ours)", created, want)
	}
	if !slices.Equal(made, []string{parent, parent, leaf}) {
		t.Errorf("made called for %v, want the parent twice, then the leaf", made)
	}
	if fi, err := os.Stat(leaf); err != nil || !fi.IsDir() {
		t.Errorf("leaf not made: %v", err)
	}
}

// Ancestors that keep vanishing end in an error, not a loop.
func TestMkdirTrackedGivesUp(t *testing.T) {
	top := t.TempDir()
	parent := filepath.Join(top, "shared")
	leaf := filepath.Join(parent, "c1")
	old := mkdirFn
	t.Cleanup(func() { mkdirFn = old })
	tries := 0
	mkdirFn = func(p string, perm os.FileMode) error {
		if p == leaf {
			tries++
			os.Remove(parent)
		}
		return os.Mkdir(p, perm)
	}
	_, err := mkdirTracked(top, leaf, nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("mkdirTracked: %v, want ENOENT after %d attempts", err, mkdirAttempts)
	}
	if tries != mkdirAttempts {
		t.Errorf("%d attempts, want %d", tries, mkdirAttempts)
	}
}

// The parent is there at the mkdir (EEXIST) and gone at the check that
// follows: that walk is retried too, not reported as "not a directory".
func TestMkdirTrackedParentVanishesAfterExist(t *testing.T) {
	top := t.TempDir()
	parent := filepath.Join(top, "shared")
	leaf := filepath.Join(parent, "c1")
	if err := os.Mkdir(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	old := mkdirFn
	t.Cleanup(func() { mkdirFn = old })
	raced := false
	mkdirFn = func(p string, perm os.FileMode) error {
		err := os.Mkdir(p, perm)
		if p == parent && !raced && errors.Is(err, os.ErrExist) {
			raced = true
			if rerr := os.Remove(parent); rerr != nil {
				t.Fatal(rerr)
			}
		}
		return err
	}
	created, err := mkdirTracked(top, leaf, nil)
	if err != nil {
		t.Fatalf("mkdirTracked: %v", err)
	}
	if want := []string{parent, leaf}; !slices.Equal(created, want) {
		t.Errorf("created %v, want %v", created, want)
	}
}
