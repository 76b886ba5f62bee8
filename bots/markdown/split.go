// Package markdown prepares Markdown replies for chat platforms: it splits
// a long reply into parts that fit a message limit without breaking words,
// runes or fenced code blocks.
package markdown

import (
	"strings"
	"unicode/utf8"
)

// maxTries bounds how many boundary candidates one part tries before it
// falls back to a hard cut, so pathological measures stay cheap.
const maxTries = 64

// fenceLookahead bounds how far past a cut the fence check looks for the
// backticks of a fence line (leading spaces and tabs are skipped).
const fenceLookahead = 64

// Runes measures text in Unicode code points, as Discord counts its
// 2000-character limit.
func Runes(text string) int { return utf8.RuneCountInString(text) }

// UTF16 measures text in UTF-16 code units, as Telegram counts its
// 4096-character limit.
func UTF16(text string) int {
	n := 0
	for _, r := range text {
		if r >= 0x10000 && r <= utf8.MaxRune {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// Split cuts text into parts with measure(part) <= limit each, in order.
//
// It cuts at the last paragraph break (blank line) in the upper half of
// what fits, else the last line break there, else the last space, else the
// last boundary of any kind; it cuts inside a word only when the word alone
// does not fit, and never inside a UTF-8 sequence. When a part ends inside
// a ``` code block, Split closes the block at the end of that part and
// reopens it, with the same language, at the start of the next; a block
// left open at the end of text is closed too. The added fence lines count
// in the measure. Apart from them, the parts concatenate to text exactly
// (so a part may start or end with whitespace, and may be only whitespace:
// callers that cannot send blank messages skip those).
//
// Empty text gives no parts. A nil measure counts runes. If limit is so
// small that one rune plus the fence lines does not fit, that part holds
// one rune and exceeds limit; limits of 64 and more never do.
func Split(text string, limit int, measure func(string) int) []string {
	pieces := split(text, limit, measure)
	if len(pieces) == 0 {
		return nil
	}
	out := make([]string, len(pieces))
	for i, p := range pieces {
		out[i] = p.String()
	}
	return out
}

// piece is one part: the fence line reopening a block, a slice of the
// input, and the fence line closing a block.
type piece struct {
	open, body, close string
	// next is the fence state after body, before close.
	next fenceState
}

func (p piece) String() string { return p.open + p.body + p.close }

// assemble builds the part holding body when start is the fence state at
// its beginning.
func assemble(start fenceState, body string) piece {
	p := piece{body: body}
	f := start
	if start.open {
		p.open = start.reopen() + "\n"
	}
	f.feed(body)
	if f.open {
		p.close = f.closer()
		if !strings.HasSuffix(body, "\n") && (body != "" || p.open == "") {
			p.close = "\n" + p.close
		}
	}
	p.next = f
	return p
}

func split(text string, limit int, measure func(string) int) []piece {
	if text == "" {
		return nil
	}
	if measure == nil {
		measure = Runes
	}
	limit = max(limit, 1)
	var out []piece
	var state fenceState
	for pos := 0; pos < len(text); {
		s := splitter{text: text, pos: pos, state: state, limit: limit, measure: measure}
		p := s.next()
		out = append(out, p)
		pos += len(p.body)
		state = p.next
	}
	return out
}

// splitter finds the one part that starts at pos.
type splitter struct {
	text    string
	pos     int
	state   fenceState
	limit   int
	measure func(string) int
	// fenceLines are the [start, end) byte ranges of the fence lines in
	// the window being cut.
	fenceLines [][2]int
}

// part assembles the part that ends at end.
func (s *splitter) part(end int) (piece, bool) {
	p := assemble(s.state, s.text[s.pos:end])
	return p, s.measure(p.String()) <= s.limit
}

// runeEnd moves e back to a rune boundary past pos: only a rune that
// starts in the three bytes before e can span it (stray continuation
// bytes decode one by one). When no boundary is left past pos it returns
// the end of the first rune after pos.
func (s *splitter) runeEnd(e int) int {
	text := s.text
	if e >= len(text) {
		return len(text)
	}
	for b := e - 1; b >= s.pos && b >= e-(utf8.UTFMax-1); b-- {
		if utf8.RuneStart(text[b]) {
			if _, n := utf8.DecodeRuneInString(text[b:]); b+n > e {
				e = b
			}
			break
		}
	}
	if e <= s.pos {
		_, n := utf8.DecodeRuneInString(text[s.pos:])
		e = s.pos + n
	}
	return e
}

func (s *splitter) next() piece {
	text, pos := s.text, s.pos
	// Grow a probe until it no longer fits (or reaches the end), then
	// binary search the largest fitting end between the last two probes.
	lo, hi := pos, len(text)
	for e := pos + s.limit; ; e = pos + 2*(e-pos) {
		if e >= len(text) {
			if p, ok := s.part(len(text)); ok {
				return p
			}
			break
		}
		if _, ok := s.part(s.runeEnd(e)); !ok {
			hi = e
			break
		}
		lo = e
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if _, ok := s.part(s.runeEnd(mid)); ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo == pos {
		// Not even one rune fits: make progress anyway.
		p, _ := s.part(s.runeEnd(pos + 1))
		return p
	}
	maxEnd := s.runeEnd(lo)
	for i, c := range s.candidates(maxEnd) {
		if i == maxTries {
			break
		}
		if p, ok := s.part(c); ok {
			return p
		}
	}
	p, _ := s.part(maxEnd)
	return p
}

// candidates lists the cut positions in (pos, maxEnd] in order of
// preference: paragraph, line and word boundaries in the upper half, then
// any boundary, then hard cuts.
func (s *splitter) candidates(maxEnd int) []int {
	text, pos := s.text, s.pos
	s.findFenceLines(maxEnd)
	half := pos + (maxEnd-pos)/2
	var para, line, word, low []int
	for c := maxEnd; c > pos; c-- {
		kind := boundary(text, c)
		if kind == noBoundary || !s.allowed(c) {
			continue
		}
		if c < half {
			low = append(low, c)
			if len(low) == maxTries {
				break
			}
			continue
		}
		switch kind {
		case paraBoundary:
			para = append(para, c)
		case lineBoundary:
			line = append(line, c)
		default:
			word = append(word, c)
		}
	}
	out := make([]int, 0, len(para)+len(line)+len(word)+len(low)+maxTries)
	out = append(append(append(append(out, para...), line...), word...), low...)
	for c, n := maxEnd, 0; c > pos && n < maxTries; c-- {
		if s.allowed(c) {
			out = append(out, c)
			n++
		}
	}
	return out
}

type boundaryKind int

const (
	noBoundary boundaryKind = iota
	wordBoundary
	lineBoundary
	paraBoundary
)

// boundary classifies cutting text at c (0 < c < len(text)).
func boundary(text string, c int) boundaryKind {
	if c >= len(text) {
		return paraBoundary
	}
	switch prev := text[c-1]; {
	case prev == '\n' && c >= 2 && text[c-2] == '\n':
		return paraBoundary
	case prev == '\n':
		return lineBoundary
	case prev == ' ' || prev == '\t':
		return wordBoundary
	}
	switch text[c] {
	case ' ', '\t', '\n':
		return wordBoundary
	}
	return noBoundary
}

// allowed reports whether cutting at c keeps runes whole and does not
// change which lines are fence lines: no cut inside a fence line, and no
// cut that would start a line with backticks that were mid-line.
func (s *splitter) allowed(c int) bool {
	text := s.text
	if c >= len(text) {
		return true
	}
	if !utf8.RuneStart(text[c]) {
		return false
	}
	if text[c-1] == '\n' {
		return true
	}
	if startsFence(text[c:]) {
		return false
	}
	for _, l := range s.fenceLines {
		if c > l[0] && c <= l[1] {
			return false
		}
	}
	return true
}

// findFenceLines records the fence lines that start in [pos, end). A line
// that starts before pos holds no fence: pos was an allowed mid-line cut.
func (s *splitter) findFenceLines(end int) {
	text := s.text
	s.fenceLines = s.fenceLines[:0]
	ls := s.pos
	if ls > 0 && text[ls-1] != '\n' {
		i := strings.IndexByte(text[ls:end], '\n')
		if i < 0 {
			return
		}
		ls += i + 1
	}
	for ls < end {
		le := end
		if i := strings.IndexByte(text[ls:end], '\n'); i >= 0 {
			le = ls + i
		}
		if startsFence(text[ls:]) {
			s.fenceLines = append(s.fenceLines, [2]int{ls, le})
		}
		ls = le + 1
	}
}

// startsFence reports whether s starts with optional spaces or tabs and
// three backticks.
func startsFence(s string) bool {
	for i := 0; i < len(s) && i < fenceLookahead; i++ {
		if s[i] != ' ' && s[i] != '\t' {
			return strings.HasPrefix(s[i:], "```")
		}
	}
	return false
}
