package libct

import (
	"crypto/rand"
	"encoding/hex"
)

// keyringName names a container's session keyring: "_ses.<ID>." and 16
// random bytes. runc uses "_ses.<ID>", which any process of the same user
// can join by name (KEYCTL_JOIN_SESSION_KEYRING) and so possess and read
// it, or plant in advance for a future ID; the random part, kept in the
// 0700 state directory for exec, closes both.
func keyringName(id string) string {
	var b [16]byte
	rand.Read(b[:])
	return "_ses." + id + "." + hex.EncodeToString(b[:])
}
