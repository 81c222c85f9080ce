package spec

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func writeBundle(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigName), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"wrong type", `{"process":{"user":{"uid":"0"}}}`,
			"config.json: process.user.uid: cannot unmarshal string into Go value of type uint32"},
		{"array index", `{"mounts":[{"destination":"/a"},{"destination":5}]}`,
			"config.json: mounts[1].destination: cannot unmarshal number into Go value of type string"},
		{"map key", `{"linux":{"sysctl":{"net.ipv4.ip_forward":1}}}`,
			`config.json: linux.sysctl["net.ipv4.ip_forward"]: cannot unmarshal number into Go value of type string`},
		{"object for string", `{"hostname":{}}`,
			"config.json: hostname: cannot unmarshal object into Go value of type string"},
		{"negative uint", `{"process":{"rlimits":[{"type":"RLIMIT_NOFILE","hard":-1}]}}`,
			"config.json: process.rlimits[0].hard: cannot unmarshal number -1 into Go value of type uint64"},
		{"not an object", `[1,2]`, "config.json: cannot unmarshal array into a JSON object"},
		{"syntax", "{\n  \"ociVersion\": \"1.0.0\",\n  \"process\": {,}\n}",
			"config.json: syntax error at line 3, column 15 (byte 42): invalid character ','"},
		{"truncated", `{"ociVersion": "1.0.0"`, "config.json: syntax error at line 1, column 22 (byte 22): unexpected end of JSON input"},
		{"trailing garbage", `{} {}`, "config.json: syntax error at line 1, column 4"},
		{"empty", " \n", "config.json: empty file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeBundle(t, tt.config))
			if err == nil {
				t.Fatalf("Load succeeded, want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error\n got %q\nwant %q...", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error has more than one line: %q", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error %v is not a *FieldError", err)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	missing := t.TempDir()
	_, err := Load(missing)
	if err == nil || !strings.HasPrefix(err.Error(), "config.json not found in bundle "+missing+": ") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v", err)
	}

	// Relative bundle path: the error names the absolute bundle.
	t.Chdir(missing)
	_, err = Load(".")
	if err == nil || !strings.Contains(err.Error(), "bundle "+missing+":") {
		t.Errorf("relative bundle: got %v", err)
	}

	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, ConfigName), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: got %v", err)
	}

	fifo := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(fifo, ConfigName), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("fifo: got %v", err)
	}

	big := t.TempDir()
	f, err := os.Create(filepath.Join(big, ConfigName))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxConfigSize + 1); err != nil { // sparse
		t.Fatal(err)
	}
	f.Close()
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("huge file: got %v", err)
	}
}

func TestLoadOK(t *testing.T) {
	s, err := Load(writeBundle(t, `{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"},"x-unknown":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != "1.0.2" || s.Process.Args[0] != "sh" || s.Root.Path != "rootfs" {
		t.Errorf("decoded %+v", s)
	}
}

func TestLoadProcess(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "process.json")
	write := func(s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"args":["ls","-l"],"cwd":"/tmp","user":{"uid":1}}`)
	proc, err := LoadProcess(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(proc.Args) != 2 || proc.Cwd != "/tmp" || proc.User.UID != 1 {
		t.Errorf("decoded %+v", proc)
	}

	write(`{"args":["ls", 1]}`)
	_, err = LoadProcess(p)
	want := p + ": process.args[1]: cannot unmarshal number into Go value of type string"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}

	write(`{"args":`)
	if _, err = LoadProcess(p); err == nil || !strings.HasPrefix(err.Error(), p+": process: syntax error at line 1") {
		t.Errorf("syntax: got %v", err)
	}

	if _, err = LoadProcess(filepath.Join(dir, "nope.json")); err == nil ||
		!strings.HasPrefix(err.Error(), "process file "+dir+"/nope.json not found: ") {
		t.Errorf("missing: got %v", err)
	}
}

func TestLineCol(t *testing.T) {
	data := []byte("ab\ncd\nef")
	for _, tt := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {1, 1, 1}, {2, 1, 2}, {3, 2, 1}, {5, 2, 2}, {8, 3, 2}, {99, 3, 2}} {
		l, c := lineCol(data, tt.off)
		if l != tt.line || c != tt.col {
			t.Errorf("lineCol(%d) = %d,%d want %d,%d", tt.off, l, c, tt.line, tt.col)
		}
	}
}
