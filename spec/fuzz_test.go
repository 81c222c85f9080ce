package spec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func FuzzLoad(f *testing.F) {
	def, err := json.Marshal(Default())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(def)
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"ociVersion":"1.0.0","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"},` +
		`"linux":{"namespaces":[{"type":"mount"},{"type":"user"}],"uidMappings":[{"hostID":1,"size":1}],` +
		`"gidMappings":[{"hostID":1,"size":1}],"sysctl":{"net/../x":"1"},"devices":[{"path":"/dev/x","type":"c"}]}}`))
	f.Add([]byte(`{"process":{"user":{"uid":"x"}}}`))
	f.Add([]byte(`{"mounts":[{"destination":"../x","options":["rbind","ridmap","rro"]}]}`))
	f.Add([]byte("{\n\"a\": [1, 2,,]}"))
	// One bundle for every input: fuzzing makes no temp dir per input.
	bundle := f.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(bundle, ConfigName), data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Load(bundle)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, ConfigName) {
				t.Fatalf("load error does not name config.json: %q", msg)
			}
			return
		}
		if err := Validate(s, bundle); err != nil {
			// Every validation error names the config.json field.
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("validation error names no field: %q", err)
			}
		} else {
			// A valid config stays valid once encoded and loaded again.
			again, err := json.Marshal(s)
			if err != nil {
				t.Fatalf("valid config does not encode: %v", err)
			}
			if err := os.WriteFile(filepath.Join(bundle, ConfigName), again, 0o644); err != nil {
				t.Fatal(err)
			}
			s2, err := Load(bundle)
			if err != nil {
				t.Fatalf("valid config, encoded, does not load: %v\n%s", err, again)
			}
			if err := Validate(s2, bundle); err != nil {
				t.Fatalf("valid config, encoded and loaded, is invalid: %v\n%s", err, again)
			}
		}
		if s.Process != nil {
			_ = ValidateProcess(s.Process, "process")
		}
		for _, m := range s.Mounts {
			_, _ = ParseMountOptions(m.Options)
		}
	})
}

func FuzzParseMountOptions(f *testing.F) {
	f.Add("nosuid,strictatime,mode=755,size=65536k")
	f.Add("rbind,rprivate,rro,rnoatime,ridmap")
	f.Add("ro,rw,bind,,defaults,tmpcopyup")
	f.Add("a\x00b")
	f.Fuzz(func(t *testing.T, s string) {
		opts := strings.Split(s, ",")
		m, err := ParseMountOptions(opts)
		if err != nil {
			if !strings.Contains(s, "\x00") {
				t.Fatalf("error without NUL: %v", err)
			}
			return
		}
		if m.Flags&m.ClearFlags != 0 {
			t.Fatalf("flags both set and cleared: %#x %#x", m.Flags, m.ClearFlags)
		}
		// An atime mode in attr_set comes with MOUNT_ATTR__ATIME in attr_clr.
		if m.RecAttrSet&m.RecAttrClr&^unix.MOUNT_ATTR__ATIME != 0 {
			t.Fatalf("attrs both set and cleared: %#x %#x", m.RecAttrSet, m.RecAttrClr)
		}
		if m.Recursive && !m.Bind {
			t.Fatal("recursive without bind")
		}
		if strings.Contains(m.Data, ",,") || strings.HasPrefix(m.Data, ",") || strings.HasSuffix(m.Data, ",") {
			t.Fatalf("data has empty options: %q", m.Data)
		}
	})
}

func FuzzSysctlPath(f *testing.F) {
	for _, s := range []string{"net.ipv4.ip_forward", "net/ipv4/conf/eth0.100/rp_filter", "net/../x", "..", "a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, k string) {
		p, err := SysctlPath(k)
		if err != nil {
			return
		}
		if filepath.Clean("/proc/sys/"+p) != "/proc/sys/"+p || filepath.IsAbs(p) {
			t.Fatalf("SysctlPath(%q) = %q escapes or is not clean", k, p)
		}
	})
}
