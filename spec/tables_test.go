package spec

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestCaps(t *testing.T) {
	known := map[string]int{
		"CAP_CHOWN": unix.CAP_CHOWN, "CAP_KILL": unix.CAP_KILL, "CAP_NET_BIND_SERVICE": unix.CAP_NET_BIND_SERVICE,
		"CAP_SYS_ADMIN": unix.CAP_SYS_ADMIN, "CAP_AUDIT_WRITE": unix.CAP_AUDIT_WRITE, "CAP_AUDIT_READ": unix.CAP_AUDIT_READ,
		"CAP_PERFMON": unix.CAP_PERFMON, "CAP_BPF": unix.CAP_BPF, "CAP_CHECKPOINT_RESTORE": unix.CAP_CHECKPOINT_RESTORE,
		"CAP_MAC_ADMIN": unix.CAP_MAC_ADMIN, "CAP_SYSLOG": unix.CAP_SYSLOG, "CAP_BLOCK_SUSPEND": unix.CAP_BLOCK_SUSPEND,
	}
	for n, want := range known {
		if v, ok := CapValue(n); !ok || v != want {
			t.Errorf("CapValue(%q) = %d, %v; want %d", n, v, ok, want)
		}
	}
	names := CapNames()
	if len(names) != unix.CAP_LAST_CAP+1 || CapLast != unix.CAP_LAST_CAP {
		t.Errorf("%d names, CapLast %d; unix.CAP_LAST_CAP is %d", len(names), CapLast, unix.CAP_LAST_CAP)
	}
	for i, n := range names {
		if v, ok := CapValue(n); !ok || v != i {
			t.Errorf("CapNames()[%d] = %q maps back to %d", i, n, v)
		}
	}
	names[0] = "changed"
	if CapNames()[0] != "CAP_CHOWN" {
		t.Error("CapNames returns shared storage")
	}
	for _, bad := range []string{"", "CAP_FOO", "cap_chown", "CHOWN"} {
		if _, ok := CapValue(bad); ok {
			t.Errorf("CapValue(%q) accepted", bad)
		}
	}
}

func TestRlimitType(t *testing.T) {
	want := map[string]int{
		"RLIMIT_AS": 9, "RLIMIT_CORE": 4, "RLIMIT_CPU": 0, "RLIMIT_DATA": 2, "RLIMIT_FSIZE": 1,
		"RLIMIT_LOCKS": 10, "RLIMIT_MEMLOCK": 8, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
		"RLIMIT_NOFILE": 7, "RLIMIT_NPROC": 6, "RLIMIT_RSS": 5, "RLIMIT_RTPRIO": 14,
		"RLIMIT_RTTIME": 15, "RLIMIT_SIGPENDING": 11, "RLIMIT_STACK": 3,
	}
	for n, w := range want {
		if v, ok := RlimitType(n); !ok || v != w {
			t.Errorf("RlimitType(%q) = %d, %v; want %d", n, v, ok, w)
		}
	}
	if _, ok := RlimitType("RLIMIT_FOO"); ok {
		t.Error("RLIMIT_FOO accepted")
	}
}
