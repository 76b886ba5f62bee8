package router

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// How much of a text the router reads: the head and the tail (a traceback
// ends with its error line). A decision never costs more than this.
const (
	headBytes = 2048
	tailBytes = 512
)

// Feature space: dense shape features take the first denseSlots indices;
// hashed character and word n-grams the 1<<hashBits after them.
const (
	denseSlots = 256
	hashBits   = 17
	numSlots   = denseSlots + 1<<hashBits
	minGram    = 1
	maxGram    = 5
	// gramRunes caps the character n-grams of a long text (its head and
	// tail); words, keywords and shape still see the whole clip.
	gramHead = 1024
	gramTail = 256
)

// feature is one non-zero entry of a text's feature vector.
type feature struct {
	idx uint32
	val float32
}

// scratch holds the buffers of one extraction so that routing does not
// allocate.
type scratch struct {
	runes  []rune
	words  []span
	counts []int
	feats  []feature
	probs  []float64
}

// featurizer turns a text into features; it is read-only after creation
// and safe for concurrent use.
type featurizer struct {
	lex *lexicon
	k   int // experts
}

// clip returns at most headBytes+tailBytes of s, cut at rune boundaries.
func clip(s string) string {
	if len(s) <= headBytes+tailBytes {
		return s
	}
	h := headBytes
	for h > 0 && !utf8.RuneStart(s[h]) {
		h--
	}
	t := len(s) - tailBytes
	for t < len(s) && !utf8.RuneStart(s[t]) {
		t++
	}
	return s[:h] + "\n" + s[t:]
}

// fold maps a rune to its routing form: Turkish-aware lower case (I -> ı,
// İ -> i), Turkish letters without their marks (so "nasil" and "nasıl"
// meet), every digit to 0 and every space to ' '.
func fold(r rune) rune {
	if r < utf8.RuneSelf {
		switch {
		case 'A' <= r && r <= 'Z':
			return r + ('a' - 'A')
		case '0' <= r && r <= '9':
			return '0'
		case r == '\n' || r == '\t' || r == '\r' || r == '\v' || r == '\f':
			return ' '
		}
		return r
	}
	r = unicode.TurkishCase.ToLower(r)
	switch r {
	case 'ı', 'î', 'ì', 'í':
		return 'i'
	case 'ş':
		return 's'
	case 'ğ':
		return 'g'
	case 'ü', 'û', 'ù', 'ú':
		return 'u'
	case 'ö', 'ô':
		return 'o'
	case 'ç':
		return 'c'
	case 'â', 'à', 'á', 'ä':
		return 'a'
	case 'é', 'è', 'ê':
		return 'e'
	}
	switch {
	case unicode.IsDigit(r):
		return '0'
	case unicode.IsSpace(r):
		return ' '
	}
	return r
}

// normalize writes the folded runes of s into dst with runs of spaces
// collapsed and one space on either side.
func normalize(dst []rune, s string) []rune {
	dst = append(dst[:0], ' ')
	for _, r := range s {
		r = fold(r)
		if r == ' ' && dst[len(dst)-1] == ' ' {
			continue
		}
		dst = append(dst, r)
	}
	if dst[len(dst)-1] != ' ' {
		dst = append(dst, ' ')
	}
	return dst
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || r == '0' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// FNV-1a over runes, with a salt per feature kind.
const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
	saltGram  = 0x9e3779b9
	saltWord  = 0x85ebca6b
	saltPair  = 0xc2b2ae35
	saltStem  = 0x27d4eb2f
	saltKw    = 0x165667b1
	stemLen   = 5
)

func hashSlot(h uint32) uint32 {
	h ^= h >> 15
	h *= 0x2c1b3c6d
	h ^= h >> 12
	return denseSlots + h&(1<<hashBits-1)
}

