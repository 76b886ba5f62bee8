package router

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Dense shape features: each statistic has four slots, one per bucket.
const (
	shapeBias = iota
	shapeLines
	shapeIndented
	shapeColonEnd
	shapeCall
	shapeDotMember
	shapeSnake
	shapeCamel
	shapeOperator
	shapeAssign
	shapeBrackets
	shapeQuotes
	shapeHashLine
	shapeSymbolRatio
	shapeTurkish
	shapeASCIIWords
	shapeRunes
	shapeWords
	shapeQuestion
	shapeTraceback
	shapeErrorName
	shapeKeywordLine
	shapePrompt
	shapeFence
	shapeURL
	shapeDunder
	shapeSemicolonEnd
	shapeSentence
	shapeProseLine
	shapeInlineCode
	shapeCount
)

// bucket maps a count to a slot: 1, 2-3, 4-9, 10+ (0 has no feature).
func bucket(n int) int {
	switch {
	case n <= 1:
		return 0
	case n <= 3:
		return 1
	case n <= 9:
		return 2
	}
	return 3
}

func addShape(fs []feature, stat, slot int) []feature {
	return append(fs, feature{idx: uint32(stat*4 + slot), val: 1})
}

func addCount(fs []feature, stat, n int) []feature {
	if n <= 0 {
		return fs
	}
	return addShape(fs, stat, bucket(n))
}

// codeStarts are how a line of code often starts: Python keywords, shell
// commands and prompts, keywords of a few other languages, and SQL
// statements and clauses in the capitals people write them in (a lower
// case "update" or "where" starts English prose as often).
var codeStarts = []string{
	"async ", "await ", "assert ", "break", "class ", "continue", "const ", "cd ",
	"def ", "elif ", "else:", "except", "for ", "from ", "finally:", "function ",
	"git ", "if ", "import ", "lambda ", "let ", "npm ", "print(", "pass", "pip ",
	"python ", "public ", "return", "raise ", "self.", "sudo ", "select ", "try:",
	"var ", "while ", "with ", "yield ", "#!", "$ ", ">>> ", "...",
	"SELECT ", "UPDATE ", "INSERT INTO ", "DELETE FROM ", "CREATE TABLE ", "ALTER TABLE ",
	"DROP TABLE ", "WHERE ", "FROM ", "JOIN ", "LEFT JOIN ", "GROUP BY ", "ORDER BY ", "SET ",
	"VALUES ",
}

// codeStartsBy indexes codeStarts by first byte; read-only.
var codeStartsBy = func() (by [256][]string) {
	for _, c := range codeStarts {
		by[c[0]] = append(by[c[0]], c)
	}
	return by
}()

// keywordStart reports whether a line (without its indentation) starts like
// code: one of codeStarts, a decorator or a brace.
func keywordStart(t string) bool {
	if t == "" {
		return false
	}
	switch t[0] {
	case '@', '{', '}':
		return true
	}
	for _, c := range codeStartsBy[t[0]] {
		if strings.HasPrefix(t, c) {
			return true
		}
	}
	return false
}

