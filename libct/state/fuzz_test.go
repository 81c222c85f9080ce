package state

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz targets for container IDs and state.json. Seeds:
// testdata/fuzz/<Target>/. Run them all with tests/fuzz/run.sh.

// FuzzValidateID: an accepted ID is one plain directory name under the
// root (no separator, not . or .., no NUL, at most MaxIDLen bytes, only
// the documented characters); a rejection is one line.
func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"a", "my_container-1.2+x", "..", ".", "a/b", "a\x00b", "é", "a\nb", "x\x00", strings.Repeat("x", 256), strings.Repeat("z", 1025), "@rt-init"} {
		f.Add(s)
	}
	root := "/run/rt"
	f.Fuzz(func(t *testing.T, id string) {
		err := ValidateID(id)
		if err != nil {
			// The ID is quoted (%q) and cut at 64 bytes: at most 4
			// characters a byte, plus the text.
			if msg := err.Error(); strings.ContainsAny(msg, "\n\x00") || len(msg) > 512 {
				t.Fatalf("error is not one short printable line: %q", msg)
			}
			return
		}
		if id == "" || id == "." || id == ".." || len(id) > MaxIDLen {
			t.Fatalf("ValidateID(%q) accepted", id)
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_+-.", c) >= 0) {
				t.Fatalf("ValidateID(%q) accepted byte %q", id, c)
			}
		}
		if d := (Store{Root: root}).Dir(id); filepath.Dir(d) != root || filepath.Base(d) != id {
			t.Fatalf("ID %q gives state dir %q, not a child of %s", id, d, root)
		}
	})
}

// FuzzLoadState: any state.json either loads or gives a one-line error
// that names the container; a loaded record names its own container and
// survives Save and Load unchanged.
func FuzzLoadState(f *testing.F) {
	st := &State{OCIVersion: "1.3.0", ID: "c1", Bundle: "/b", Rootfs: "/b/rootfs", Phase: PhaseCreated,
		Owner: 10, OwnerStart: 20, Pid: 30, PidStart: 40, CgroupPaths: map[string]string{"pids": "/sys/fs/cgroup/pids/c1"},
		CgroupCreated: true, CgroupDirs: []string{"/sys/fs/cgroup/pids/c1"}, Fifo: true}
	good, _ := json.Marshal(st)
	f.Add(good)
	f.Add([]byte(`{"id":"c1","phase":"creating"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"id":"c1","pid":"x"}`))
	f.Add([]byte(`{"id":"c1","created":"yesterday"}`))
	f.Add(good[:len(good)/2])
	// One directory for every input: fuzzing makes no temp dir per input.
	dir := filepath.Join(f.TempDir(), "c1")
	if err := os.Mkdir(dir, 0o700); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, "state.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		h := &Handle{ID: "c1", Dir: dir, fd: -1}
		st, err := h.Load()
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, `"c1"`) {
				t.Fatalf("load error is not one line naming the container: %q", msg)
			}
			return
		}
		if st.ID != "c1" {
			t.Fatalf("loaded record of c1 names container %q", st.ID)
		}
		first, err := json.Marshal(st)
		if err != nil {
			t.Fatalf("loaded record does not encode: %v", err)
		}
		if err := h.Save(st); err != nil {
			t.Fatal(err)
		}
		again, err := h.Load()
		if err != nil {
			t.Fatalf("saved record does not load: %v", err)
		}
		second, _ := json.Marshal(again)
		if !bytes.Equal(first, second) {
			t.Fatalf("Save+Load changed the record:\n%s\n%s", first, second)
		}
	})
}
