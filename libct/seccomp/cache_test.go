//go:build cgo

package seccomp

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func smallProfile() *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls:      []specs.LinuxSyscall{rule(specs.ActAllow, nil, "read", "write", "no_such_call")},
	}
}

// TestCachedHit: the first call compiles and writes <hash>.json (0600, in
// a 0700 dir); the second reads it (a marker put into the file shows), with
// the warnings.
func TestCachedHit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "cache")
	s := smallProfile()
	p1, w1, err := Cached(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(w1) != 1 || !strings.Contains(w1[0], `"no_such_call"`) {
		t.Fatalf("warnings %q", w1)
	}
	files := cacheFiles(t, dir)
	key, _ := cacheKey(s)
	if len(files) != 1 || files[0] != key+".json" {
		t.Fatalf("cache holds %q, want %s.json", files, key)
	}
	for path, mode := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, filepath.Join(dir, files[0]): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v (%v)", path, fi.Mode(), mode, err)
		}
	}

	// Mark the cached entry: a hit returns the mark.
	path := filepath.Join(dir, files[0])
	var e cacheEntry
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	e.Warnings = append(e.Warnings, "from the cache")
	b, _ = json.Marshal(e)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p2, w2, err := Cached(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p1.BPF, p2.BPF) || len(w2) != 2 || w2[1] != "from the cache" || w2[0] != w1[0] {
		t.Errorf("second call: warnings %q", w2)
	}

	// Another profile gets its own file.
	s2 := smallProfile()
	s2.DefaultAction = specs.ActKillProcess
	if _, _, err := Cached(dir, s2); err != nil {
		t.Fatal(err)
	}
	if n := len(cacheFiles(t, dir)); n != 2 {
		t.Errorf("%d cache files, want 2", n)
	}
}

// TestCachedCorrupt: truncated, garbage, wrong-key and bad-program files are
// ignored and replaced by a good entry.
func TestCachedCorrupt(t *testing.T) {
	dir := t.TempDir()
	s := smallProfile()
	want, _, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := cacheKey(s)
	path := filepath.Join(dir, key+".json")
	good, _ := json.Marshal(&cacheEntry{Format: cacheFormat, Key: key, Program: want})
	badProgram, _ := json.Marshal(&cacheEntry{Format: cacheFormat, Key: key, Program: &Program{BPF: []byte{1, 2, 3}}})
	otherKey, _ := json.Marshal(&cacheEntry{Format: cacheFormat, Key: strings.Repeat("0", 64), Program: &Program{BPF: make([]byte, 8)}})
	oldFormat, _ := json.Marshal(&cacheEntry{Format: cacheFormat + 1, Key: key, Program: &Program{BPF: make([]byte, 8)}})
	for name, content := range map[string][]byte{
		"truncated":   good[:len(good)/2],
		"garbage":     []byte("\x00\x01not json"),
		"empty":       nil,
		"bad program": badProgram,
		"other key":   otherKey,
		"old format":  oldFormat,
		"null":        []byte("null"),
	} {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		p, _, err := Cached(dir, s)
		if err != nil || !bytes.Equal(p.BPF, want.BPF) {
			t.Errorf("%s: Cached = %v", name, err)
			continue
		}
		if e := readEntry(path, key); e == nil || !bytes.Equal(e.Program.BPF, want.BPF) {
			t.Errorf("%s: the file was not rewritten", name)
		}
	}
}

// TestCachedConcurrent: many callers at once on an empty cache all get the
// same program and leave one whole file, no temp files.
func TestCachedConcurrent(t *testing.T) {
	dir := t.TempDir()
	s := loadDefaultProfile(t)
	var wg sync.WaitGroup
	progs := make([]*Program, 16)
	errs := make([]error, len(progs))
	for i := range progs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			progs[i], _, errs[i] = Cached(dir, s)
		}()
	}
	wg.Wait()
	for i := range progs {
		if errs[i] != nil || !bytes.Equal(progs[i].BPF, progs[0].BPF) {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
	}
	if files := cacheFiles(t, dir); len(files) != 1 || !strings.HasSuffix(files[0], ".json") || strings.HasPrefix(files[0], ".") {
		t.Errorf("cache holds %q", files)
	}
}

// TestCachedBadDir: a cache dir others can write, or a symlink, is refused;
// a profile that does not compile is not cached.
func TestCachedBadDir(t *testing.T) {
	root := t.TempDir()
	open := filepath.Join(root, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Cached(open, smallProfile()); err == nil || !strings.Contains(err.Error(), "chmod go-w") {
		t.Errorf("world-writable dir: %v", err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Cached(link, smallProfile()); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("symlink: %v", err)
	}
	dir := filepath.Join(root, "c")
	if _, _, err := Cached(dir, &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_FOO"}); err == nil || !strings.Contains(err.Error(), "linux.seccomp.defaultAction") {
		t.Errorf("bad profile: %v", err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("a failed compile made the cache directory (%v)", err)
	}
}

// TestCacheKey: the key follows the profile, nothing else of it.
func TestCacheKey(t *testing.T) {
	a, b := smallProfile(), smallProfile()
	ka, _ := cacheKey(a)
	kb, _ := cacheKey(b)
	b.Syscalls[0].Names = append(b.Syscalls[0].Names, "close")
	kc, _ := cacheKey(b)
	if ka != kb || ka == kc || len(ka) != 64 {
		t.Errorf("keys %s %s %s", ka, kb, kc)
	}
}

func BenchmarkCompileDefaultProfile(b *testing.B) {
	s := loadDefaultProfile(b)
	for b.Loop() {
		if _, _, err := Compile(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCachedDefaultProfile(b *testing.B) {
	s := loadDefaultProfile(b)
	dir := b.TempDir()
	if _, _, err := Cached(dir, s); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := Cached(dir, s); err != nil {
			b.Fatal(err)
		}
	}
}