// extract appends the features of text to sc.feats and returns them.
// Equal texts give equal features; the result is valid until sc is reused.
func (fz *featurizer) extract(text string, sc *scratch) []feature {
	text = clip(text)
	sc.feats = sc.feats[:0]
	sc.runes = normalize(sc.runes, text)
	rs := sc.runes

	// Character n-grams, 1 to 5 runes, inside the padded text.
	start := len(sc.feats)
	for i := 0; i < len(rs); i++ {
		if i == gramHead && len(rs) > gramHead+gramTail {
			i = len(rs) - gramTail
		}
		h := uint32(fnvOffset)
		for n := 0; n < maxGram && i+n < len(rs); n++ {
			h = (h ^ uint32(rs[i+n])) * fnvPrime
			if n+1 < minGram {
				continue
			}
			sc.feats = append(sc.feats, feature{idx: hashSlot(h ^ saltGram ^ uint32(n))})
		}
	}
	setGroup(sc.feats[start:], 1)

	// Words, their first stemLen runes (a crude Turkish stem: sıralama,
	// sıralanır) and word pairs.
	start = len(sc.feats)
	sc.words = sc.words[:0]
	var prev uint32
	havePrev := false
	for i := 0; i < len(rs); {
		if !isWordRune(rs[i]) {
			i++
			continue
		}
		h := uint32(fnvOffset)
		w := span{start: int32(i)}
		for ; i < len(rs) && isWordRune(rs[i]); i++ {
			h = (h ^ uint32(rs[i])) * fnvPrime
			if i-int(w.start)+1 == stemLen {
				sc.feats = append(sc.feats, feature{idx: hashSlot(h ^ saltStem)})
			}
		}
		w.end = int32(i)
		sc.words = append(sc.words, w)
		sc.feats = append(sc.feats, feature{idx: hashSlot(h ^ saltWord)})
		if havePrev {
			sc.feats = append(sc.feats, feature{idx: hashSlot((prev*31 + h) ^ saltPair)})
		}
		prev, havePrev = h, true
	}
	setGroup(sc.feats[start:], 1)

	// Keywords: one feature per expert and count bucket.
	if fz.lex != nil {
		if cap(sc.counts) < fz.k {
			sc.counts = make([]int, fz.k)
		}
		counts := sc.counts[:fz.k]
		clear(counts)
		fz.lex.count(rs, sc.words, counts)
		experts := 0
		for c, n := range counts {
			if n > 0 {
				experts++
				sc.feats = append(sc.feats, feature{idx: hashSlot(saltKw ^ uint32(c)*0x9e3779b1 ^ uint32(bucket(n))), val: 1})
			}
		}
		// Whether no expert, or several, claimed a keyword.
		sc.feats = append(sc.feats, feature{idx: hashSlot(saltKw ^ 0x5bd1e995 ^ uint32(min(experts, 2))), val: 1})
	}

	sc.feats = appendShape(sc.feats, text)
	return sc.feats
}

// setGroup gives every feature of a group the weight scale/sqrt(len), so a
// group's length does not drown the other groups.
func setGroup(fs []feature, scale float64) {
	if len(fs) == 0 {
		return
	}
	v := float32(scale / math.Sqrt(float64(len(fs))))
	for i := range fs {
		fs[i].val = v
	}
}

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

// keywordStart reports whether a line (without its indentation) starts like
// code: a Python keyword, a REPL or shell prompt, a decorator, a brace, or
// a keyword of a few other languages.
func keywordStart(t string) bool {
	if t == "" {
		return false
	}
	var cands []string
	switch t[0] {
	case 'a':
		cands = []string{"async ", "await ", "assert "}
	case 'b':
		cands = []string{"break"}
	case 'c':
		cands = []string{"class ", "continue", "const ", "cd "}
	case 'd':
		cands = []string{"def "}
	case 'e':
		cands = []string{"elif ", "else:", "except"}
	case 'f':
		cands = []string{"for ", "from ", "finally:", "function "}
	case 'g':
		cands = []string{"git "}
	case 'i':
		cands = []string{"if ", "import "}
	case 'l':
		cands = []string{"lambda ", "let "}
	case 'n':
		cands = []string{"npm "}
	case 'p':
		cands = []string{"print(", "pass", "pip ", "python ", "public "}
	case 'r':
		cands = []string{"return", "raise "}
	case 's':
		cands = []string{"self.", "sudo ", "select "}
	case 'S':
		cands = []string{"SELECT "}
	case 't':
		cands = []string{"try:"}
	case 'v':
		cands = []string{"var "}
	case 'w':
		cands = []string{"while ", "with "}
	case 'y':
		cands = []string{"yield "}
	case '@', '{', '}':
		return true
	case '#':
		return strings.HasPrefix(t, "#!")
	case '$':
		return strings.HasPrefix(t, "$ ")
	case '>':
		return strings.HasPrefix(t, ">>> ")
	case '.':
		return strings.HasPrefix(t, "...")
	}
	for _, c := range cands {
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
		prompt, fence, url, dunder                                int
	)
	fs = addShape(fs, shapeBias, 0)
	lineStart := true
	var last, prev byte
	lastVisible := byte(0)
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
			switch lastVisible {
			case ':':
				colonEnd++
			case ';':
				semiEnd++
			}
			lastVisible = 0
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
	switch lastVisible {
	case ':':
		colonEnd++
	case ';':
		semiEnd++
	}
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
