package chroma

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/evo-tr/evo/brain"
)

// validateUser refuses an empty or malformed user, and a platform that
// cannot be part of a collection name.
func validateUser(p brain.Platform, userID string) error {
	if err := brain.ValidateUser(p, userID); err != nil {
		return err
	}
	if len(p) > 64 || strings.IndexFunc(string(p), func(r rune) bool { return !nameRune(r) || r == '.' }) >= 0 {
		return fmt.Errorf("platform %q: want at most 64 letters, digits, '_' or '-'", p)
	}
	return nil
}

// validPrefix refuses a collection name prefix Chroma would not accept.
func validPrefix(prefix string) error {
	if len(prefix) > 128 {
		return errors.New("is longer than 128 characters")
	}
	if prefix == "" || !isAlnum(rune(prefix[0])) {
		return errors.New("must start with a letter or digit")
	}
	if strings.IndexFunc(prefix, func(r rune) bool { return !nameRune(r) || r == '.' }) >= 0 {
		return errors.New("may hold only letters, digits, '_' and '-'")
	}
	return nil
}

// nameRune reports whether Chroma allows r in a collection name.
func nameRune(r rune) bool { return isAlnum(r) || r == '_' || r == '-' || r == '.' }

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// validateMemories refuses what brain.ValidateMemories refuses, and a
// platform that cannot be part of a collection name.
func validateMemories(p brain.Platform, userID string, ms []brain.Memory) error {
	if err := validateUser(p, userID); err != nil {
		return err
	}
	return brain.ValidateMemories(p, userID, ms)
}

// validText refuses what Chroma cannot take as a query text.
func validText(name, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", name)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%s contains a NUL byte", name)
	}
	return nil
}
