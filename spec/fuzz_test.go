package spec

import (
	"encoding/json"
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
	f.Fuzz(func(t *testing.T, data []byte) {
		bundle := t.TempDir()
		if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
			t.Fatal(err)
		}
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
			_ = err.Error()
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
