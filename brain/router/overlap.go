package router

import (
	"strings"
	"unicode"
)

// TextKey is the form under which two texts count as the same example:
// Turkish-aware lower case (I -> ı, İ -> i), punctuation and symbols
// dropped, runs of whitespace made one space. Turkish letters keep their
// marks ("sınıf" and "sinif" differ). An evaluation line whose key is a
// training example's key is not blind.
func TextKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // at the start: drop leading spaces
	for _, r := range s {
		r = unicode.TurkishCase.ToLower(r)
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
			space = false
		case !space: // whitespace, punctuation, symbols: one separator
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSuffix(b.String(), " ")
}

// Overlap returns the lines of set whose text is, under TextKey, one of
// the examples.
func Overlap(examples []string, set []Labeled) []Labeled {
	keys := make(map[string]bool, len(examples))
	for _, ex := range examples {
		keys[TextKey(ex)] = true
	}
	var out []Labeled
	for _, l := range set {
		if keys[TextKey(l.Text)] {
			out = append(out, l)
		}
	}
	return out
}
