package spec

import "testing"

func TestFeaturesListsKnownOptions(t *testing.T) {
	f := Features(Host{CgroupV1: true})
	if f.OCIVersionMax == "" || len(f.Hooks) != 6 || f.Linux == nil || !*f.Linux.Cgroup.V1 || *f.Linux.Cgroup.V2 {
		t.Fatalf("features: %+v", f)
	}
	for _, o := range f.MountOptions {
		if _, err := ParseMountOptions([]string{o}); err != nil {
			t.Errorf("listed mount option %q does not parse: %v", o, err)
		}
	}
	if *f.Linux.Seccomp.Enabled || len(f.Linux.Seccomp.Actions) != 0 {
		t.Error("seccomp listed for a build without libseccomp")
	}
	sc := Features(Host{Seccomp: true}).Linux.Seccomp
	if !*sc.Enabled || len(sc.Actions) != 9 || len(sc.Operators) != 7 || len(sc.SupportedFlags) != 4 {
		t.Errorf("seccomp features: %+v", sc)
	}
}
