package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// testBundle returns a bundle dir with an empty rootfs directory.
func testBundle(t *testing.T) string {
	t.Helper()
	b := t.TempDir()
	if err := os.Mkdir(filepath.Join(b, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func TestDefaultValidates(t *testing.T) {
	b := testBundle(t)
	if err := Validate(Default(), b); err != nil {
		t.Fatalf("Default() does not validate: %v", err)
	}
	s := Default()
	Rootless(s)
	if err := Validate(s, b); err != nil {
		t.Fatalf("Rootless(Default()) does not validate: %v", err)
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *specs.Spec, bundle string)
		want   string // expected message prefix
	}{
		{"no version", func(s *specs.Spec, _ string) { s.Version = "" }, "ociVersion: missing"},
		{"major version 2", func(s *specs.Spec, _ string) { s.Version = "2.0.0" }, "ociVersion: \"2.0.0\": rt reads runtime-spec 1.x configs"},
		{"no root", func(s *specs.Spec, _ string) { s.Root = nil }, "root: missing"},
		{"empty root path", func(s *specs.Spec, _ string) { s.Root.Path = "" }, "root.path: empty"},
		{"rootfs missing", func(s *specs.Spec, _ string) { s.Root.Path = "/nonexistent/rootfs" },
			"root.path: rootfs /nonexistent/rootfs does not exist"},
		{"rootfs is a file", func(s *specs.Spec, _ string) { s.Root.Path = "/dev/null" }, "root.path: rootfs /dev/null is not a directory"},
		{"rootfs is the host root", func(s *specs.Spec, _ string) { s.Root.Path = "/" }, "root.path: rootfs / is the host's root directory"},
		{"no process", func(s *specs.Spec, _ string) { s.Process = nil }, "process: missing, required for create"},
		{"no args", func(s *specs.Spec, _ string) { s.Process.Args = nil }, "process.args: must not be empty"},
		{"empty argv0", func(s *specs.Spec, _ string) { s.Process.Args = []string{""} }, "process.args[0]: empty program name"},
		{"nul arg", func(s *specs.Spec, _ string) { s.Process.Args = []string{"sh", "a\x00"} }, "process.args[1]: contains a NUL byte"},
		{"relative cwd", func(s *specs.Spec, _ string) { s.Process.Cwd = "tmp" }, `process.cwd: must be an absolute path: "tmp"`},
		{"empty cwd", func(s *specs.Spec, _ string) { s.Process.Cwd = "" }, "process.cwd: missing"},
		{"bad env", func(s *specs.Spec, _ string) { s.Process.Env = append(s.Process.Env, "NOEQUALS") }, `process.env[2]: must be KEY=VALUE: "NOEQUALS"`},
		{"bad umask", func(s *specs.Spec, _ string) { s.Process.User.Umask = ptr(uint32(0o1777)) }, "process.user.umask:"},
		{"unknown cap", func(s *specs.Spec, _ string) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_FOO")
		}, `process.capabilities.bounding[3]: unknown capability "CAP_FOO"`},
		{"unknown ambient cap", func(s *specs.Spec, _ string) {
			s.Process.Capabilities.Ambient = []string{"cap_kill"}
		}, `process.capabilities.ambient[0]: unknown capability "cap_kill"`},
		{"unknown rlimit", func(s *specs.Spec, _ string) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_FOO"})
		}, `process.rlimits[1].type: unknown rlimit "RLIMIT_FOO"`},
		{"duplicate rlimit", func(s *specs.Spec, _ string) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 1})
		}, `process.rlimits[1].type: duplicate rlimit "RLIMIT_NOFILE" (also process.rlimits[0])`},
		{"soft above hard", func(s *specs.Spec, _ string) { s.Process.Rlimits[0].Soft = 2048 }, "process.rlimits[0]: soft limit 2048 is above hard limit 1024"},
		{"oom score", func(s *specs.Spec, _ string) { s.Process.OOMScoreAdj = ptr(1001) }, "process.oomScoreAdj: 1001 is outside -1000..1000"},
		{"sched policy", func(s *specs.Spec, _ string) { s.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_X"} }, `process.scheduler.policy: unknown policy "SCHED_X"`},
		{"sched prio", func(s *specs.Spec, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Priority: 5}
		}, "process.scheduler.priority: only allowed with SCHED_FIFO or SCHED_RR"},
		{"ioprio", func(s *specs.Spec, _ string) { s.Process.IOPriority = &specs.LinuxIOPriority{Class: "X"} }, `process.ioPriority.class: unknown class "X"`},
		{"cpu affinity", func(s *specs.Spec, _ string) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "3-1"} }, `process.execCPUAffinity.initial: invalid CPU list "3-1"`},
		{"unknown ns", func(s *specs.Spec, _ string) { s.Linux.Namespaces[2].Type = "foo" }, `linux.namespaces[2].type: unknown namespace "foo"`},
		{"dup ns", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "pid"})
		}, `linux.namespaces[6].type: duplicate namespace "pid" (also linux.namespaces[0])`},
		{"relative ns path", func(s *specs.Spec, _ string) { s.Linux.Namespaces[1].Path = "x/net" }, `linux.namespaces[1].path: must be an absolute path: "x/net"`},
		{"missing ns path", func(s *specs.Spec, _ string) { s.Linux.Namespaces[1].Path = "/nonexistent/ns/net" }, "linux.namespaces[1].path: network namespace to join: stat /nonexistent/ns/net"},
		{"hostname without uts", func(s *specs.Spec, _ string) { s.Linux.Namespaces = dropNS(s.Linux.Namespaces, "uts") },
			"hostname: unable to set hostname without a private UTS namespace"},
		{"domainname without uts", func(s *specs.Spec, _ string) {
			s.Hostname = ""
			s.Domainname = "example.org"
			s.Linux.Namespaces = dropNS(s.Linux.Namespaces, "uts")
		}, "domainname: unable to set domainname without a private UTS namespace"},
		{"long hostname", func(s *specs.Spec, _ string) { s.Hostname = strings.Repeat("h", 65) }, "hostname: invalid hostname"},
		{"no mount ns propagation", func(s *specs.Spec, _ string) {
			s.Linux.RootfsPropagation = "rslave"
			s.Linux.Namespaces = dropNS(s.Linux.Namespaces, "mount")
		}, "linux.rootfsPropagation: needs a mount namespace"},
		{"empty destination", func(s *specs.Spec, _ string) { s.Mounts[3].Destination = "" }, "mounts[3].destination: empty"},
		{"dotdot destination", func(s *specs.Spec, _ string) { s.Mounts[3].Destination = "../x" }, `mounts[3].destination: must be absolute without "..": "../x"`},
		{"dotdot inside destination", func(s *specs.Spec, _ string) { s.Mounts[0].Destination = "/proc/../etc" }, `mounts[0].destination: must be absolute without ".."`},
		{"nul mount option", func(s *specs.Spec, _ string) { s.Mounts[1].Options = []string{"mode=7\x0055"} }, "mounts[1].options: mount option"},
		{"bind without source", func(s *specs.Spec, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Options: []string{"rbind"}})
		}, "mounts[7].source: empty, a bind mount needs a source"},
		{"mount uid without gid mappings", func(s *specs.Spec, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Source: "/tmp", Options: []string{"bind"},
				UIDMappings: []specs.LinuxIDMapping{{Size: 1}}})
		}, "mounts[7].gidMappings: missing"},
		{"idmap not bind", func(s *specs.Spec, _ string) { s.Mounts[0].Options = []string{"idmap"} }, "mounts[0]: idmapped mount"},
		{"rootfs propagation", func(s *specs.Spec, _ string) { s.Linux.RootfsPropagation = "weird" }, `linux.rootfsPropagation: unknown propagation "weird"`},
		{"masked relative", func(s *specs.Spec, _ string) { s.Linux.MaskedPaths[2] = "proc/kcore" }, `linux.maskedPaths[2]: must be an absolute path: "proc/kcore"`},
		{"readonly relative", func(s *specs.Spec, _ string) { s.Linux.ReadonlyPaths[0] = "" }, `linux.readonlyPaths[0]: must be an absolute path: ""`},
		{"sysctl net host", func(s *specs.Spec, _ string) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
			s.Linux.Namespaces = dropNS(s.Linux.Namespaces, "network")
		}, `linux.sysctl["net.ipv4.ip_forward"]: sysctl "net.ipv4.ip_forward" is not allowed in the host's network namespace`},
		{"sysctl net joined host", func(s *specs.Spec, _ string) {
			s.Linux.Sysctl = map[string]string{"net.core.somaxconn": "1"}
			s.Linux.Namespaces[1].Path = "/proc/self/ns/net"
		}, `linux.sysctl["net.core.somaxconn"]: sysctl "net.core.somaxconn" is not allowed in the host's network namespace (linux.namespaces[1].path)`},
		{"sysctl ipc", func(s *specs.Spec, _ string) {
			s.Linux.Sysctl = map[string]string{"kernel.shmmax": "1"}
			s.Linux.Namespaces = dropNS(s.Linux.Namespaces, "ipc")
		}, `linux.sysctl["kernel.shmmax"]: sysctl "kernel.shmmax" is not allowed in the host's ipc namespace`},
		{"sysctl mqueue slash", func(s *specs.Spec, _ string) {
			s.Linux.Sysctl = map[string]string{"fs/mqueue/msg_max": "1"}
			s.Linux.Namespaces = dropNS(s.Linux.Namespaces, "ipc")
		}, `linux.sysctl["fs/mqueue/msg_max"]: sysctl "fs.mqueue.msg_max" is not allowed`},
		{"sysctl global", func(s *specs.Spec, _ string) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"} },
			`linux.sysctl["vm.swappiness"]: sysctl "vm.swappiness" is not in a separate kernel namespace`},
		{"sysctl hostname conflict", func(s *specs.Spec, _ string) { s.Linux.Sysctl = map[string]string{"kernel.hostname": "x"} },
			`linux.sysctl["kernel.hostname"]: sysctl "kernel.hostname" conflicts with the hostname field`},
		{"sysctl traversal", func(s *specs.Spec, _ string) { s.Linux.Sysctl = map[string]string{"net/../../etc/x": "1"} },
			`linux.sysctl["net/../../etc/x"]: invalid sysctl name`},
		{"device outside dev", func(s *specs.Spec, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/etc/shadow", Type: "c", Major: 1, Minor: 3}}
		}, `linux.devices[0].path: must be an absolute path under /dev: "/etc/shadow"`},
		{"device dotdot", func(s *specs.Spec, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/../etc/x", Type: "c"}}
		}, `linux.devices[0].path: must be an absolute path under /dev`},
		{"device type", func(s *specs.Spec, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/null", Type: "c"}, {Path: "/dev/x", Type: "z"}}
		}, `linux.devices[1].type: unknown device type "z" (want c, b, u or p)`},
		{"device dup", func(s *specs.Spec, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/null", Type: "c"}, {Path: "/dev//null", Type: "c"}}
		}, `linux.devices[1].path: duplicate device`},
		{"uid mappings without userns", func(s *specs.Spec, _ string) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, "linux.uidMappings: user namespace mappings given, but linux.namespaces has no user namespace"},
		{"userns without mappings", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user"})
		}, "linux.uidMappings: missing, required by the new user namespace linux.namespaces[6]"},
		{"mapping size 0", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user"})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 0}}
		}, "linux.gidMappings[0].size: must be greater than 0"},
		{"mapping overlap", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user"})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 10}, {ContainerID: 5, HostID: 5000, Size: 1}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, "linux.uidMappings[1]: container range overlaps linux.uidMappings[0]"},
		{"time offsets without timens", func(s *specs.Spec, _ string) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10}}
		}, "linux.timeOffsets: time namespace offsets given, but linux.namespaces has no time namespace"},
		{"time offsets bad clock", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "time"})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 10}}
		}, `linux.timeOffsets["realtime"]: unknown clock`},
		{"cgroup device access", func(s *specs.Spec, _ string) { s.Linux.Resources.Devices[0].Access = "rwx" },
			`linux.resources.devices[0].access: "rwx" is not a combination of r, w and m`},
		{"personality", func(s *specs.Spec, _ string) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "BSD"} },
			`linux.personality.domain: unknown domain "BSD"`},
		{"netdevices without netns", func(s *specs.Spec, _ string) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {}}
			s.Linux.Namespaces = dropNS(s.Linux.Namespaces, "network")
		}, "linux.netDevices: needs a network namespace"},
		{"hook path", func(s *specs.Spec, _ string) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/true"}, {Path: "true"}}}
		}, `hooks.createRuntime[1].path: must be an absolute path: "true"`},
		{"hook timeout", func(s *specs.Spec, _ string) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true", Timeout: ptr(0)}}}
		}, "hooks.poststop[0].timeout: must be greater than 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testBundle(t)
			s := Default()
			tt.mutate(s, b)
			err := Validate(s, b)
			if err == nil {
				t.Fatalf("Validate succeeded, want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error\n got %q\nwant %q...", err, tt.want)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), fe.Field) {
				t.Errorf("error %v is not a *FieldError starting with its field", err)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *specs.Spec, bundle string)
	}{
		{"relative mount destination", func(s *specs.Spec, _ string) { s.Mounts[0].Destination = "proc" }},
		{"absolute rootfs", func(s *specs.Spec, b string) { s.Root.Path = filepath.Join(b, "rootfs") }},
		{"rootfs symlink", func(s *specs.Spec, b string) {
			os.Symlink("rootfs", filepath.Join(b, "link"))
			s.Root.Path = "link"
		}},
		{"ipc sysctls", func(s *specs.Spec, _ string) {
			s.Linux.Sysctl = map[string]string{"kernel.shmmax": "1", "kernel.msgmnb": "1", "kernel.sem": "1 2 3 4",
				"kernel.sem_next_id": "1", "fs.mqueue.msg_max": "10", "kernel.domainname": "x"}
		}},
		{"net sysctl slash form", func(s *specs.Spec, _ string) {
			s.Linux.Sysctl = map[string]string{"net/ipv4/conf/eth0.100/rp_filter": "1"}
		}},
		{"joined namespaces", func(s *specs.Spec, _ string) { s.Linux.Namespaces[2].Path = "/proc/self/ns/ipc" }},
		{"time namespace", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "time"})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: -5}, "boottime": {Nanosecs: 5}}
		}},
		{"devices", func(s *specs.Spec, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}, {Path: "/dev/p", Type: "p"}}
		}},
		{"all caps", func(s *specs.Spec, _ string) { s.Process.Capabilities.Ambient = CapNames() }},
		{"idmap bind", func(s *specs.Spec, _ string) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Source: "/tmp", Options: []string{"rbind", "ridmap"},
				UIDMappings: []specs.LinuxIDMapping{{HostID: 100000, Size: 65536}},
				GIDMappings: []specs.LinuxIDMapping{{HostID: 100000, Size: 65536}}})
		}},
		{"no mount ns, nothing to mount", func(s *specs.Spec, _ string) {
			s.Mounts, s.Linux.MaskedPaths, s.Linux.ReadonlyPaths, s.Root.Readonly = nil, nil, nil, false
			s.Linux.Namespaces = dropNS(s.Linux.Namespaces, "mount")
		}},
		{"scheduler", func(s *specs.Spec, _ string) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 10, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
			s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0-1,3", Final: "0"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testBundle(t)
			s := Default()
			tt.mutate(s, b)
			if err := Validate(s, b); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestValidateProcessField(t *testing.T) {
	p := Default().Process
	p.Cwd = "rel"
	err := ValidateProcess(p, "process")
	if err == nil || err.Error() != `process.cwd: must be an absolute path: "rel"` {
		t.Errorf("got %v", err)
	}
	if err := ValidateProcess(nil, "process"); err == nil || err.Error() != "process: missing" {
		t.Errorf("nil: got %v", err)
	}
}

func TestRootfsPath(t *testing.T) {
	s := &specs.Spec{Root: &specs.Root{Path: "rootfs/"}}
	if got := RootfsPath(s, "/b/x/.."); got != "/b/rootfs" {
		t.Errorf("relative: got %q", got)
	}
	s.Root.Path = "/abs//r/."
	if got := RootfsPath(s, "/b"); got != "/abs/r" {
		t.Errorf("absolute: got %q", got)
	}
	t.Chdir(t.TempDir())
	wd, _ := os.Getwd()
	s.Root.Path = "rootfs"
	if got := RootfsPath(s, "."); got != filepath.Join(wd, "rootfs") {
		t.Errorf("relative bundle: got %q", got)
	}
	if got := RootfsPath(&specs.Spec{}, "/b"); got != "" {
		t.Errorf("no root: got %q", got)
	}
}

func TestSysctlPath(t *testing.T) {
	for _, tt := range []struct{ key, want string }{
		{"net.ipv4.ip_forward", "net/ipv4/ip_forward"},
		{"net/ipv4/ip_forward", "net/ipv4/ip_forward"},
		{"net.ipv4.conf.eth0/100.rp_filter", "net/ipv4/conf/eth0.100/rp_filter"},
		{"net/ipv4/conf/eth0.100/rp_filter", "net/ipv4/conf/eth0.100/rp_filter"},
		{"kernel", "kernel"},
		{"", ""}, {"net..x", ""}, {"net/../x", ""}, {".net", ""}, {"net.", ""}, {"a/./b", ""}, {"a\x00b", ""},
	} {
		got, err := SysctlPath(tt.key)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("SysctlPath(%q) = %q, %v; want %q", tt.key, got, err, tt.want)
		}
	}
}

func dropNS(nss []specs.LinuxNamespace, t specs.LinuxNamespaceType) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, ns := range nss {
		if ns.Type != t {
			out = append(out, ns)
		}
	}
	return out
}