// appendShape adds the code-shape and prose-shape features of raw text.
func appendShape(fs []feature, s string) []feature {
	var (
		lines, indented, colonEnd, semiEnd, hashLine, keyLines    int
		call, dot, snake, camel, op, assign, brackets, quotes     int
		symbols, visible, turkish, words, asciiWords, runes, ques int
		prompt, fence, url, dunder, sentences, proseLines         int
	)
	fs = addShape(fs, shapeBias, 0)
	lineStart := true
	var last, prev byte
	lastVisible := byte(0)
	// endLine tallies how the line that just ended ends.
	endLine := func() {
		switch lastVisible {
		case ':':
			colonEnd++
		case ';':
			semiEnd++
		case '.', '!', '?':
			proseLines++
		}
		lastVisible = 0
	}
	inWord, wordASCII := false, true
	for i, r := range s {
		runes++
		c := byte(0)
		if r < utf8.RuneSelf {
			c = byte(r)
		}
		if lineStart {
			lines++
			lineStart = false
			rest := s[i:]
			trimmed := strings.TrimLeft(rest, " \t")
			if len(trimmed) < len(rest) && len(trimmed) > 0 && trimmed[0] != '\n' && (len(rest)-len(trimmed) >= 2 || rest[0] == '\t') {
				indented++
			}
			if strings.HasPrefix(trimmed, "#") {
				hashLine++
			}
			if keywordStart(trimmed) {
				keyLines++
			}
			switch {
			case strings.HasPrefix(trimmed, ">>>"), strings.HasPrefix(trimmed, "In ["), strings.HasPrefix(trimmed, "$ "):
				prompt++
			case strings.HasPrefix(trimmed, "```"):
				fence++
			}
		}
		if r == '\n' {
			endLine()
			lineStart = true
		} else if !isSpace(r, c) {
			visible++
			lastVisible = c
		}
		isLetter := isLower(c) || isUpper(c) || c == 0 && unicode.IsLetter(r)
		switch {
		case isLetter || c >= '0' && c <= '9' || c == '_':
			if !inWord {
				inWord, wordASCII = true, true
				words++
			}
			if c == 0 {
				wordASCII = false
			}
		default:
			if inWord && wordASCII {
				asciiWords++
			}
			inWord = false
		}
		switch r {
		case 'ç', 'ğ', 'ı', 'ö', 'ş', 'ü', 'Ç', 'Ğ', 'İ', 'Ö', 'Ş', 'Ü':
			turkish++
		}
		switch c {
		case '(':
			if isIdent(last) {
				call++
			}
			symbols++
		case '.':
			if isIdent(last) && i+1 < len(s) && isIdentStart(s[i+1]) && !(i+2 < len(s) && s[i+2] == ' ') {
				dot++
			}
		case '_':
			if isLower(last) && i+1 < len(s) && isLower(s[i+1]) {
				snake++
			}
			if last == '_' && prev != '_' {
				dunder++
			}
		case '=':
			symbols++
			switch last {
			case '=', '!', '+', '-', '*', '/', '<', '>':
				op++
			default:
				if last == ' ' && i+1 < len(s) && s[i+1] == ' ' {
					assign++
				}
			}
		case '>':
			if last == '-' {
				op++
			}
		case '*', '/':
			if last == c {
				op++
			}
		case '[', '{':
			brackets++
			symbols++
		case '"', '\'', '`':
			quotes++
		case ')', ']', '}', ';', '<', '#', '\\', '|', '&', '%', '$', '^', '~':
			symbols++
		}
		if isUpper(c) && isLower(last) && inWord {
			camel++
		}
		if isUpper(c) && (last == ' ' || last == '\n') && (prev == '.' || prev == '!' || prev == '?') {
			sentences++
		}
		if c == ':' && last == '/' {
			url++
		}
		if r == ':' && i+2 < len(s) && s[i+1] == '/' && s[i+2] == '/' {
			url++
		}
		prev, last = last, c
	}
	if inWord && wordASCII {
		asciiWords++
	}
	endLine()
	if t := strings.TrimRightFunc(s, unicode.IsSpace); strings.HasSuffix(t, "?") {
		ques = 1
	}

	fs = addCount(fs, shapeLines, lines-1)
	fs = addCount(fs, shapeIndented, indented)
	fs = addCount(fs, shapeColonEnd, colonEnd)
	fs = addCount(fs, shapeSemicolonEnd, semiEnd)
	fs = addCount(fs, shapeHashLine, hashLine)
	fs = addCount(fs, shapeKeywordLine, keyLines)
	fs = addCount(fs, shapeCall, call)
	fs = addCount(fs, shapeDotMember, dot)
	fs = addCount(fs, shapeSnake, snake)
	fs = addCount(fs, shapeCamel, camel)
	fs = addCount(fs, shapeOperator, op)
	fs = addCount(fs, shapeAssign, assign)
	fs = addCount(fs, shapeBrackets, brackets)
	fs = addCount(fs, shapeQuotes, quotes)
	fs = addCount(fs, shapePrompt, prompt)
	fs = addCount(fs, shapeFence, fence)
	fs = addCount(fs, shapeURL, url)
	fs = addCount(fs, shapeDunder, dunder)
	fs = addCount(fs, shapeQuestion, ques)
	fs = addCount(fs, shapeSentence, sentences)
	fs = addCount(fs, shapeProseLine, proseLines)
	fs = addCount(fs, shapeInlineCode, inlineCode(s))
	if visible > 0 {
		fs = addShape(fs, shapeSymbolRatio, ratioSlot(float64(symbols)/float64(visible), 0.01, 0.04, 0.1))
	}
	if words > 0 {
		fs = addShape(fs, shapeTurkish, ratioSlot(float64(turkish)/float64(words), 0.001, 0.15, 0.5))
		fs = addShape(fs, shapeASCIIWords, ratioSlot(float64(asciiWords)/float64(words), 0.5, 0.9, 0.999))
	}
	fs = addShape(fs, shapeRunes, sizeSlot(runes, 12, 40, 160))
	fs = addShape(fs, shapeWords, sizeSlot(words, 1, 3, 12))
	if strings.Contains(s, "Traceback (most recent call last)") || strings.Contains(s, "File \"") {
		fs = addShape(fs, shapeTraceback, 0)
	}
	if hasErrorName(s) {
		fs = addShape(fs, shapeErrorName, 0)
	}
	return fs
}

