package libct

import (
	"encoding/hex"

	"golang.org/x/sys/unix"
)

// keyringName names a container's session keyring: "_ses.<ID>." and 16
// random bytes. runc uses "_ses.<ID>", which any process of the same user
// can join by name (KEYCTL_JOIN_SESSION_KEYRING) and so possess and read
// it, or plant in advance for a future ID; the random part, kept in the
// 0700 state directory for exec, closes both.
//
// The bytes come from getrandom(2) directly, as crypto/rand's would: that
// package and its DRBG cost every rt command their package inits.
func keyringName(id string) string {
	var b [16]byte
	for n := 0; n < len(b); {
		m, err := unix.Getrandom(b[n:], 0)
		if err != nil && err != unix.EINTR {
			panic("getrandom: " + err.Error()) // the kernel's CSPRNG is gone
		}
		n += max(m, 0)
	}
	return "_ses." + id + "." + hex.EncodeToString(b[:])
}
