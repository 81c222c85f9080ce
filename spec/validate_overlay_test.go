package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseOverlay(t *testing.T) {
	got, err := ParseOverlay([]string{"ro", "lowerdir=/a:b\\:c::/d", "upperdir=/u", "nodev", "workdir=/w",
		"index=off", "metacopy=on", "redirect_dir=follow", "volatile", "userxattr", "xino=auto", "rslave", "custom=1"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Overlay{
		Lower: []string{"/a", "b:c"}, Data: []string{"/d"}, Upper: "/u", Work: "/w",
		Params: []OverlayParam{
			{Key: "index", Value: "off"}, {Key: "metacopy", Value: "on"}, {Key: "redirect_dir", Value: "follow"},
			{Key: "volatile", Flag: true}, {Key: "userxattr", Flag: true}, {Key: "xino", Value: "auto"},
			{Key: "custom", Value: "1"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseOverlay:\n got %+v\nwant %+v", got, want)
	}
	got, err = ParseOverlay([]string{"lowerdir+=/x", "lowerdir+=/y,z", "datadir+=/d"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Lower, []string{"/x", "/y,z"}) || !reflect.DeepEqual(got.Data, []string{"/d"}) || got.Upper != "" {
		t.Fatalf("lowerdir+/datadir+: %+v", got)
	}
}

func TestParseOverlayErrors(t *testing.T) {
	for _, c := range []struct {
		opts []string
		want string
	}{
		{[]string{"upperdir=/u", "workdir=/w"}, "at least one lower layer"},
		{[]string{"lowerdir=/a", "upperdir=/u"}, "upperdir and workdir go together"},
		{[]string{"lowerdir=/a", "workdir=/w"}, "upperdir and workdir go together"},
		{[]string{"lowerdir=/a", "volatile"}, "volatile needs upperdir"},
		{[]string{"lowerdir=/a", "lowerdir+=/b"}, "can't be mixed"},
		{[]string{"lowerdir=/a", "lowerdir=/b"}, "lowerdir given twice"},
		{[]string{"lowerdir=/a::"}, "empty layer path"},
		{[]string{"lowerdir=:/a"}, "empty layer path"},
		{[]string{"lowerdir=/a:::/b"}, "empty layer path"},
		{[]string{"lowerdir"}, "needs a path"},
		{[]string{"lowerdir="}, "empty value"},
		{[]string{"lowerdir=/a", "index=yes"}, "want index=on|off"},
		{[]string{"lowerdir=/a", "redirect_dir=maybe"}, "want redirect_dir=on|off|follow|nofollow"},
		{[]string{"lowerdir=/a", "userxattr=1"}, "userxattr takes no value"},
		{[]string{"lowerdir=/a\x00"}, "NUL"},
	} {
		_, err := ParseOverlay(c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseOverlay(%q): %v, want %q", c.opts, err, c.want)
		}
	}
}

func overlayBundle(t *testing.T) string {
	t.Helper()
	b := testBundle(t)
	for _, d := range []string{"l1", "l2", "up", "wk"} {
		if err := os.Mkdir(filepath.Join(b, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(b, "file"), nil, 0o644)
	return b
}

func TestValidateOverlayMounts(t *testing.T) {
	b := overlayBundle(t)
	ov := func(opts ...string) specs.Mount {
		return specs.Mount{Destination: "/ov", Type: "overlay", Source: "overlay", Options: opts}
	}
	ok := []specs.Mount{
		ov("lowerdir=l1:l2", "upperdir=up", "workdir=wk", "nodev", "index=off"),
		ov("lowerdir=" + filepath.Join(b, "l1")),
		ov("lowerdir+=l1", "lowerdir+=l2", "ro"),
	}
	for _, m := range ok {
		s := Default()
		s.Mounts = append(s.Mounts, m)
		if err := Validate(s, b); err != nil {
			t.Errorf("%q: %v", m.Options, err)
		}
	}
	n := len(Default().Mounts)
	bad := []struct {
		m    specs.Mount
		want string
	}{
		{ov("lowerdir=l1:missing"), "mounts[%d].options: lowerdir " + filepath.Join(b, "missing") + ": stat"},
		{ov("lowerdir=l1", "upperdir=file", "workdir=wk"), "mounts[%d].options: upperdir " + filepath.Join(b, "file") + ": not a directory"},
		{ov("lowerdir=l1", "upperdir=up"), "mounts[%d].options: upperdir and workdir go together"},
		{ov("lowerdir=l1", "bind"), "mounts[%d].options: \"bind\""},
		{ov("lowerdir=l1", "remount"), "mounts[%d].options: \"bind\", \"rbind\" and \"remount\""},
		{ov("lowerdir=l1", "acl"), "mounts[%d].options: \"acl\" and \"iversion\""},
	}
	for _, c := range bad {
		s := Default()
		s.Mounts = append(s.Mounts, c.m)
		want := strings.Replace(c.want, "%d", strconv.Itoa(n), 1)
		if err := Validate(s, b); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: %v, want prefix %q", c.m.Options, err, want)
		}
	}
}

func TestCowAnnotations(t *testing.T) {
	b := testBundle(t)
	for _, c := range []struct {
		ann  map[string]string
		want string
	}{
		{map[string]string{AnnotationCow: "yes"}, `annotations["org.rt.rootfs.cow"]: "yes": want true or false`},
		{map[string]string{AnnotationCowSize: "12q"}, `annotations["org.rt.rootfs.cow.size"]: "12q" is not a tmpfs size`},
		{map[string]string{AnnotationCowDir: "disk"}, `annotations["org.rt.rootfs.cow.dir"]: "disk": want tmpfs`},
	} {
		s := Default()
		s.Annotations = c.ann
		if err := Validate(s, b); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v: %v, want prefix %q", c.ann, err, c.want)
		}
	}
	for _, size := range []string{"0", "64m", "1G", "10%", "4096"} {
		s := Default()
		s.Annotations = map[string]string{AnnotationCow: "true", AnnotationCowSize: size}
		if err := Validate(s, b); err != nil {
			t.Errorf("size %q: %v", size, err)
		}
	}
}

func TestCowRootfs(t *testing.T) {
	writable := func() *specs.Spec { s := Default(); s.Root.Readonly = false; return s }
	if c, err := CowRootfs(Default(), false); err != nil || c.Enabled {
		t.Fatalf("no flag, no annotation: %+v %v", c, err)
	}
	c, err := CowRootfs(writable(), true)
	if err != nil || c != (Cow{Enabled: true}) {
		t.Fatalf("--cow-rootfs: %+v %v", c, err)
	}
	s := writable()
	s.Annotations = map[string]string{AnnotationCow: "true", AnnotationCowSize: "64m"}
	if c, err := CowRootfs(s, false); err != nil || c != (Cow{Enabled: true, Size: "64m"}) {
		t.Fatalf("annotation with size: %+v %v", c, err)
	}
	s.Annotations[AnnotationCowSize] = "0"
	if c, err := CowRootfs(s, false); err != nil || c != (Cow{Enabled: true, Size: "0"}) {
		t.Fatalf("size 0 (no limit) is passed on: %+v %v", c, err)
	}
	s.Annotations = map[string]string{AnnotationCowDir: "state"}
	if c, err := CowRootfs(s, true); err != nil || c != (Cow{Enabled: true, OnDisk: true}) {
		t.Fatalf("cow.dir=state: %+v %v", c, err)
	}
	for _, bad := range []struct {
		s    *specs.Spec
		flag bool
		want string
	}{
		{Default(), true, "root.readonly: true with --cow-rootfs"},
		{func() *specs.Spec {
			s := Default()
			s.Annotations = map[string]string{AnnotationCow: "true"}
			return s
		}(), false, `root.readonly: true with annotations["org.rt.rootfs.cow"]`},
		{func() *specs.Spec {
			s := writable()
			s.Annotations = map[string]string{AnnotationCowDir: "state", AnnotationCowSize: "1g"}
			return s
		}(), true, `annotations["org.rt.rootfs.cow.size"]: sizes the tmpfs upper layer`},
		{func() *specs.Spec {
			s := writable()
			var ns []specs.LinuxNamespace
			for _, n := range s.Linux.Namespaces {
				if n.Type != specs.MountNamespace {
					ns = append(ns, n)
				}
			}
			s.Linux.Namespaces = ns
			return s
		}(), true, "linux.namespaces: --cow-rootfs needs a new mount namespace"},
		{func() *specs.Spec {
			s := writable()
			for i, n := range s.Linux.Namespaces {
				if n.Type == specs.MountNamespace {
					s.Linux.Namespaces[i].Path = "/proc/1/ns/mnt"
				}
			}
			return s
		}(), true, "linux.namespaces: --cow-rootfs needs a new mount namespace"},
	} {
		if _, err := CowRootfs(bad.s, bad.flag); err == nil || !strings.HasPrefix(err.Error(), bad.want) {
			t.Errorf("%v, want prefix %q", err, bad.want)
		}
	}
}