// ratioSlot buckets a ratio by three ascending cuts.
func ratioSlot(x, a, b, c float64) int {
	switch {
	case x < a:
		return 0
	case x < b:
		return 1
	case x < c:
		return 2
	}
	return 3
}

// sizeSlot buckets a size by three ascending limits (inclusive).
func sizeSlot(n, a, b, c int) int {
	switch {
	case n <= a:
		return 0
	case n <= b:
		return 1
	case n <= c:
		return 2
	}
	return 3
}

// hasErrorName reports a CamelCase name ending in Error or Exception
// (ValueError, KeyError, ZeroDivisionError, RuntimeException).
func hasErrorName(s string) bool {
	for _, suffix := range []string{"Error", "Exception"} {
		for off := 0; ; {
			i := strings.Index(s[off:], suffix)
			if i < 0 {
				break
			}
			i += off
			if i > 0 && isIdent(s[i-1]) {
				return true
			}
			off = i + len(suffix)
		}
	}
	return false
}

func isSpace(r rune, c byte) bool {
	if c != 0 {
		return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
	}
	return r >= utf8.RuneSelf && unicode.IsSpace(r)
}

func isLower(c byte) bool      { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool      { return 'A' <= c && c <= 'Z' }
func isIdentStart(c byte) bool { return isLower(c) || isUpper(c) || c == '_' }
func isIdent(c byte) bool      { return isIdentStart(c) || '0' <= c && c <= '9' }

// maxInline bounds an inline code span: a longer one is prose between
// two stray backticks.
const maxInline = 120

// inlineCode counts Markdown inline code spans (`x += [1]`, `dict.get()`):
// text between two single backticks on one line. People quote code that
// way in chat, and hardly anything else.
func inlineCode(s string) int {
	n := 0
	for {
		i := strings.IndexByte(s, '`')
		if i < 0 {
			return n
		}
		s = s[i+1:]
		if strings.HasPrefix(s, "``") { // a fence, counted on its own
			s = s[2:]
			continue
		}
		j := strings.IndexAny(s, "`\n")
		if j < 0 {
			return n
		}
		if s[j] == '`' && j > 0 && j <= maxInline && strings.TrimSpace(s[:j]) != "" {
			n++
			s = s[j+1:]
			continue
		}
		s = s[j:]
	}
}
