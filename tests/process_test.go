package tests

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Tests of process.* and of what the init sets up, observed from inside.

func TestHostnameDomainname(t *testing.T) {
	t.Parallel()
	h := newH(t)
	out := h.MustSh(`echo host=$(hostname); echo domain=$(cat /proc/sys/kernel/domainname)`, func(s *specs.Spec) {
		s.Hostname = "itest-host"
		s.Domainname = "itest.example"
	})
	m := kv(out)
	if m["host"] != "itest-host" || m["domain"] != "itest.example" {
		t.Errorf("hostname/domainname inside = %q/%q, want itest-host/itest.example\n%s", m["host"], m["domain"], out)
	}
	if hn, _ := os.Hostname(); hn == "itest-host" {
		t.Errorf("the host's hostname changed to %q", hn)
	}
}

func TestUserAndGroups(t *testing.T) {
	t.Parallel()
	h := newH(t)
	out := h.MustSh(`id; grep -E '^(Uid|Gid|Groups):' /proc/self/status`, func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{10, 20}}
	})
	for _, want := range []string{"uid=1000", "gid=1001", "Uid:\t1000\t1000\t1000\t1000", "Gid:\t1001\t1001\t1001\t1001", "Groups:\t10 20"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
}

func TestUmaskCwdEnv(t *testing.T) {
	t.Parallel()
	h := newH(t)
	out := h.MustSh(`echo umask=$(umask); echo pwd=$(pwd); env`, func(s *specs.Spec) {
		m := uint32(0o027)
		s.Process.User.Umask = &m
		s.Process.Cwd = "/tmp"
		s.Process.Env = append(s.Process.Env, "ITEST_FOO=bar baz", "ITEST_EMPTY=")
	})
	m := kv(out)
	if m["umask"] != "0027" {
		t.Errorf("umask = %q, want 0027", m["umask"])
	}
	if m["pwd"] != "/tmp" {
		t.Errorf("pwd = %q, want /tmp", m["pwd"])
	}
	if m["ITEST_FOO"] != "bar baz" || !strings.Contains(out, "\nITEST_EMPTY=\n") {
		t.Errorf("env lacks ITEST_FOO=bar baz / ITEST_EMPTY=:\n%s", out)
	}
	if !strings.HasPrefix(m["PATH"], "/usr/local/sbin:") {
		t.Errorf("PATH = %q", m["PATH"])
	}
	// The default umask (none in the config) is 0022.
	if got := strings.TrimSpace(h.MustSh(`umask`)); got != "0022" {
		t.Errorf("default umask = %q, want 0022", got)
	}
}

func TestRlimits(t *testing.T) {
	t.Parallel()
	h := newH(t)
	var host syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &host)
	soft, hard := uint64(512), uint64(1024)
	if host.Max < hard {
		soft, hard = host.Max/2, host.Max
	}
	out := h.MustSh(`echo soft=$(ulimit -n); echo hard=$(ulimit -Hn); echo core=$(ulimit -c)`, func(s *specs.Spec) {
		s.Process.Rlimits = []specs.POSIXRlimit{
			{Type: "RLIMIT_NOFILE", Soft: soft, Hard: hard},
			{Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
		}
	})
	m := kv(out)
	if m["soft"] != fmt.Sprint(soft) || m["hard"] != fmt.Sprint(hard) || m["core"] != "0" {
		t.Errorf("ulimit -n/-Hn/-c = %s/%s/%s, want %d/%d/0", m["soft"], m["hard"], m["core"], soft, hard)
	}
}

// capMask turns capability names into the hex mask /proc/PID/status shows.
func capMask(names ...string) string {
	var m uint64
	for _, n := range names {
		v, ok := capNums[n]
		if !ok {
			panic("unknown capability " + n)
		}
		m |= 1 << v
	}
	return fmt.Sprintf("%016x", m)
}

var capNums = map[string]uint{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_FOWNER": 3, "CAP_KILL": 5, "CAP_SETGID": 6,
	"CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13,
	"CAP_SYS_ADMIN": 21, "CAP_AUDIT_WRITE": 29,
}

