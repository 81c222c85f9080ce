package state

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxIDLen bounds container IDs: an ID is a directory name (state dir,
// cgroup), and file names are at most 255 bytes.
const MaxIDLen = 255

// ValidateID accepts IDs made of letters, digits and `_ + - .`, not "." or
// "..", at most MaxIDLen bytes: what runc accepts, minus nothing.
func ValidateID(id string) error {
	if id == "" {
		return errors.New("container id: must not be empty")
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("container id: longer than %d bytes", MaxIDLen)
	}
	if id == "." || id == ".." {
		return fmt.Errorf("container id %q: not allowed", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_' || c == '+' || c == '-' || c == '.':
		default:
			// Name the character, not its first byte ('é', not 'Ã').
			r, _ := utf8.DecodeRuneInString(id[i:])
			return fmt.Errorf("container id %q: invalid character %q (use letters, digits and _ + - .)", truncate(id), r)
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
