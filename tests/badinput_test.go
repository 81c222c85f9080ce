package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Bad input: every case fails with a non-zero exit and ONE stderr line
// naming the config field or argument, and leaves nothing behind: no state
// entry, no cgroup, no host mount, no process. Serial on purpose, so the
// before/after comparisons see only this test.

type badCase struct {
	name  string
	cmd   string              // "create" (default) or "run"
	id    *string             // a literal ID instead of a fresh one
	mut   func(*specs.Spec)   // applied to the config
	raw   func(bundle string) // applied to the bundle after config.json is written
	extra []string            // more arguments before the ID
	want  string              // substring of stderr
	bug   string              // non-empty: a known rt bug makes this case fail
}

func strp(s string) *string { return &s }

func setRawJSON(field, value string) func(string) {
	// Replaces the first `"field": <number>` by `"field": value`.
	return func(bundle string) {
		p := filepath.Join(bundle, "config.json")
		b, _ := os.ReadFile(p)
		s := string(b)
		i := strings.Index(s, `"`+field+`": `)
		if i < 0 {
			panic("no field " + field)
		}
		j := i + len(field) + 4
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		os.WriteFile(p, []byte(s[:j]+value+s[k:]), 0o644)
	}
}

func nsIndex(s *specs.Spec, t specs.LinuxNamespaceType) int {
	for i, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return i
		}
	}
	return -1
}

func badCases() []badCase {
	longID := strings.Repeat("x", 1024)
	return []badCase{
		{name: "invalid JSON", raw: func(b string) {
			os.WriteFile(filepath.Join(b, "config.json"), []byte("{\n  \"ociVersion\": \"1.3.0\",\n  oops\n}"), 0o644)
		},
			want: "config.json: syntax error at line 3"},
		{name: "uid as string", raw: setRawJSON("uid", `"0"`), want: "process.user.uid"},
		{name: "missing rootfs", mut: func(s *specs.Spec) { s.Root.Path = "no-such-rootfs" }, want: "root.path"},
		{name: "no process", mut: func(s *specs.Spec) { s.Process = nil }, want: "process"},
		{name: "empty args", mut: func(s *specs.Spec) { s.Process.Args = []string{} }, want: "process.args"},
		{name: "relative cwd", mut: func(s *specs.Spec) { s.Process.Cwd = "tmp" }, want: "process.cwd"},
		{name: "unknown namespace", mut: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "foo"})
		}, want: "linux.namespaces[6].type"},
		{name: "duplicate namespace", mut: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
		}, want: "linux.namespaces[6].type: duplicate"},
		{name: "missing namespace path", mut: func(s *specs.Spec) {
			s.Linux.Namespaces[nsIndex(s, specs.NetworkNamespace)].Path = "/proc/999999999/ns/net"
		}, want: "linux.namespaces[1].path"},
		{name: "user namespace without mappings", mut: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, want: "linux.uidMappings"},
		{name: "unknown capability", mut: func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_FOO")
		}, want: "process.capabilities.bounding[3]"},
		{name: "unknown rlimit", mut: func(s *specs.Spec) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_FOO", Soft: 1, Hard: 1})
		}, want: "process.rlimits[1].type"},
		{name: "terminal", mut: func(s *specs.Spec) { s.Process.Terminal = true }, want: "terminal"},
		{name: "hostname without uts", mut: func(s *specs.Spec) { dropNS(s, specs.UTSNamespace) }, want: "hostname"},
		{name: "host sysctl", mut: func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.pid_max": "4096"} },
			want: `linux.sysctl["kernel.pid_max"]`},
		{name: "dotdot destination", mut: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/../../etc", Type: "tmpfs", Source: "tmpfs"})
		}, want: "mounts[7].destination"},
		{name: "config.json missing", raw: func(b string) { os.Remove(filepath.Join(b, "config.json")) }, want: "config.json not found"},
		{name: "id with slash", id: strp("a/b"), want: "container id"},
		{name: "id dotdot", id: strp(".."), want: "container id"},
		{name: "id empty", id: strp(""), want: "container id"},
		{name: "id 1KiB", id: &longID, want: "container id",
			bug: "state.MaxIDLen is 1024 but an ID is a directory name (NAME_MAX 255): IDs of 256..1024 bytes pass ValidateID and fail at mkdir with \"state dir <root>/<1 KiB>: file name too long\""},
		// Failures inside the init, after the spawn: the undo path.
		{name: "missing bind source", cmd: "run", mut: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "/no-such-dir-" + runToken, Options: []string{"bind"}})
		}, want: "mounts[7]"},
		{name: "cwd not in rootfs", cmd: "run", mut: func(s *specs.Spec) { s.Process.Cwd = "/no-such-dir" }, want: "process.cwd"},
		{name: "program not found", mut: func(s *specs.Spec) { s.Process.Args = []string{"no-such-program"} }, want: "process.args[0]"},
		{name: "oomScoreAdj lowered", cmd: "run", mut: func(s *specs.Spec) {
			v := -999 // lowering needs CAP_SYS_RESOURCE
			s.Process.OOMScoreAdj = &v
		}, want: "process.oomScoreAdj"},
		{name: "unknown filesystem", cmd: "run", mut: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "nosuchfs", Source: "none"})
		}, want: "mounts[7]"},
		{name: "pid file in a missing dir", extra: []string{"--pid-file", "/no-such-dir-" + runToken + "/pid"}, want: "--pid-file"},
		{name: "long hostname", mut: func(s *specs.Spec) { s.Hostname = strings.Repeat("h", 65) }, want: "hostname"},
		{name: "device outside /dev", mut: func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/etc/null", Type: "c", Major: 1, Minor: 3}}
		}, want: "linux.devices[0].path"},
		{name: "cgroupsPath root", mut: func(s *specs.Spec) { s.Linux.CgroupsPath = "/" }, want: "linux.cgroupsPath"},
		{name: "seccomp bad action", mut: func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_BOGUS"}
		}, want: "linux.seccomp"},
		{name: "hook relative path", mut: func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "true"}}}
		}, want: "hooks.createRuntime[0].path"},
		{name: "rlimit above hard limit", cmd: "run", mut: func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1 << 30, Hard: 1 << 30}}
		}, want: "process.rlimits[0]"},
	}
}

