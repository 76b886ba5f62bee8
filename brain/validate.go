package brain

import (
	"errors"
	"fmt"
	"strings"
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
		{"chat kind", string(r.ChatKind)}, {"platform message id", r.PlatformMessageID}}
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
