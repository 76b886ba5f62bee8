package router

import (
	"strings"

	"github.com/evo-tr/evo/brain"
)

// maxKeywordExperts is how many experts can have keywords: a token's
// matches are a bit mask.
const maxKeywordExperts = 64

// phrase is a keyword of several words.
type phrase struct {
	words  [][]rune // folded; the first is matched by the index
	prefix bool     // the last word may go on
	mask   uint64
}

// lexicon finds the experts' keywords in normalized text. Its words are
// folded like the text, so "Sözlük", "sozluk" and "SÖZLÜK" are one word.
type lexicon struct {
	exact    map[uint32]uint64 // hash of a whole word -> experts
	prefix   map[uint32]uint64 // hash of a word's start -> experts
	filter   []uint64          // bit set over prefix hashes, to skip most lookups
	minStart int               // shortest prefix keyword
	phrases  map[uint32][]phrase
}

const filterBits = 1 << 14

// newLexicon folds the keywords of every expert (by index in experts).
func newLexicon(experts []brain.Expert) *lexicon {
	lx := &lexicon{
		exact:    map[uint32]uint64{},
		prefix:   map[uint32]uint64{},
		filter:   make([]uint64, filterBits/64),
		minStart: 1 << 30,
		phrases:  map[uint32][]phrase{},
	}
	for c, x := range experts {
		if c >= maxKeywordExperts {
			break
		}
		bit := uint64(1) << c
		for _, kw := range x.Keywords {
			lx.add(kw, bit)
		}
	}
	return lx
}

func (lx *lexicon) add(kw string, bit uint64) {
	kw = strings.TrimSpace(kw)
	pre := strings.HasSuffix(kw, "*")
	kw = strings.TrimSuffix(kw, "*")
	words := splitWords(normalize(nil, kw))
	switch {
	case len(words) == 0:
		return
	case len(words) == 1 && pre:
		h := hashRunes(words[0])
		lx.prefix[h] |= bit
		lx.filter[(h%filterBits)/64] |= 1 << (h % 64)
		lx.minStart = min(lx.minStart, len(words[0]))
	case len(words) == 1:
		lx.exact[hashRunes(words[0])] |= bit
	default:
		h := hashRunes(words[0])
		lx.phrases[h] = append(lx.phrases[h], phrase{words: words, prefix: pre, mask: bit})
	}
}

// splitWords returns the words of normalized runes.
func splitWords(rs []rune) [][]rune {
	var out [][]rune
	for i := 0; i < len(rs); {
		if !isWordRune(rs[i]) {
			i++
			continue
		}
		j := wordEnd(rs, i)
		out = append(out, rs[i:j:j])
		i = j
	}
	return out
}

func hashRunes(rs []rune) uint32 {
	h := uint32(fnvOffset)
	for _, r := range rs {
		h = (h ^ uint32(r)) * fnvPrime
	}
	return h
}

// span is one word of a normalized text: runes [start, end).
type span struct{ start, end int32 }

// count adds to counts[c] the number of keyword matches of expert c in the
// words of rs.
func (lx *lexicon) count(rs []rune, words []span, counts []int) {
	for wi, w := range words {
		var mask uint64
		h := uint32(fnvOffset)
		for i := w.start; i < w.end; i++ {
			h = (h ^ uint32(rs[i])) * fnvPrime
			if int(i-w.start+1) < lx.minStart {
				continue
			}
			if lx.filter[(h%filterBits)/64]&(1<<(h%64)) != 0 {
				mask |= lx.prefix[h]
			}
		}
		mask |= lx.exact[h]
		if ps, ok := lx.phrases[h]; ok {
			for _, p := range ps {
				if p.matches(rs, words[wi:]) {
					mask |= p.mask
				}
			}
		}
		for c := 0; mask != 0 && c < len(counts); c++ {
			if mask&(1<<c) != 0 {
				counts[c]++
				mask &^= 1 << c
			}
		}
	}
}

// matches reports whether the phrase starts at words[0] (whose first word
// the caller matched by hash).
func (p phrase) matches(rs []rune, words []span) bool {
	if len(words) < len(p.words) {
		return false
	}
	for k, want := range p.words {
		w := words[k]
		got := rs[w.start:w.end]
		last := k == len(p.words)-1
		if len(got) < len(want) || (!(last && p.prefix) && len(got) != len(want)) {
			return false
		}
		for i, r := range want {
			if got[i] != r {
				return false
			}
		}
	}
	return true
}