func TestBadInput(t *testing.T) {
	h := newH(t)
	for _, c := range badCases() {
		t.Run(c.name, func(t *testing.T) {
			var b *Bundle
			if c.mut != nil {
				b = h.Bundle(c.mut)
			} else {
				b = h.Bundle()
			}
			if c.raw != nil {
				c.raw(b.Dir)
			}
			id := h.ID("bad")
			if c.id != nil {
				id = *c.id
			}
			cmd := c.cmd
			if cmd == "" {
				cmd = "create"
			}
			entries := dirNames(h.Root)
			mounts := hostMounts()
			kids := len(liveChildren())
			a := append([]string{cmd, "--bundle", b.Dir}, c.extra...)
			r := h.RT(append(a, id)...)
			t.Logf("exit %d: %.300s", r.Code, strings.TrimSpace(r.Stderr))
			if c.bug != "" && (r.Code == 0 || !strings.Contains(r.Stderr, c.want)) {
				if r.Code == 0 {
					h.RT("delete", "--force", id)
				}
				knownBug(t, "%s; got: exit %d, stderr %.200q", c.bug, r.Code, r.Stderr)
			}
			if r.Code == 0 {
				t.Errorf("succeeded: %v", r)
				h.RT("delete", "--force", id)
			}
			if !strings.Contains(r.Stderr, c.want) {
				t.Errorf("stderr does not name %q: %q", c.want, r.Stderr)
			}
			if n := len(lines(r.Stderr)); n != 1 {
				t.Errorf("stderr has %d lines, want 1: %q", n, r.Stderr)
			}
			if after := dirNames(h.Root); strings.Join(after, ",") != strings.Join(entries, ",") {
				t.Errorf("entries under --root changed: %v -> %v", entries, after)
			}
			if ds := cgroupDirs(b.Cgroup); len(ds) > 0 {
				t.Errorf("cgroup dirs left: %v", ds)
			}
			if ps := procsInCgroup(b.Cgroup); len(ps) > 0 {
				t.Errorf("processes left in the cgroup: %v", ps)
			}
			checkMountsUnchanged(t, mounts)
			reapZombies()
			if n := len(liveChildren()); n != kids {
				t.Errorf("processes left: %d live children before, %d after: %v", kids, n, liveChildren())
			}
		})
	}
}

// TestDuplicateID: a second create of a live ID fails and leaves the
// first container as it was.
func TestDuplicateID(t *testing.T) {
	h := newH(t)
	b := h.Bundle(args("sleep", "1000"))
	id, pid := h.Create(b)
	b2 := h.Bundle(args("sleep", "1000"))
	kids := len(liveChildren())
	r := h.RT("create", "--bundle", b2.Dir, id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "already exists") || len(lines(r.Stderr)) != 1 {
		t.Errorf("second create of %s: want one line with \"already exists\": %v", id, r)
	}
	if st := h.State(id); st.Status != specs.StateCreated || st.Pid != pid || st.Bundle != b.Dir {
		t.Errorf("first container changed by the failed create: %+v", st)
	}
	if ds := cgroupDirs(b2.Cgroup); len(ds) > 0 {
		t.Errorf("failed create left cgroup dirs %v", ds)
	}
	if n := len(liveChildren()); n != kids {
		t.Errorf("failed create left processes: %v", liveChildren())
	}
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	h := newH(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "--bundle", h.Dir}, "missing container id"},
		{[]string{"create", "--bundle", filepath.Join(h.Dir, "nonexistent"), "x"}, "config.json not found"},
		{[]string{"kill", "x", "0"}, "signal"},
		{[]string{"list", "--format", "yaml"}, "--format"},
	} {
		r := h.RT(c.args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, c.want) || len(lines(r.Stderr)) != 1 {
			t.Errorf("rt %s: want one stderr line with %q: %v", strings.Join(c.args, " "), c.want, r)
		}
	}
	if names := dirNames(h.Root); len(names) > 0 {
		t.Errorf("bad arguments left entries under --root: %v", names)
	}
}

// dirNames lists the container records under a state root. "@rt-init" is
// rt's cache of its init program (one per rt binary), not a container.
func dirNames(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if e.Name() == "@rt-init" {
			continue
		}
		out = append(out, e.Name())
	}
	return out
}
