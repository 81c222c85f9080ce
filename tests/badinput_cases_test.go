package tests

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// badCases is TestBadInput's table (badinput_test.go): bad config.json
// fields, flags and IDs, each with the substring its one-line error must
// contain.
func badCases() []badCase {
	bind := func(src, dst string) func(*specs.Spec) {
		return func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: dst, Type: "bind", Source: src, Options: []string{"bind"}})
		}
	}
	return []badCase{
		// ---- config.json as a file ----
		{name: "invalid JSON", raw: func(b string) { replaceConfig(b, "{\n  \"ociVersion\": \"1.3.0\",\n  oops\n}") },
			want: "config.json: syntax error at line 3"},
		{name: "config.json missing", raw: func(b string) { os.Remove(filepath.Join(b, "config.json")) }, want: "config.json not found"},
		{name: "config.json empty", raw: func(b string) { replaceConfig(b, "") }, want: "config.json: empty file"},
		{name: "config.json an array", raw: func(b string) { replaceConfig(b, "[1, 2]") }, want: "config.json: cannot unmarshal array"},
		{name: "config.json a directory", raw: func(b string) {
			p := filepath.Join(b, "config.json")
			os.Remove(p)
			os.Mkdir(p, 0o755)
		}, want: "config.json"},
		{name: "config.json a FIFO", raw: func(b string) {
			p := filepath.Join(b, "config.json")
			os.Remove(p)
			syscall.Mkfifo(p, 0o644)
		}, want: "not a regular file"},
		{name: "config.json a dangling symlink", raw: func(b string) {
			p := filepath.Join(b, "config.json")
			os.Remove(p)
			os.Symlink("no-such-file", p)
		}, want: "config.json not found"},
		{name: "config.json too large", raw: func(b string) {
			os.Truncate(filepath.Join(b, "config.json"), 17<<20) // sparse; JSON followed by NULs
		}, want: "too large"},
		// ---- config.json fields: types ----
		{name: "uid as string", raw: setRawJSON("uid", `"0"`), want: "process.user.uid"},
		{name: "uid negative", raw: setRawJSON("uid", `-1`), want: "process.user.uid"},
		{name: "noNewPrivileges as string", mut: func(s *specs.Spec) { s.Process.NoNewPrivileges = true },
			raw: func(b string) {
				p := filepath.Join(b, "config.json")
				d, _ := os.ReadFile(p)
				os.WriteFile(p, []byte(strings.Replace(string(d), `"noNewPrivileges": true`, `"noNewPrivileges": "yes"`, 1)), 0o644)
			}, want: "process.noNewPrivileges"},
		{name: "annotation not a string", mut: func(s *specs.Spec) { s.Annotations = map[string]string{"a": "@@"} },
			raw: func(b string) {
				p := filepath.Join(b, "config.json")
				d, _ := os.ReadFile(p)
				os.WriteFile(p, []byte(strings.Replace(string(d), `"@@"`, `5`, 1)), 0o644)
			}, want: "annotations.a"},
		// ---- config.json fields: values ----
		{name: "no ociVersion", mut: func(s *specs.Spec) { s.Version = "" }, want: "ociVersion"},
		{name: "no root", mut: func(s *specs.Spec) { s.Root = nil }, want: "root"},
		{name: "missing rootfs", mut: func(s *specs.Spec) { s.Root.Path = "no-such-rootfs" }, want: "root.path"},
		{name: "rootfs a file", mut: func(s *specs.Spec) { s.Root.Path = "config.json" }, want: "root.path"},
		{name: "no process", mut: func(s *specs.Spec) { s.Process = nil }, want: "process"},
		{name: "empty args", mut: func(s *specs.Spec) { s.Process.Args = []string{} }, want: "process.args"},
		{name: "relative cwd", mut: func(s *specs.Spec) { s.Process.Cwd = "tmp" }, want: "process.cwd"},
		{name: "env without =", mut: func(s *specs.Spec) { s.Process.Env = []string{"NOEQUALS"} }, want: "process.env[0]"},
		{name: "umask out of range", mut: func(s *specs.Spec) { s.Process.User.Umask = u32(99999) }, want: "process.user.umask"},
		{name: "unknown capability", mut: func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_FOO")
		}, want: "process.capabilities.bounding[3]"},
		{name: "lower-case capability", mut: func(s *specs.Spec) { s.Process.Capabilities.Bounding = []string{"cap_chown"} },
			want: "process.capabilities.bounding[0]"},
		{name: "unknown rlimit", mut: func(s *specs.Spec) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_FOO", Soft: 1, Hard: 1})
		}, want: "process.rlimits[1].type"},
		{name: "rlimit soft above hard", mut: func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 5}}
		}, want: "process.rlimits[0]"},
		{name: "oomScoreAdj out of range", mut: func(s *specs.Spec) { v := 5000; s.Process.OOMScoreAdj = &v }, want: "process.oomScoreAdj"},
		{name: "unknown ioPriority class", mut: func(s *specs.Spec) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_FOO"}
		}, want: "process.ioPriority.class"},
		{name: "unknown scheduler policy", mut: func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_FOO"}
		}, want: "process.scheduler.policy"},
		{name: "selinux label without SELinux", mut: func(s *specs.Spec) {
			s.Process.SelinuxLabel = "system_u:system_r:container_t:s0"
		}, want: "process.selinuxLabel"},
		{name: "terminal without console socket", mut: func(s *specs.Spec) { s.Process.Terminal = true }, want: "terminal"},
		{name: "unknown namespace", mut: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "foo"})
		}, want: "linux.namespaces[6].type"},
		{name: "duplicate namespace", mut: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
		}, want: "linux.namespaces[6].type: duplicate"},
		{name: "missing namespace path", mut: func(s *specs.Spec) {
			s.Linux.Namespaces[nsIndex(s, specs.NetworkNamespace)].Path = "/proc/999999999/ns/net"
		}, want: "linux.namespaces[1].path"},
		{name: "namespace path not a namespace", mut: func(s *specs.Spec) {
			s.Linux.Namespaces[nsIndex(s, specs.NetworkNamespace)].Path = "/etc/passwd"
		}, want: "linux.namespaces[1].path"},
		{name: "namespace path of another type", mut: func(s *specs.Spec) {
			s.Linux.Namespaces[nsIndex(s, specs.NetworkNamespace)].Path = "/proc/self/ns/pid"
		}, want: "linux.namespaces[1].path"},
		{name: "user namespace without mappings", mut: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, want: "linux.uidMappings"},
		{name: "mappings without user namespace", mut: func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
		}, want: "linux.uidMappings"},
		{name: "time offsets without time namespace", mut: func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, want: "linux.timeOffsets"},
		{name: "hostname without uts", mut: func(s *specs.Spec) { dropNS(s, specs.UTSNamespace) }, want: "hostname"},
		{name: "domainname without uts", mut: func(s *specs.Spec) {
			dropNS(s, specs.UTSNamespace)
			s.Hostname, s.Domainname = "", "example.org"
		}, want: "domainname"},
		{name: "long hostname", mut: func(s *specs.Spec) { s.Hostname = strings.Repeat("h", 65) }, want: "hostname"},
		{name: "host sysctl", mut: func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.pid_max": "4096"} },
			want: `linux.sysctl["kernel.pid_max"]`},
		{name: "dotdot destination", mut: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/../../etc", Type: "tmpfs", Source: "tmpfs"})
		}, want: "mounts[7].destination"},
		{name: "NUL in a mount option", mut: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=7\x00"}})
		}, want: "mounts[7].options"},
		{name: "unknown rootfs propagation", mut: func(s *specs.Spec) { s.Linux.RootfsPropagation = "weird" },
			want: "linux.rootfsPropagation"},
		{name: "relative masked path", mut: func(s *specs.Spec) { s.Linux.MaskedPaths = []string{"proc/kcore"} },
			want: "linux.maskedPaths[0]"},
		{name: "relative readonly path", mut: func(s *specs.Spec) { s.Linux.ReadonlyPaths = []string{"proc/sys"} },
			want: "linux.readonlyPaths[0]"},
		{name: "device outside /dev", mut: func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/etc/null", Type: "c", Major: 1, Minor: 3}}
		}, want: "linux.devices[0].path"},
		{name: "unknown device type", mut: func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "x", Major: 1, Minor: 1}}
		}, want: "linux.devices[0].type"},
		{name: "device rule of unknown type", mut: func(s *specs.Spec) {
			resources(s).Devices = []specs.LinuxDeviceCgroup{{Allow: true, Type: "q", Access: "rwm"}}
		}, want: "linux.resources.devices[0].type"},
		{name: "device rule with bad access", mut: func(s *specs.Spec) {
			resources(s).Devices = []specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Access: "rwz"}}
		}, want: "linux.resources.devices[0].access"},
		{name: "cpu shares below minimum", mut: func(s *specs.Spec) { resources(s).CPU = &specs.LinuxCPU{Shares: u64(1)} },
			want: "linux.resources.cpu.shares"},
		{name: "unknown personality domain", mut: func(s *specs.Spec) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX_FOO"}
		}, want: "linux.personality.domain"},
		{name: "cgroupsPath root", mut: func(s *specs.Spec) { s.Linux.CgroupsPath = "/" }, want: "linux.cgroupsPath"},
		{name: "seccomp bad action", mut: func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_BOGUS"}
		}, want: "linux.seccomp"},
		{name: "hook relative path", mut: func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "true"}}}
		}, want: "hooks.createRuntime[0].path"},
		{name: "hook negative timeout", mut: func(s *specs.Spec) {
			v := -1
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/true", Timeout: &v}}}
		}, want: "hooks.prestart[0].timeout"},
		// ---- failures after the cgroup is made: the undo path ----
		{name: "memory limit negative", mut: func(s *specs.Spec) { resources(s).Memory = &specs.LinuxMemory{Limit: i64(-5)} },
			want: "linux.resources.memory.limit"},
		{name: "cpuset out of range", mut: func(s *specs.Spec) { resources(s).CPU = &specs.LinuxCPU{Cpus: "99-100"} },
			want: "linux.resources.cpu.cpus"},
		{name: "blkio weight out of range", mut: func(s *specs.Spec) {
			resources(s).BlockIO = &specs.LinuxBlockIO{Weight: u16(5000)}
		}, want: "linux.resources.blockIO.weight"},
		{name: "memory limit too small to start", cmd: "run", mut: func(s *specs.Spec) {
			resources(s).Memory = &specs.LinuxMemory{Limit: i64(1000)}
		}, want: "linux.resources.memory.limit"},
		// ---- failures inside the init, after the spawn: the undo path ----
		{name: "missing bind source", cmd: "run", mut: bind("/no-such-dir-"+runToken, "/mnt"), want: "mounts[7]"},
		{name: "relative bind source missing", cmd: "run", mut: bind("relative/src", "/mnt"), want: "mounts[7]"},
		{name: "bind a directory onto a file", cmd: "run", mut: bind("/etc", "/etc/passwd"), want: "mounts[7]"},
		{name: "cwd not in rootfs", cmd: "run", mut: func(s *specs.Spec) { s.Process.Cwd = "/no-such-dir" }, want: "process.cwd"},
		{name: "program not found", mut: func(s *specs.Spec) { s.Process.Args = []string{"no-such-program"} }, want: "process.args[0]"},
		{name: "oomScoreAdj lowered", cmd: "run", mut: func(s *specs.Spec) {
			v := -999 // lowering needs CAP_SYS_RESOURCE
			s.Process.OOMScoreAdj = &v
		}, want: "process.oomScoreAdj"},
		{name: "unknown filesystem", cmd: "run", mut: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "nosuchfs", Source: "none"})
		}, want: "mounts[7]"},
		{name: "unknown sysctl", cmd: "run", mut: func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net.foo.bar": "1"} },
			want: `linux.sysctl["net.foo.bar"]`},
		{name: "rlimit above hard limit", cmd: "run", mut: func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1 << 30, Hard: 1 << 30}}
		}, want: "process.rlimits[0]"},
		// ---- command line ----
		{name: "pid file in a missing dir", extra: []string{"--pid-file", "/no-such-dir-" + runToken + "/pid"}, want: "--pid-file"},
		{name: "console socket missing", mut: func(s *specs.Spec) { s.Process.Terminal = true },
			extra: []string{"--console-socket", "/no-such-dir-" + runToken + "/sock"}, want: "--console-socket"},
		{name: "preserve-fds not open", extra: []string{"--preserve-fds", "5"}, want: "--preserve-fds"},
		{name: "preserve-fds negative", extra: []string{"--preserve-fds", "-1"}, want: "--preserve-fds"},
		{name: "unknown flag", extra: []string{"--bogus"}, want: "flag provided but not defined: -bogus"},
		{name: "extra argument", after: []string{"surplus"}, want: "unexpected arguments after the container id"},
		{name: "missing bundle", extra: []string{"--bundle", "/no-such-bundle-" + runToken}, want: "config.json not found"},
		{name: "bundle is a file", extra: []string{"--bundle", "/etc/passwd"}, want: "config.json in bundle /etc/passwd"},
		{name: "unknown log format", global: func(string) []string { return []string{"--log-format", "yaml"} }, want: "--log-format"},
		{name: "state root is a file", global: func(dir string) []string {
			p := filepath.Join(dir, "rootfile")
			os.WriteFile(p, nil, 0o644)
			return []string{"--root", p}
		}, want: "state root"},
		{name: "missing id", argv: []string{"create"}, want: "missing container id"},
		{name: "start of a missing id", argv: []string{"start", "nosuch"}, want: `container "nosuch" does not exist`},
		{name: "state of a missing id", argv: []string{"state", "nosuch"}, want: `container "nosuch" does not exist`},
		{name: "delete of a missing id", argv: []string{"delete", "nosuch"}, want: `container "nosuch" does not exist`},
		{name: "kill signal 0", argv: []string{"kill", "x", "0"}, want: "signal"},
		{name: "kill unknown signal", argv: []string{"kill", "x", "FOO"}, want: `signal "FOO"`},
		{name: "kill non-ASCII signal name", argv: []string{"kill", "x", "ſigkill"}, want: "signal"},
		{name: "list in yaml", argv: []string{"list", "--format", "yaml"}, want: "--format"},
		// ---- container IDs ----
		{name: "id with slash", id: strp("a/b"), want: "container id"},
		{name: "id dotdot", id: strp(".."), want: "container id"},
		{name: "id dot", id: strp("."), want: "container id"},
		{name: "id empty", id: strp(""), want: "container id"},
		{name: "id with space", id: strp("a b"), want: "container id"},
		{name: "id with newline", id: strp("a\nb"), want: "container id"},
		{name: "id not ASCII", id: strp("é"), want: "invalid character 'é'"},
		{name: "id of rt's cache dir", id: strp("@rt-init"), want: "container id"},
		{name: "id 256 bytes", id: strp(strings.Repeat("x", 256)), want: "container id"},
		{name: "id 1KiB", id: strp(strings.Repeat("x", 1024)), want: "container id"},
	}
}
