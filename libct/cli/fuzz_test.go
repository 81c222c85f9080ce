package cli

import (
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzParseSignal: an accepted signal is 1-64 and was given as its
// number, or as its name (ASCII, any case, with or without SIG); a
// rejection is one line. Seeds: testdata/fuzz/FuzzParseSignal/.
func FuzzParseSignal(f *testing.F) {
	for _, s := range []string{"KILL", "sigterm", "9", "64", "65", "0", "-1", "+9", "RTMIN", "SIGRTMIN+1", "SIG", "ſigkill", "", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := ParseSignal(s)
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "signal ") {
				t.Fatalf("error is not one line about the signal: %q", msg)
			}
			return
		}
		if sig < 1 || sig > 64 {
			t.Fatalf("ParseSignal(%q) = %d, out of range", s, sig)
		}
		if n, err := strconv.Atoi(s); err == nil {
			if int(sig) != n {
				t.Fatalf("ParseSignal(%q) = %d", s, sig)
			}
			return
		}
		name := unix.SignalName(sig)
		if got := "SIG" + strings.TrimPrefix(strings.ToUpper(s), "SIG"); got != name && "SIG"+strings.ToUpper(s) != name {
			t.Fatalf("ParseSignal(%q) = %s: the input is not that name", s, name)
		}
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				t.Fatalf("ParseSignal(%q) = %s: accepted a non-ASCII name", s, name)
			}
		}
	})
}
