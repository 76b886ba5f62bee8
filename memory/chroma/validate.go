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

// validateMemories refuses memories the Store cannot keep faithfully: an
// invalid user, an empty or duplicate ID, a blank text, a zero time, an
// empty tag or one with a comma (tags are stored joined by commas), or
// text that is not valid UTF-8 or holds a NUL byte. It refuses what
// braintest.MemMemory refuses.
func validateMemories(p brain.Platform, userID string, ms []brain.Memory) error {
	if err := validateUser(p, userID); err != nil {
		return err
	}
	seen := make(map[string]bool, len(ms))
	for i, m := range ms {
		if err := validateMemory(m); err != nil {
			return fmt.Errorf("memory %d: %w", i, err)
		}
		if seen[m.ID] {
			return fmt.Errorf("memory %d: id %q given twice", i, m.ID)
		}
		seen[m.ID] = true
	}
	return nil
}

func validateMemory(m brain.Memory) error {
	if m.ID == "" {
		return errors.New("empty id")
	}
	if strings.TrimSpace(m.Text) == "" {
		return errors.New("empty text")
	}
	if m.Time.IsZero() {
		return errors.New("no time")
	}
	if err := validText("id", m.ID); err != nil {
		return err
	}
	if err := validText("text", m.Text); err != nil {
		return err
	}
	for _, t := range m.Tags {
		if strings.TrimSpace(t) == "" {
			return errors.New("empty tag")
		}
		if strings.Contains(t, tagSep) {
			return fmt.Errorf("tag %q contains a comma", t)
		}
		if err := validText("tag", t); err != nil {
			return err
		}
	}
	return nil
}

// validText refuses what Chroma cannot store as a string.
func validText(name, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", name)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%s contains a NUL byte", name)
	}
	return nil
}