func statusCaps(out string) map[string]string {
	m := map[string]string{}
	for _, l := range lines(out) {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

func TestCapabilitiesRoot(t *testing.T) {
	t.Parallel()
	h := newH(t)
	set := []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID"}
	out := h.MustSh(`grep -E '^(Cap|NoNewPrivs)' /proc/self/status`, func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding: set, Effective: set, Permitted: set,
		}
	})
	// uid 0 without file capabilities: permitted = effective = bounding.
	m := statusCaps(out)
	want := map[string]string{"CapBnd": capMask(set...), "CapEff": capMask(set...), "CapPrm": capMask(set...),
		"CapInh": capMask(), "CapAmb": capMask(), "NoNewPrivs": "1"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %s, want %s", k, m[k], v)
		}
	}
}

func TestCapabilitiesAmbientNonRoot(t *testing.T) {
	t.Parallel()
	h := newH(t)
	out := h.MustSh(`grep -E '^(Cap|NoNewPrivs)' /proc/self/status; nc -l -p 80 </dev/null >/dev/null 2>&1 & for i in $(seq 30); do netstat -ltn | grep -q ':80 ' && break; sleep 0.1; done; netstat -ltn; kill $!`, func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000}
		s.Process.NoNewPrivileges = false
		s.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"},
			Permitted:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			Effective:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			Inheritable: []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"},
			Ambient:     []string{"CAP_NET_BIND_SERVICE"},
		}
	})
	// A non-root exec without file capabilities keeps exactly the ambient
	// set in permitted and effective.
	m := statusCaps(out)
	want := map[string]string{
		"CapBnd":     capMask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"),
		"CapInh":     capMask("CAP_CHOWN", "CAP_NET_BIND_SERVICE"),
		"CapPrm":     capMask("CAP_NET_BIND_SERVICE"),
		"CapEff":     capMask("CAP_NET_BIND_SERVICE"),
		"CapAmb":     capMask("CAP_NET_BIND_SERVICE"),
		"NoNewPrivs": "0",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %s, want %s\n%s", k, m[k], v, out)
		}
	}
	if !strings.Contains(out, ":80 ") {
		t.Errorf("uid 1000 with ambient CAP_NET_BIND_SERVICE could not listen on port 80:\n%s", out)
	}
}

func TestOOMScoreAdj(t *testing.T) {
	t.Parallel()
	h := newH(t)
	cur, _ := strconv.Atoi(hostFile(t, "/proc/self/oom_score_adj"))
	want := cur + 100
	if want > 1000 {
		want = 1000
	}
	out := h.MustSh(`cat /proc/self/oom_score_adj`, func(s *specs.Spec) { s.Process.OOMScoreAdj = &want })
	if strings.TrimSpace(out) != strconv.Itoa(want) {
		t.Errorf("oom_score_adj = %q, want %d", out, want)
	}
}

func TestSysctlInNewNamespaces(t *testing.T) {
	t.Parallel()
	h := newH(t)
	before := hostFile(t, "/proc/sys/net/ipv4/ip_forward")
	want := "1"
	if before == "1" {
		want = "0"
	}
	msgBefore := hostFile(t, "/proc/sys/kernel/msgmax")
	out := h.MustSh(`echo fwd=$(cat /proc/sys/net/ipv4/ip_forward); echo msgmax=$(cat /proc/sys/kernel/msgmax)`, func(s *specs.Spec) {
		s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": want, "kernel.msgmax": "12345"}
	})
	if m := kv(out); m["fwd"] != want || m["msgmax"] != "12345" {
		t.Errorf("inside: net.ipv4.ip_forward = %q, kernel.msgmax = %q; want %s and 12345", m["fwd"], m["msgmax"], want)
	}
	if after := hostFile(t, "/proc/sys/kernel/msgmax"); after != msgBefore {
		t.Errorf("host kernel.msgmax changed from %s to %s", msgBefore, after)
	}
	if after := hostFile(t, "/proc/sys/net/ipv4/ip_forward"); after != before {
		t.Errorf("host net.ipv4.ip_forward changed from %s to %s", before, after)
	}
}

