package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Bad input: every case fails with a non-zero exit and ONE stderr line
// ("rt: ...", no panic) naming the config field or argument, and leaves
// nothing behind: no record under --root, no cgroup, no host mount, no
// process. The cases run several at a time, each with its own --root,
// bundle and cgroup path; processes and host mounts are also compared for
// the whole table (nothing else runs meanwhile: the test is not parallel).

type badCase struct {
	name string
	cmd  string              // "create" (default) or "run"
	id   *string             // a literal ID instead of a fresh one
	mut  func(*specs.Spec)   // applied to the config
	raw  func(bundle string) // applied to the bundle after config.json is written
	// global returns flags put before the command (after --root, so a
	// second --root wins); dir is the case's own directory.
	global func(dir string) []string
	extra  []string // more arguments before the ID
	after  []string // arguments after the ID
	// argv replaces the whole command line after the global flags (no
	// --bundle or ID is added).
	argv []string
	want string // substring of stderr
	bug  string // non-empty: a known rt bug makes this case fail
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
		for k < len(s) && (s[k] >= '0' && s[k] <= '9' || s[k] == '-') {
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

func resources(s *specs.Spec) *specs.LinuxResources {
	if s.Linux.Resources == nil {
		s.Linux.Resources = &specs.LinuxResources{}
	}
	return s.Linux.Resources
}

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }
func u16(v uint16) *uint16 { return &v }
func u32(v uint32) *uint32 { return &v }
func replaceConfig(b string, data string) {
	os.Remove(filepath.Join(b, "config.json"))
	os.WriteFile(filepath.Join(b, "config.json"), []byte(data), 0o644)
}

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

// checkBad requires r to be a clean failure naming want, and nothing of
// the case to be left on the host (processes in its cgroup: see
// procsInCgroups, one scan for all cases).
func checkBad(t *testing.T, run badRun, r Result, want string) {
	t.Helper()
	if r.Code == 0 {
		t.Errorf("succeeded: %v", r)
	}
	if !strings.Contains(r.Stderr, want) {
		t.Errorf("stderr does not name %q: %q", want, r.Stderr)
	}
	if msg := oneLineError(r); msg != "" {
		t.Errorf("%s: %q", msg, r.Stderr)
	}
	if names := dirNames(run.root); len(names) > 0 {
		t.Errorf("entries left under --root: %v", names)
	}
	if b := run.b; b != nil {
		if ds := cgroupDirs(b.Cgroup); len(ds) > 0 {
			t.Errorf("cgroup dirs left: %v", ds)
		}
	}
	if ms := mountsUnder(run.dir + "/"); len(ms) > 0 {
		t.Errorf("host mounts left: %v", ms)
	}
}

// badInputWorkers: how many cases run at once. rt mostly waits on the
// kernel, so more than the CPUs (go test's -parallel) pays.
const badInputWorkers = 8

// badRun is one case made ready, then run.
type badRun struct {
	dir  string // the case's own directory
	root string // its --root, inside dir
	b    *Bundle
	args []string
	id   string // the ID argument ("" for argv cases)
	r    Result
	err  error
}

func TestBadInput(t *testing.T) {
	mounts := hostMounts()
	kids := len(liveChildren())
	cases := badCases()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases named %q", c.name)
		}
		seen[c.name] = true
	}
	t.Logf("%d cases, %d at a time", len(cases), badInputWorkers)
	// Each case gets its own --root, bundle and cgroup path.
	// They share one copy of the rootfs (root.path is absolute): no case
	// may get far enough to change it, and copying it 100 times is slow.
	t0 := time.Now()
	h := newH(t)
	rootfs := h.Bundle().Rootfs
	runs := make([]badRun, len(cases))
	for i, c := range cases {
		dir := filepath.Join(h.Dir, fmt.Sprintf("case%d", i))
		run := badRun{dir: dir, root: filepath.Join(dir, "state"), args: []string{"--root", filepath.Join(dir, "state")}}
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if c.global != nil {
			run.args = append(run.args, c.global(dir)...)
		}
		if c.argv != nil {
			run.args = append(run.args, c.argv...)
		} else {
			run.b = sharedRootfsBundle(t, dir, rootfs, c.mut)
			if c.raw != nil {
				c.raw(run.b.Dir)
			}
			// Not h.ID: its cleanup would run one delete --force per
			// case, and checkBad requires that nothing exists anyway.
			run.id = fmt.Sprintf("bad-%s-%d", runToken, counter.Add(1))
			if c.id != nil {
				run.id = *c.id
			}
			cmd := c.cmd
			if cmd == "" {
				cmd = "create"
			}
			run.args = append(run.args, cmd, "--bundle", run.b.Dir)
			run.args = append(append(append(run.args, c.extra...), run.id), c.after...)
		}
		runs[i] = run
	}
	t.Logf("bundles made in %v", time.Since(t0).Round(time.Millisecond))
	start := time.Now()
	sem := make(chan struct{}, badInputWorkers)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			runs[i].r, runs[i].err = rtCmd(RunOpts{}, runs[i].args...)
		}()
	}
	wg.Wait()
	t.Logf("all cases ran in %v", time.Since(start).Round(time.Millisecond))
	for i, c := range cases {
		run := runs[i]
		t.Run(c.name, func(t *testing.T) {
			if run.err != nil {
				t.Fatal(run.err)
			}
			r := run.r
			t.Logf("exit %d: %.300s", r.Code, strings.TrimSpace(r.Stderr))
			if r.Code == 0 && run.id != "" {
				// It was created after all: remove it before the checks.
				rtCmd(RunOpts{}, "--root", run.root, "delete", "--force", run.id)
			}
			if c.bug != "" && (r.Code == 0 || !strings.Contains(r.Stderr, c.want)) {
				knownBug(t, "%s; got: exit %d, stderr %.200q", c.bug, r.Code, r.Stderr)
			}
			checkBad(t, run, r, c.want)
		})
	}
	// Nothing of any case may be left on the host.
	cgs := map[string]string{}
	for i, run := range runs {
		if run.b != nil && ours(run.b.Cgroup) {
			cgs[run.b.Cgroup] = cases[i].name
		}
	}
	for _, p := range procsInCgroups(cgs) {
		t.Errorf("process %d (%s) left in the cgroup of case %q", p.Pid, p.Comm, cgs[p.cgroup])
		syscall.Kill(p.Pid, syscall.SIGKILL) // in a cgroup this run made up
	}
	checkMountsUnchanged(t, mounts)
	waitFor(2*time.Second, func() bool { reapZombies(); return len(liveChildren()) == kids })
	if ps := liveChildren(); len(ps) != kids {
		t.Errorf("processes left: %d live children before, %d after: %v", kids, len(ps), ps)
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

// dirNames lists the container records under a state root. Names that
// start with '@' (never a valid ID) are rt's caches, e.g. "@rt-init".
func dirNames(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "@") {
			continue
		}
		out = append(out, e.Name())
	}
	return out
}

