package router

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/evo-tr/evo/brain"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"İSTANBUL", " istanbul "},
		{"IŞIK ılık", " isik ilik "},
		{"Çağrı Öğüt Şule Ünal", " cagri ogut sule unal "},
		{"Python3  ve\n\tPython 2.7", " python0 ve python 0.0 "},
		{"", " "},
		{"  ", " "},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := string(normalize(nil, tt.in)); got != tt.want {
				t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"short", "merhaba"},
		{"ascii", strings.Repeat("a", 10000)},
		{"two-byte runes", strings.Repeat("ş", 5000)},
		{"three-byte runes", strings.Repeat("€", 5000)},
		{"mixed", strings.Repeat("aşk€", 2000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clip(tt.in)
			if len(tt.in) <= headBytes+tailBytes {
				if got != tt.in {
					t.Errorf("short text changed")
				}
				return
			}
			if len(got) > headBytes+tailBytes+1 {
				t.Errorf("len = %d, want at most %d", len(got), headBytes+tailBytes+1)
			}
			if !utf8.ValidString(got) {
				t.Errorf("clip cut a rune")
			}
			if !strings.HasSuffix(tt.in, got[strings.LastIndexByte(got, '\n')+1:]) {
				t.Errorf("clip lost the tail")
			}
		})
	}
}

