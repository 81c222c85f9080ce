package slack

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRelaxOthers: every other thread gets the slack, the caller keeps its own.
func TestRelaxOthers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs CAP_SYS_NICE for other threads' timer slack")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self := strconv.Itoa(unix.Gettid())
	before := slackOf(t, self)
	RelaxOthers(1234567)
	if got := slackOf(t, self); got != before {
		t.Errorf("caller's slack changed: %d, was %d", got, before)
	}
	names, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	others := 0
	for _, n := range names {
		if n.Name() == self {
			continue
		}
		// Threads may come and go (the runtime starts more); those there
		// before the call and still there have the new slack.
		if v, ok := slackIfAny(n.Name()); ok && v == 1234567 {
			others++
		}
	}
	if others == 0 {
		t.Errorf("no other thread has the new slack")
	}
	RelaxOthers(50000) // the kernel's default back, for the other tests
}

func slackOf(t *testing.T, tid string) int {
	v, ok := slackIfAny(tid)
	if !ok {
		t.Fatalf("read timer slack of %s", tid)
	}
	return v
}

func slackIfAny(tid string) (int, bool) {
	b, err := os.ReadFile("/proc/" + tid + "/timerslack_ns")
	if err != nil {
		return 0, false
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return v, err == nil
}
