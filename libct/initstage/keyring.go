package initstage

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/proto"
)

// Key permissions (linux/key.h): everything for a possessor, and view,
// read, write, search, link and setattr for the keyring's owner.
const (
	keyPosAll = 0x3f000000
	keyUsrAll = 0x003f0000
)

// sessionKeyring gives the process the container's own session keyring,
// "_ses.<ID>", unless --no-new-keyring: the caller's session keyring (the
// engine's, the host user's) is not inherited. The init creates it; an
// exec joins the same one (the kernel finds it by name). As runc, a
// kernel without keyrings is not an error.
func sessionKeyring(b *proto.Bootstrap) error {
	if b.NoNewKeyring {
		return nil
	}
	id, err := unix.KeyctlJoinSessionKeyring("_ses." + b.ID)
	if errors.Is(err, unix.ENOSYS) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("join a session keyring for the container (--no-new-keyring keeps the caller's): %w", err)
	}
	if err := unix.KeyctlSetperm(id, keyPosAll|keyUsrAll); err != nil {
		return fmt.Errorf("session keyring permissions: %w", err)
	}
	return nil
}
