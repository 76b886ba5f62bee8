package markdown

import "strings"

// maxLangLen caps the language kept when a code block is reopened in the
// next part, so the added fence line stays small.
const maxLangLen = 32

// fenceState follows ``` code fences line by line. The rules are a small,
// predictable subset of CommonMark that matches what Discord and Telegram
// render: a line whose text (after spaces and tabs) starts with three or
// more backticks opens a block unless the rest of the line holds another
// backtick (then it is inline code); inside a block, a line starting with
// at least as many backticks followed only by spaces closes it.
type fenceState struct {
	open bool
	run  int    // backticks of the opening line
	info string // the opening line's info string, trimmed
}

// line feeds one line (without its "\n") and reports whether it was a
// fence delimiter.
func (f *fenceState) line(l string) bool {
	t := strings.TrimLeft(l, " \t")
	n := 0
	for n < len(t) && t[n] == '`' {
		n++
	}
	if n < 3 {
		return false
	}
	rest := t[n:]
	if !f.open {
		if strings.IndexByte(rest, '`') >= 0 {
			return false
		}
		f.open, f.run, f.info = true, n, strings.TrimSpace(rest)
		return true
	}
	if n >= f.run && strings.TrimSpace(rest) == "" {
		*f = fenceState{}
		return true
	}
	return false
}

// feed runs every line of s through the state and returns the number of
// fence delimiter lines seen. A final line without "\n" counts too.
func (f *fenceState) feed(s string) int {
	count := 0
	for {
		l, rest, found := strings.Cut(s, "\n")
		if f.line(l) {
			count++
		}
		if !found {
			return count
		}
		s = rest
	}
}

// reopen is the fence line that starts the next part when a part ends
// inside this block: the same backtick run and language.
func (f fenceState) reopen() string {
	lang := ""
	if fields := strings.Fields(f.info); len(fields) > 0 && len(fields[0]) <= maxLangLen {
		lang = fields[0]
	}
	return strings.Repeat("`", f.run) + lang
}

// closer is the fence line that closes this block.
func (f fenceState) closer() string { return strings.Repeat("`", f.run) }

// Fences returns the number of code fence delimiter lines (openings and
// closings) in text, as Split understands them. Text whose code blocks are
// all closed has an even count.
func Fences(text string) int {
	var f fenceState
	return f.feed(text)
}

// OpenFence reports whether text ends inside a fenced code block and, if
// so, the fence line that would reopen it (for example "```go").
func OpenFence(text string) (marker string, open bool) {
	var f fenceState
	f.feed(text)
	if !f.open {
		return "", false
	}
	return f.reopen(), true
}
