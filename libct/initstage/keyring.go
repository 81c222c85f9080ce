package initstage

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/proto"
)

// Key permissions (linux/key.h): everything for a possessor, and only
// search for the keyring's owner, which an exec needs to find it by name.
// No view (its name can't be read by describing serials), no read, write,
// link or setattr for processes that don't possess it.
const (
	keyPosAll    = 0x3f000000
	keyUsrSearch = 0x00080000
)

// sessionKeyring gives the process the container's own session keyring
// (b.SessionKeyring, a name with a random part chosen by the host), unless
// --no-new-keyring left it empty: the caller's session keyring (the
// engine's, the host user's) is not inherited, and no other container can
// join this one. The init makes it; an exec joins it by name. As runc, a
// kernel without keyrings is not an error.
func sessionKeyring(b *proto.Bootstrap) error {
	if b.SessionKeyring == "" {
		return nil
	}
	id, err := unix.KeyctlJoinSessionKeyring(b.SessionKeyring)
	if errors.Is(err, unix.ENOSYS) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("join a session keyring for the container (--no-new-keyring keeps the caller's): %w", err)
	}
	if err := unix.KeyctlSetperm(id, keyPosAll|keyUsrSearch); err != nil {
		return fmt.Errorf("session keyring permissions: %w", err)
	}
	return nil
}