func TestLexicon(t *testing.T) {
	lx := newLexicon([]brain.Expert{
		{Keywords: []string{"sözlük*", "def", "binary search", "e-posta*", "py*", "c++", "c#"}},
		{Keywords: []string{"şiir*", "ne yer", "def"}},
	})
	tests := []struct {
		text string
		want [2]int
	}{
		{"SÖZLÜĞE ekle", [2]int{0, 0}}, // ğ is not a k: a prefix must match as written
		{"sozlukte ara", [2]int{1, 0}},
		{"Sözlükler", [2]int{1, 0}},
		{"def f", [2]int{1, 1}},
		{"default", [2]int{0, 0}},
		{"Binary Search nedir", [2]int{1, 0}},
		{"binary tree search", [2]int{0, 0}},
		{"e-postası", [2]int{1, 0}},
		{"eposta", [2]int{0, 0}},
		{"pyinstaller ve pygame", [2]int{2, 0}},
		{"Python'da", [2]int{1, 0}},
		{"şiirler ve ŞİİR", [2]int{0, 2}},
		{"piton ne yer?", [2]int{0, 1}},
		{"ne yemeli", [2]int{0, 0}},
		{"C++ mı C# mı", [2]int{2, 0}},
		{"c vitamini", [2]int{0, 0}}, // c++ and c# are words of their own
		{"c + + ve c #", [2]int{0, 0}},
		{"", [2]int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			rs := normalize(nil, tt.text)
			var words []span
			for i := 0; i < len(rs); {
				if !isWordRune(rs[i]) {
					i++
					continue
				}
				j := wordEnd(rs, i)
				words = append(words, span{int32(i), int32(j)})
				i = j
			}
			got := make([]int, 2)
			lx.count(rs, words, got)
			if [2]int(got) != tt.want {
				t.Errorf("count(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestShapeFeatures(t *testing.T) {
	has := func(fs []feature, stat int) bool {
		for _, f := range fs {
			if int(f.idx)/4 == stat && f.idx < denseSlots {
				return true
			}
		}
		return false
	}
	tests := []struct {
		name string
		text string
		stat int
		want bool
	}{
		{"traceback", "Traceback (most recent call last):\n  File \"a.py\", line 1", shapeTraceback, true},
		{"error name", "KeyError: 'x'", shapeErrorName, true},
		{"no error name in prose", "Error oldu galiba", shapeErrorName, false},
		{"call", "print(x)", shapeCall, true},
		{"no call in prose", "bugün (belki) gelirim", shapeCall, false},
		{"indented block", "def f():\n    return 1\n    pass", shapeIndented, true},
		{"colon line end", "for i in x:\n  pass", shapeColonEnd, true},
		{"keyword line", "import os", shapeKeywordLine, true},
		{"sql statement", "UPDATE musteriler SET indirim = 10\nWHERE sehir = 'İzmir';", shapeKeywordLine, true},
		{"sql clause line", "SELECT ad\nFROM ogrenciler", shapeKeywordLine, true},
		{"no keyword line in prose", "update me on the set list\nwhere are you", shapeKeywordLine, false},
		{"repl prompt", ">>> 1 + 1", shapePrompt, true},
		{"snake case", "my_var = 1", shapeSnake, true},
		{"camel case", "getElementById", shapeCamel, true},
		{"operator", "if a == b", shapeOperator, true},
		{"dotted call", "os.path.join(a)", shapeDotMember, true},
		{"question", "nasılsın?", shapeQuestion, true},
		{"url", "https://example.com", shapeURL, true},
		{"dunder", "__init__", shapeDunder, true},
		{"sentences", "It rained all day. We stayed in.", shapeSentence, true},
		{"no sentence in a dotted call", "os.path.join(a)", shapeSentence, false},
		{"prose line", "The meeting is over.\nSee you soon!", shapeProseLine, true},
		{"no prose line in code", "def f():\n    return 1", shapeProseLine, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := has(appendShape(nil, tt.text), tt.stat); got != tt.want {
				t.Errorf("shape %d of %q = %v, want %v", tt.stat, tt.text, got, tt.want)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	r := fakeRouter{
		"a1": {Expert: "a", Model: "a"},
		"a2": {Expert: "b", Model: "b"},
		"a3": {Expert: "base", Model: "m", Fallback: true, Candidate: "a", Confidence: 0.5},
		"b1": {Expert: "b", Model: "b"},
		"b2": {Expert: "b", Model: "b"},
		"n1": {Expert: "base", Model: "m", Fallback: true},
		"n2": {Expert: "a", Model: "a"},
	}
	set := []Labeled{
		{Line: 1, Text: "a1", Label: "a"}, {Line: 2, Text: "a2", Label: "a"}, {Line: 3, Text: "a3", Label: "a"},
		{Line: 4, Text: "b1", Label: "b"}, {Line: 5, Text: "b2", Label: "b"},
		{Line: 6, Text: "n1", Label: "base"}, {Line: 7, Text: "n2", Label: "base"},
	}
	rep := Evaluate(context.Background(), r, []string{"a", "b"}, set)
	if rep.Total != 7 || rep.Exact != 4 || rep.Wrong != 2 || rep.Fallback != 1 {
		t.Errorf("total/exact/wrong/fallback = %d/%d/%d/%d, want 7/4/2/1", rep.Total, rep.Exact, rep.Wrong, rep.Fallback)
	}
	wantNames := []string{"a", "b", "base"}
	if strings.Join(rep.Names, ",") != strings.Join(wantNames, ",") {
		t.Errorf("names = %v, want %v", rep.Names, wantNames)
	}
	wantConf := [][]int{{1, 1, 1}, {0, 2, 0}, {1, 0, 1}}
	for i := range wantConf {
		for j := range wantConf[i] {
			if rep.Confusion[i][j] != wantConf[i][j] {
				t.Errorf("confusion = %v, want %v", rep.Confusion, wantConf)
			}
		}
	}
	wantScores := []ExpertScore{
		{Name: "a", Precision: 0.5, Recall: 1.0 / 3, Support: 3},
		{Name: "b", Precision: 2.0 / 3, Recall: 1, Support: 2},
	}
	if len(rep.Scores) != len(wantScores) {
		t.Fatalf("scores = %+v, want %+v", rep.Scores, wantScores)
	}
	for i, w := range wantScores {
		if rep.Scores[i] != w {
			t.Errorf("score %d = %+v, want %+v", i, rep.Scores[i], w)
		}
	}
	var missLines []int
	for _, m := range rep.Misses {
		missLines = append(missLines, m.Line)
	}
	if got, want := missLines, []int{2, 3, 7}; len(got) != len(want) || got[0] != 2 || got[1] != 3 || got[2] != 7 {
		t.Errorf("missed lines = %v, want %v", got, want)
	}
}

type fakeRouter map[string]brain.Decision

func (f fakeRouter) Route(_ context.Context, text string) brain.Decision { return f[text] }

func TestReadLabeled(t *testing.T) {
	tests := []struct {
		name, in string
		want     int
		wantErr  string
	}{
		{"two lines and a blank", "{\"text\":\"a\",\"label\":\"x\"}\n\n{\"text\":\"b\",\"label\":\"y\",\"id\":3}\n", 2, ""},
		{"malformed", "{\"text\":\"a\",\"label\":\"x\"}\n{oops\n", 0, "line 2"},
		{"no label", "{\"text\":\"a\"}\n", 0, `line 1: no "label"`},
		{"empty", "\n\n", 0, "no labelled lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadLabeled(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Errorf("%d lines, want %d", len(got), tt.want)
			}
			if got[1].Line != 3 {
				t.Errorf("second line numbered %d, want 3", got[1].Line)
			}
		})
	}
}
