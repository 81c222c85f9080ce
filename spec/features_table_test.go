package spec

import (
	"os"
	"strings"
	"testing"
)

// conformanceTable reads docs/spec-conformance.md: the first cell of each
// row (its backquoted field names) -> the status cell.
func conformanceTable(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../docs/spec-conformance.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "| `") {
			continue
		}
		c := strings.Split(l, " | ")
		if len(c) < 2 {
			continue
		}
		rows[strings.TrimPrefix(c[0], "| ")] = strings.TrimSpace(c[1])
	}
	return rows
}

// status finds the row whose field cell starts with field.
func status(t *testing.T, rows map[string]string, field string) string {
	t.Helper()
	for k, v := range rows {
		if strings.HasPrefix(k, field) {
			return v
		}
	}
	t.Fatalf("docs/spec-conformance.md has no row for %s", field)
	return ""
}

func usable(st string) bool {
	return strings.HasPrefix(st, "supported") || strings.HasPrefix(st, "partial")
}

// TestFeaturesAgreeWithTable: what `rt features` says is supported is
// supported (or partial) in docs/spec-conformance.md, and the reverse.
func TestFeaturesAgreeWithTable(t *testing.T) {
	rows := conformanceTable(t)
	f := Features(Host{CgroupV1: true, CgroupV2: true, AppArmor: true, SELinux: true, Seccomp: true})

	agree := func(what string, feature bool, field string) {
		t.Helper()
		if st := status(t, rows, field); feature != usable(st) {
			t.Errorf("%s: rt features says %v, the table's %s row says %q", what, feature, field, st)
		}
	}

	// Namespaces: each one in features has a supported row, and every
	// namespace type the table supports is in features.
	nsRows := map[string]string{}
	for k, v := range rows {
		if strings.HasPrefix(k, "`linux.namespaces[].type`") {
			for _, n := range strings.Split(strings.TrimPrefix(k, "`linux.namespaces[].type` "), ", ") {
				nsRows[n] = v
			}
		}
	}
	inFeatures := map[string]bool{}
	for _, n := range f.Linux.Namespaces {
		inFeatures[n] = true
		if !usable(nsRows[n]) {
			t.Errorf("namespace %s: in rt features, table says %q", n, nsRows[n])
		}
	}
	for n, st := range nsRows {
		if usable(st) && !inFeatures[n] {
			t.Errorf("namespace %s: supported in the table, missing from rt features", n)
		}
	}

	// Hooks, both ways.
	hooks := map[string]bool{}
	for _, h := range f.Hooks {
		hooks[h] = true
		agree("hook "+h, true, "`hooks."+h+"`")
	}
	for k, v := range rows {
		if h, ok := strings.CutPrefix(k, "`hooks."); ok {
			h = strings.TrimSuffix(h, "`")
			if usable(v) && !hooks[h] {
				t.Errorf("hook %s: supported in the table, missing from rt features", h)
			}
		}
	}

	l := f.Linux
	agree("seccomp", l.Seccomp != nil && l.Seccomp.Enabled != nil && *l.Seccomp.Enabled, "`linux.seccomp`")
	agree("apparmor", *l.Apparmor.Enabled, "`process.apparmorProfile`")
	agree("selinux", *l.Selinux.Enabled, "`process.selinuxLabel`")
	agree("intelRdt", *l.IntelRdt.Enabled, "`linux.intelRdt`")
	agree("mountExtensions.idmap", *l.MountExtensions.IDMap.Enabled, "`mounts[].uidMappings`")
	agree("netDevices", *l.NetDevices.Enabled, "`linux.netDevices`")
	agree("memoryPolicy", l.MemoryPolicy != nil && len(l.MemoryPolicy.Modes) > 0, "`linux.memoryPolicy`")
	agree("cgroup.rdma", *l.Cgroup.Rdma, "`linux.resources.rdma`")
	agree("cgroup.systemd", *l.Cgroup.Systemd, "`--systemd-cgroup`")
	agree("capabilities", len(l.Capabilities) > 0, "`process.capabilities.bounding`")
	if len(f.MountOptions) == 0 || !usable(status(t, rows, "`mounts[].options`")) {
		t.Errorf("mount options: rt features lists %d, table says %q", len(f.MountOptions), status(t, rows, "`mounts[].options`"))
	}
	// Every listed mount option is one the parser accepts.
	for _, o := range f.MountOptions {
		if _, err := ParseMountOptions([]string{o}); err != nil {
			t.Errorf("rt features lists mount option %q, the parser refuses it: %v", o, err)
		}
	}
}
