//go:build cgo || rt_embed_seccomp

package seccomp

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-oci/rt/libct/fastjson"
)

// cacheFormat is part of every cache key: bump it whenever the compiled
// output for the same profile and libseccomp changes (the prologue, the
// rule mapping, the file layout).
const cacheFormat = 1

// cacheEntry is one <key>.json file.
type cacheEntry struct {
	Format   int      `json:"format"`
	Key      string   `json:"key"`
	Program  *Program `json:"program"`
	Warnings []string `json:"warnings,omitempty"`
}

// cacheKey hashes what the compiled program depends on: the profile, the
// compiler (libseccomp version and the kernel's API level), the native
// architecture and cacheFormat.
func cacheKey(s *specs.LinuxSeccomp) (string, error) {
	j, err := fastjson.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("linux.seccomp: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "rt-seccomp %d\n%s\n%s\n", cacheFormat, libVersion(), runtime.GOARCH)
	h.Write(j)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Cached is Compile with a cache of compiled programs in dir, one file per
// profile hash. dir is made 0700 if missing and must not be writable by
// anyone but its owner, the caller (a program loaded from a file others
// can write is theirs). A missing, corrupt or truncated cache file is
// compiled again and replaced (temp file and rename, so concurrent callers
// only ever read whole files). The warnings are cached with the program.
// Failing to write the cache is not an error: the program is returned with
// a warning saying so.
func Cached(dir string, s *specs.LinuxSeccomp) (*Program, []string, error) {
	if s == nil {
		return nil, nil, errors.New("linux.seccomp: no profile")
	}
	key, err := cacheKey(s)
	if err != nil {
		return nil, nil, err
	}
	// The directory is made only once a profile compiled: a refused
	// profile leaves nothing behind.
	exists, err := checkCacheDir(dir)
	if err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, key+".json")
	if exists {
		if e := readEntry(path, key); e != nil {
			return e.Program, e.Warnings, nil
		}
	}
	p, warn, err := Compile(s)
	if err != nil {
		return nil, nil, err
	}
	e := &cacheEntry{Format: cacheFormat, Key: key, Program: p, Warnings: warn}
	if err := cacheDir(dir); err != nil {
		return nil, nil, err
	}
	if err := writeEntry(dir, path, e); err != nil {
		warn = append(warn[:len(warn):len(warn)], fmt.Sprintf("seccomp cache: %v", err))
	}
	return p, warn, nil
}

// cacheDir makes dir (0700) and checks that only its owner, us, can
// write it.
func cacheDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("seccomp cache %s: %w", dir, err)
	}
	_, err := checkCacheDir(dir)
	return err
}

// checkCacheDir reports whether dir exists, and refuses it unless it is a
// directory only its owner, us, can write.
func checkCacheDir(dir string) (bool, error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("seccomp cache %s: %w", dir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return false, fmt.Errorf("seccomp cache %s: not a directory (a symlink?)", dir)
	case fi.Mode().Perm()&0o022 != 0:
		return false, fmt.Errorf("seccomp cache %s: mode %v lets others write compiled filters: chmod go-w it", dir, fi.Mode().Perm())
	case ok && int(st.Uid) != os.Geteuid():
		return false, fmt.Errorf("seccomp cache %s: owned by uid %d, not by this user (%d)", dir, st.Uid, os.Geteuid())
	}
	return true, nil
}

// readEntry returns the entry at path, or nil when it is missing or not a
// whole, valid entry for key.
func readEntry(path, key string) *cacheEntry {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var e cacheEntry
	if fastjson.Unmarshal(b, &e) != nil || e.Format != cacheFormat || e.Key != key || e.Program.check() != nil {
		return nil
	}
	return &e
}

// writeEntry writes e to path through a temp file in dir and a rename.
func writeEntry(dir, path string, e *cacheEntry) error {
	b, err := fastjson.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o600)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}
