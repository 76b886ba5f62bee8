package router

import (
	"math"
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
	hashBits   = 18
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

// wordEnd returns the end of the word that starts at rs[i]: its word
// runes, and the "++" or "#" of C++, C# and F#, which would otherwise be
// the letter c or f alone.
func wordEnd(rs []rune, i int) int {
	j := i
	for j < len(rs) && isWordRune(rs[j]) {
		j++
	}
	if j-i == 1 && (rs[i] == 'c' || rs[i] == 'f') && j < len(rs) {
		switch {
		case rs[j] == '#':
			j++
		case rs[i] == 'c' && j+1 < len(rs) && rs[j] == '+' && rs[j+1] == '+':
			j += 2
		}
	}
	return j
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || r == '0' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// FNV-1a over runes, with a salt per feature kind.
const (
	fnvOffset    = 2166136261
	fnvPrime     = 16777619
	saltGram     = 0x9e3779b9
	saltWord     = 0x85ebca6b
	saltPair     = 0xc2b2ae35
	saltStem     = 0x27d4eb2f
	saltKw       = 0x165667b1
	saltTrStem   = 0x61c88647
	saltStemPair = 0x7a646e4d
	saltKwCtx    = 0x3c6ef372
	stemLen      = 5
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
	var prev, prevStem uint32
	havePrev := false
	for i := 0; i < len(rs); {
		if !isWordRune(rs[i]) {
			i++
			continue
		}
		h := uint32(fnvOffset)
		w := span{start: int32(i)}
		end := wordEnd(rs, i)
		for ; i < end; i++ {
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
		// The word without its Turkish endings, alone and after the
		// previous word's: "sözlükte", "sözlüğün" and "sözlük" meet.
		st := hashRunes(rs[w.start:stemEnd(rs, int(w.start), int(w.end))])
		sc.feats = append(sc.feats, feature{idx: hashSlot(st ^ saltTrStem)})
		if havePrev {
			sc.feats = append(sc.feats, feature{idx: hashSlot((prevStem*31 + st) ^ saltStemPair)})
		}
		prev, prevStem, havePrev = h, st, true
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
				// The same count weighs less in a long text: one keyword
				// among a hundred words of prose is weak evidence.
				d := ratioSlot(float64(n)/float64(max(len(sc.words), 1)), 0.05, 0.15, 0.35)
				sc.feats = append(sc.feats, feature{idx: hashSlot(saltKw ^ 0x7feb352d ^ uint32(c)*0x9e3779b1 ^ uint32(bucket(n)*4+d)), val: 1})
			}
		}
		// Whether no expert, or several, claimed a keyword.
		sc.feats = append(sc.feats, feature{idx: hashSlot(saltKw ^ 0x5bd1e995 ^ uint32(min(experts, 2))), val: 1})
		// Each word's stem again, tagged with the experts whose keywords
		// the text holds: a word can weigh otherwise beside a keyword
		// ("python" beside "yılan", "Go" beside "oyun") than alone.
		if experts > 0 {
			var mask uint32
			for c, n := range counts {
				if n > 0 && c < 32 {
					mask |= 1 << c
				}
			}
			start = len(sc.feats)
			for _, w := range sc.words {
				st := hashRunes(rs[w.start:stemEnd(rs, int(w.start), int(w.end))])
				sc.feats = append(sc.feats, feature{idx: hashSlot((st*0x9e3779b1 + mask) ^ saltKwCtx)})
			}
			setGroup(sc.feats[start:], 1)
		}
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
