package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Fuzz targets for the name tables of config.json (propagation, capability
// and rlimit names) and for process files. Seeds: testdata/fuzz/<Target>/.
// Run them all with tests/fuzz/run.sh.

// FuzzPropagation: a name is accepted only if it is one of the eight
// propagation names (or ""), and then gives exactly one propagation type,
// maybe with MS_REC, that matches the name.
func FuzzPropagation(f *testing.F) {
	for _, s := range []string{"", "private", "rslave", "runbindable", "rbind", "Shared", " private", "private\x00"} {
		f.Add(s)
	}
	const types = unix.MS_SHARED | unix.MS_SLAVE | unix.MS_PRIVATE | unix.MS_UNBINDABLE
	f.Fuzz(func(t *testing.T, name string) {
		p, err := Propagation(name)
		if err != nil {
			if p != 0 {
				t.Fatalf("Propagation(%q) = %#x with error %v", name, p, err)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\x00") {
				t.Fatalf("error is not one printable line: %q", msg)
			}
			return
		}
		if name == "" {
			if p != 0 {
				t.Fatalf(`Propagation("") = %#x, want 0`, p)
			}
			return
		}
		typ := p & types
		if typ == 0 || typ&(typ-1) != 0 || p&^(types|unix.MS_REC) != 0 {
			t.Fatalf("Propagation(%q) = %#x: not one type (+MS_REC)", name, p)
		}
		if rec := p&unix.MS_REC != 0; rec != strings.HasPrefix(name, "r") {
			t.Fatalf("Propagation(%q) = %#x: MS_REC does not match the r prefix", name, p)
		}
		// The same name is accepted as a mount option, with the same flags.
		m, err := ParseMountOptions([]string{name})
		if err != nil || len(m.Propagation) != 1 || m.Propagation[0] != p || m.Flags != 0 || m.Data != "" {
			t.Fatalf("ParseMountOptions([%q]) = %+v, %v; want only propagation %#x", name, m, err, p)
		}
	})
}

// FuzzCapValue: only exact, known names are accepted, and the value maps
// back to the same name.
func FuzzCapValue(f *testing.F) {
	for _, s := range []string{"CAP_CHOWN", "CAP_CHECKPOINT_RESTORE", "cap_chown", "CAP_FOO", "CAP_", "CHOWN", "CAP_SYS_ADMIN "} {
		f.Add(s)
	}
	names := CapNames()
	f.Fuzz(func(t *testing.T, name string) {
		v, ok := CapValue(name)
		if !ok {
			return
		}
		if v < 0 || v > CapLast || names[v] != name {
			t.Fatalf("CapValue(%q) = %d, which is %q", name, v, names[min(max(v, 0), CapLast)])
		}
	})
}

// rlimNlimits is RLIM_NLIMITS of Linux: resources are 0..15.
const rlimNlimits = 16

// FuzzRlimitType: only exact, known names are accepted, each maps to a
// setrlimit(2) resource, and no two names share one.
func FuzzRlimitType(f *testing.F) {
	for _, s := range []string{"RLIMIT_NOFILE", "RLIMIT_AS", "rlimit_nofile", "RLIMIT_FOO", "NOFILE", "RLIMIT_NOFILE\x00"} {
		f.Add(s)
	}
	byRes := map[int]string{}
	for n, r := range rlimits {
		if o, dup := byRes[r]; dup {
			f.Fatalf("rlimits %s and %s share resource %d", n, o, r)
		}
		byRes[r] = n
	}
	f.Fuzz(func(t *testing.T, name string) {
		r, ok := RlimitType(name)
		if !ok {
			return
		}
		if r < 0 || r >= rlimNlimits || byRes[r] != name || !strings.HasPrefix(name, "RLIMIT_") {
			t.Fatalf("RlimitType(%q) = %d (%q)", name, r, byRes[r])
		}
	})
}

// FuzzLoadProcess: a process file (exec --process) loads or fails with an
// error that names the file; a loaded process validates or fails without
// a panic, with a one-line error naming a process field.
func FuzzLoadProcess(f *testing.F) {
	f.Add([]byte(`{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0}}`))
	f.Add([]byte(`{"args":"sh"}`))
	f.Add([]byte(`{"args":["sh"],"cwd":"rel","rlimits":[{"type":"RLIMIT_FOO"}],"capabilities":{"bounding":["CAP_X"]}}`))
	f.Add([]byte(`{"args":["sh"],"cwd":"/","env":["A"],"user":{"uid":-1}}`))
	f.Add([]byte(``))
	p := filepath.Join(f.TempDir(), "process.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		proc, err := LoadProcess(p)
		if err != nil {
			if !strings.HasPrefix(err.Error(), p) {
				t.Fatalf("load error does not name the file: %q", err)
			}
			return
		}
		if err := ValidateProcess(proc, "process"); err != nil && !strings.HasPrefix(err.Error(), "process") {
			t.Fatalf("validation error does not name a process field: %q", err)
		}
	})
}