// cgProc is a process found in one of a set of cgroups.
type cgProc struct {
	Proc
	cgroup string
}

// procsInCgroups lists live processes whose cgroup, in any hierarchy, is
// a key of cgs: one scan of /proc for all of them.
func procsInCgroups(cgs map[string]string) []cgProc {
	ents, _ := os.ReadDir("/proc")
	var out []cgProc
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			parts := strings.SplitN(l, ":", 3)
			if len(parts) != 3 {
				continue
			}
			if _, ok := cgs[parts[2]]; ok {
				if p, ok := readProc(pid); ok && p.State != 'Z' {
					out = append(out, cgProc{p, parts[2]})
				}
				break
			}
		}
	}
	return out
}

// sharedRootfsBundle is like h.Bundle, in dir/bundle, without a copy of
// the rootfs: the config is the same (rt spec, terminal off, args
// ["true"], a cgroup path of this run) with root.path rootfs (absolute),
// then mut. The cgroup is not registered with an H: TestBadInput checks
// all of them in one scan.
func sharedRootfsBundle(t *testing.T, dir, rootfs string, mut func(*specs.Spec)) *Bundle {
	t.Helper()
	dir = filepath.Join(dir, "bundle")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tpl, err := template()
	if err != nil {
		t.Fatal(err)
	}
	s := &specs.Spec{}
	if err := jsonUnmarshal(string(tpl), s); err != nil {
		t.Fatal(err)
	}
	s.Process.Terminal = false
	s.Process.Args = []string{"true"}
	s.Root.Path = rootfs
	s.Linux.CgroupsPath = fmt.Sprintf("/rt-itest-%s-%d", runToken, counter.Add(1))
	if mut != nil {
		mut(s)
	}
	b := &Bundle{Dir: dir, Rootfs: rootfs, Spec: s}
	if s.Linux != nil {
		b.Cgroup = s.Linux.CgroupsPath
	}
	b.Write(t)
	return b
}