func TestStdio(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(sh(`cat; echo to-stderr >&2`))
	in := "line one\nline two\n" + strings.Repeat("x", 100000) + "\n"
	r := h.Run(b, RunOpts{Stdin: in})
	if r.Code != 0 {
		t.Fatalf("%v", r)
	}
	if r.Stdout != in {
		t.Errorf("stdout is not stdin piped through cat (%d bytes, want %d)", len(r.Stdout), len(in))
	}
	if r.Stderr != "to-stderr\n" {
		t.Errorf("stderr = %q, want %q", r.Stderr, "to-stderr\n")
	}
}

func TestNoLeakedFds(t *testing.T) {
	t.Parallel()
	h := newH(t)
	// An extra descriptor of the caller (fd 3 in rt) must not reach the
	// container without --preserve-fds.
	f, err := os.Open("/etc/hostname")
	if err != nil {
		f, _ = os.Open("/etc/passwd")
	}
	defer f.Close()
	b := h.Bundle(sh(`ls /proc/self/fd | tr '\n' ' '`))
	r := h.Run(b, RunOpts{ExtraFiles: []*os.File{f}})
	if r.Code != 0 {
		t.Fatalf("%v", r)
	}
	// ls shows 0 1 2 and its own directory descriptor (3).
	if got := strings.TrimSpace(r.Stdout); got != "0 1 2 3" {
		t.Errorf("descriptors inside = %q, want \"0 1 2 3\" (ls's own is 3)", got)
	}
}

func TestPreserveFds(t *testing.T) {
	t.Parallel()
	h := newH(t)
	p := h.Dir + "/extra.txt"
	os.WriteFile(p, []byte("preserved-content\n"), 0o644)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := h.Bundle(sh(`cat <&3; ls /proc/self/fd | tr '\n' ' '`))
	r := h.Run(b, RunOpts{ExtraFiles: []*os.File{f}}, "--preserve-fds", "1")
	if !strings.HasPrefix(r.Stdout, "preserved-content\n") {
		knownBug(t, "--preserve-fds 1: fd 3 does not reach the container (libct/initstage/run.go marks every fd >= 3 "+
			"close-on-exec before exec; the bootstrap carries no preserve-fds count): output %q, stderr %q", r.Stdout, r.Stderr)
	}
	if got := strings.TrimSpace(strings.TrimPrefix(r.Stdout, "preserved-content\n")); got != "0 1 2 3 4" {
		t.Errorf("descriptors inside = %q, want \"0 1 2 3 4\"", got)
	}
}

func TestPidNamespace(t *testing.T) {
	t.Parallel()
	h := newH(t)
	out := h.MustSh(`echo pid=$$; echo n=$(ls -d /proc/[0-9]* | wc -l)`)
	m := kv(out)
	if m["pid"] != "1" {
		t.Errorf("$$ = %q, want 1", m["pid"])
	}
	// sh and ls (and the $(...) subshell) only.
	if n, _ := strconv.Atoi(m["n"]); n == 0 || n > 4 {
		t.Errorf("%s processes visible in the pid namespace, want <= 4", m["n"])
	}
}

func dropNS(s *specs.Spec, t specs.LinuxNamespaceType) {
	var out []specs.LinuxNamespace
	for _, ns := range s.Linux.Namespaces {
		if ns.Type != t {
			out = append(out, ns)
		}
	}
	s.Linux.Namespaces = out
}

// TestEnvIsolation: the container's environment is process.env only:
// nothing of rt's own (or of the init's GOMAXPROCS).
func TestEnvIsolation(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(args("env"), func(s *specs.Spec) { s.Process.Env = []string{"PATH=/bin:/usr/bin", "ONLY=this"} })
	r := h.Run(b, RunOpts{Env: []string{"ITEST_LEAK=1"}})
	if r.Code != 0 {
		t.Fatalf("%v", r)
	}
	// HOME is added from /etc/passwd when process.env lacks it, as runc does.
	if got := strings.Join(lines(r.Stdout), " "); got != "PATH=/bin:/usr/bin ONLY=this HOME=/root" {
		t.Errorf("env inside = %q, want exactly process.env plus HOME", got)
	}
}
