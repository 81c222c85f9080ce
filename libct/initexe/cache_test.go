package initexe

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// OpenCached (create's prefetch, before the bundle is checked) writes
// nothing; once Open has cached the init, it opens the same sealed copy.
func TestOpenCachedWritesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the cache is root's")
	}
	saved := embedded
	embedded = []byte("#!/bin/true\n")
	defer func() { embedded = saved }()
	root := filepath.Join(t.TempDir(), "root")
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	if fd, ok := OpenCached(root); ok {
		unix.Close(fd)
		t.Fatal("OpenCached found an init in an empty root")
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Fatalf("OpenCached wrote %v", ents)
	}
	fd, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	fd, ok := OpenCached(root)
	if !ok {
		t.Fatal("OpenCached missed the cached init")
	}
	defer unix.Close(fd)
	if !sameCache(fd) {
		t.Fatal("OpenCached opened something else")
	}
}
