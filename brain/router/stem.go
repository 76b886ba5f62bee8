package router

import "strings"

// Turkish stems: a word loses its inflectional endings ("sözlükte" ->
// sozluk, "sıralanması" -> sirala.., "listesini" -> list..) so that the
// many forms of one word share a feature. The stripping is greedy and
// crude (it is not a morphological analyser): the stem need not be a
// word, only the same for a word's forms.

// minStem is the shortest stem left after stripping; stemRounds the most
// endings stripped from one word.
const (
	minStem    = 3
	stemRounds = 4
)

// stemSuffixes are the endings stripped, folded like the text (ı -> i,
// ü -> u, ş -> s...): case and possessive endings, plural, copula, verb
// tenses, infinitives and the passive, longest first within an ending.
const stemSuffixList = `
lerinden larindan lerinde larinda lerine larina lerini larini leri lari
ler lar
sinden sundan sinde sunda sine suna sini sunu sindeki sundaki si su
inden undan inde unda ine una ini unu nin nun in un
imiz umuz iniz unuz miz muz niz nuz
deki daki teki taki
den dan ten tan de da te ta
yle yla ile ye ya yi yu ne na ni nu
misin musun misiniz musunuz mi mu
dir dur tir tur
iyor uyor yor
acak ecek yacak yecek
abilir ebilir yabilir yebilir
madan meden arak erek yarak yerek ince unca
mak mek masi mesi masini mesini ma me
dik duk tik tuk dig dug tig tug
mis mus di du ti tu
sin sun yan yen an en
nir nur ir ur ar er
il ul
e a i u m n
`

// suffixesByLast indexes the endings by their last letter (all ASCII), so
// a word tries only the endings its last letter allows.
var suffixesByLast = func() [128][][]rune {
	var t [128][][]rune
	for _, s := range strings.Fields(stemSuffixList) {
		rs := []rune(s)
		last := rs[len(rs)-1]
		t[last] = append(t[last], rs)
	}
	// Longest first: a word loses its longest ending in one round.
	for i := range t {
		l := t[i]
		for a := 1; a < len(l); a++ {
			for b := a; b > 0 && len(l[b]) > len(l[b-1]); b-- {
				l[b], l[b-1] = l[b-1], l[b]
			}
		}
	}
	return t
}()

// stemEnd returns the end of the stem of word rs[start:end] (folded
// runes): end itself when nothing is stripped.
func stemEnd(rs []rune, start, end int) int {
	for range stemRounds {
		last := rs[end-1]
		if last >= 128 {
			return end
		}
		stripped := false
		for _, suf := range suffixesByLast[last] {
			n := len(suf)
			if end-start-n < minStem {
				continue
			}
			if hasSuffix(rs[start:end], suf) {
				end -= n
				stripped = true
				break
			}
		}
		if !stripped {
			return end
		}
	}
	return end
}

func hasSuffix(w, suf []rune) bool {
	off := len(w) - len(suf)
	for i, r := range suf {
		if w[off+i] != r {
			return false
		}
	}
	return true
}
