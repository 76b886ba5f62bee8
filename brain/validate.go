package brain

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Validate refuses a record no History can store faithfully, with an error
// that says which field is wrong. Every History implementation calls it, so
// they refuse the same records.
func (r *Record) Validate() error {
	if r == nil {
		return errors.New("invalid record: nil")
	}
	if err := r.Key.Validate(); err != nil {
		return fmt.Errorf("invalid record: %w", err)
	}
	if r.Role != RoleUser && r.Role != RoleAssistant {
		return fmt.Errorf("invalid record: role %q (want user or assistant)", r.Role)
	}
	if r.Time.IsZero() {
		return errors.New("invalid record: no time")
	}
	fields := []struct{ name, v string }{{"text", r.Text}, {"user name", r.UserName},
		{"chat kind", string(r.ChatKind)}, {"platform message id", r.PlatformMessageID}, {"handle", r.Handle}}
	if d := r.Decision; d != nil {
		fields = append(fields, struct{ name, v string }{"expert", d.Expert}, struct{ name, v string }{"model", d.Model},
			struct{ name, v string }{"runner-up", d.RunnerUp}, struct{ name, v string }{"candidate", d.Candidate})
	}
	for _, f := range fields {
		if err := validText(f.v); err != nil {
			return fmt.Errorf("invalid record: %s %w", f.name, err)
		}
	}
	return nil
}

// Validate refuses an incomplete or malformed conversation key.
func (k ConvKey) Validate() error {
	for _, f := range []struct{ name, v string }{{"platform", string(k.Platform)}, {"chat id", k.ChatID}, {"user id", k.UserID}} {
		if f.v == "" {
			return fmt.Errorf("empty %s", f.name)
		}
		if err := validText(f.v); err != nil {
			return fmt.Errorf("%s %w", f.name, err)
		}
	}
	return nil
}

// ValidateUser refuses an empty or malformed user identity.
func ValidateUser(p Platform, userID string) error {
	return ConvKey{Platform: p, ChatID: "-", UserID: userID}.Validate()
}

// validText refuses what a text column cannot hold.
func validText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return errors.New("contains a NUL byte")
	}
	return nil
}

// ValidateMemories refuses memories no long-term memory can keep
// faithfully: an invalid user, an empty or duplicate ID, a blank text, a
// zero time, an empty tag or one with a comma (stores may keep tags joined
// by commas), or text that is not valid UTF-8 or holds a NUL byte. Every
// Memorizer calls it, so they refuse the same memories.
func ValidateMemories(p Platform, userID string, ms []Memory) error {
	if err := ValidateUser(p, userID); err != nil {
		return err
	}
	seen := make(map[string]bool, len(ms))
	for i, m := range ms {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("memory %d: %w", i, err)
		}
		if seen[m.ID] {
			return fmt.Errorf("memory %d: id %q given twice", i, m.ID)
		}
		seen[m.ID] = true
	}
	return nil
}

// Validate refuses one memory as ValidateMemories does.
func (m Memory) Validate() error {
	switch {
	case m.ID == "":
		return errors.New("empty id")
	case strings.TrimSpace(m.Text) == "":
		return errors.New("empty text")
	case m.Time.IsZero():
		return errors.New("no time")
	}
	for _, f := range []struct{ name, v string }{{"id", m.ID}, {"text", m.Text}} {
		if err := validText(f.v); err != nil {
			return fmt.Errorf("%s %w", f.name, err)
		}
	}
	for _, t := range m.Tags {
		if strings.TrimSpace(t) == "" {
			return errors.New("empty tag")
		}
		if strings.Contains(t, ",") {
			return fmt.Errorf("tag %q contains a comma", t)
		}
		if err := validText(t); err != nil {
			return fmt.Errorf("tag %w", err)
		}
	}
	return nil
}

// ValidateMemoryRows refuses what no stored memory row can keep faithfully:
// what ValidateMemories refuses, a Day that is neither empty nor
// YYYY-MM-DD, and a source that is no message id. The Postgres store and
// its in-memory fake both hold memories to it.
func ValidateMemoryRows(p Platform, userID string, ms []Memory) error {
	if err := ValidateMemories(p, userID, ms); err != nil {
		return err
	}
	for i, m := range ms {
		if err := ValidateMemoryDay(m.Day); err != nil {
			return fmt.Errorf("memory %d: %w", i, err)
		}
		for _, id := range m.Sources {
			if id <= 0 {
				return fmt.Errorf("memory %d: source %d is no message id", i, id)
			}
		}
	}
	return nil
}

// ValidateMemoryDay refuses a day that is neither empty nor YYYY-MM-DD.
func ValidateMemoryDay(day string) error {
	if day == "" {
		return nil
	}
	if t, err := time.Parse(time.DateOnly, day); err != nil || t.Format(time.DateOnly) != day {
		return fmt.Errorf("day %q is not YYYY-MM-DD", day)
	}
	return nil
}
