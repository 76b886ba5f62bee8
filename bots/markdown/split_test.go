package markdown

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func bytesLen(s string) int { return len(s) }

func TestSplit(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		limit   int
		measure func(string) int
		want    []string
	}{
		{name: "empty", text: "", limit: 10, want: nil},
		{name: "fits", text: "merhaba dünya", limit: 13, want: []string{"merhaba dünya"}},
		{
			name:  "paragraph before line",
			text:  "aaaa aaaa\n\nbbbb\nbbbb cccc",
			limit: 20,
			want:  []string{"aaaa aaaa\n\n", "bbbb\nbbbb cccc"},
		},
		{
			name:  "line before word",
			text:  "aaaa aaaa\nbbbb bbbb cccc",
			limit: 16,
			want:  []string{"aaaa aaaa\n", "bbbb bbbb cccc"},
		},
		{
			name:  "last paragraph in the upper half wins",
			text:  "aa\n\nbbbbbbbbb\n\ncc\ndd",
			limit: 17,
			want:  []string{"aa\n\nbbbbbbbbb\n\n", "cc\ndd"},
		},
		{
			name:  "a line in the upper half beats a paragraph in the lower half",
			text:  "a\n\nbbbbbbbb\ncccccccc",
			limit: 16,
			want:  []string{"a\n\nbbbbbbbb\n", "cccccccc"},
		},
		{
			name:  "words",
			text:  "bir iki üç dört beş altı",
			limit: 10,
			want:  []string{"bir iki üç", " dört beş ", "altı"},
		},
		{
			name:  "word longer than the limit is cut",
			text:  "ab " + strings.Repeat("x", 12),
			limit: 5,
			want:  []string{"ab ", "xxxxx", "xxxxx", "xx"},
		},
		{
			name:    "never inside a rune",
			text:    "ğğğğğ",
			limit:   5,
			measure: bytesLen,
			want:    []string{"ğğ", "ğğ", "ğ"},
		},
		{
			name:    "UTF-16 counts an emoji as two",
			text:    "😀😀😀",
			limit:   4,
			measure: UTF16,
			want:    []string{"😀😀", "😀"},
		},
		{
			name:  "code block closed and reopened with its language",
			text:  "Kod:\n```go\nline1\nline2\nline3\n```\nbitti",
			limit: 24,
			want: []string{
				"Kod:\n```go\nline1\n```",
				"```go\nline2\nline3\n```\n",
				"bitti",
			},
		},
		{
			name:  "four backticks reopen with four",
			text:  "````md\n```\nx\n```\n````",
			limit: 16,
			want:  []string{"````md\n```\n````", "````md\nx\n````", "````md\n```\n````"},
		},
		{
			name:  "unclosed block at the end is closed",
			text:  "```py\nprint(1)",
			limit: 100,
			want:  []string{"```py\nprint(1)\n```"},
		},
		{
			name:  "inline triple backticks are no fence",
			text:  "```a``` b\nccc",
			limit: 10,
			want:  []string{"```a``` b\n", "ccc"},
		},
		{
			name:  "no cut that turns mid-line backticks into a fence",
			text:  "aa ```x\nbb",
			limit: 8,
			want:  []string{"aa ```x\n", "bb"},
		},
		{
			name:  "long code line cut inside the block",
			text:  "```\nabc def ghi jkl\n```",
			limit: 16,
			want:  []string{"```\nabc def \n```", "```\nghi jkl\n```"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Split(tt.text, tt.limit, tt.measure)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Split(%q, %d)\n got %q\nwant %q", tt.text, tt.limit, got, tt.want)
			}
			checkSplit(t, tt.text, tt.limit, tt.measure)
		})
	}
}

func TestFences(t *testing.T) {
	tests := []struct {
		text     string
		count    int
		marker   string
		openWant bool
	}{
		{text: "", count: 0},
		{text: "```go\nx\n```", count: 2},
		{text: "  ```python extra\nx", count: 1, marker: "```python", openWant: true},
		{text: "```\n```go\n", count: 1, marker: "```", openWant: true},
		{text: "````\n```\n````", count: 2},
		{text: "`` not\n```a```", count: 0},
		{text: "```" + strings.Repeat("x", 40) + "\n", count: 1, marker: "```", openWant: true},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := Fences(tt.text); got != tt.count {
				t.Errorf("Fences(%q) = %d, want %d", tt.text, got, tt.count)
			}
			marker, open := OpenFence(tt.text)
			if marker != tt.marker || open != tt.openWant {
				t.Errorf("OpenFence(%q) = %q, %v; want %q, %v", tt.text, marker, open, tt.marker, tt.openWant)
			}
		})
	}
}

func TestUTF16(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"", 0}, {"abc", 3}, {"ğüş", 3}, {"😀", 2}, {"a😀b", 4}, {"\xff", 1},
	}
	for _, tt := range tests {
		if got := UTF16(tt.text); got != tt.want {
			t.Errorf("UTF16(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

// TestSplitKeepsWords checks on random prose that no word shorter than
// half the limit is ever cut.
func TestSplitKeepsWords(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var b strings.Builder
		for range r.IntN(400) {
			b.WriteString(strings.Repeat("ç", 1+r.IntN(12)))
			b.WriteString([]string{" ", " ", "\n", "\n\n", "  "}[r.IntN(5)])
		}
		text, limit := b.String(), 30+r.IntN(100)
		end := 0
		for _, p := range split(text, limit, Runes) {
			end += len(p.body)
			if strings.HasSuffix(text[:end], "ç") && strings.HasPrefix(text[end:], "ç") {
				t.Fatalf("case %d: part %q ends inside a word (limit %d)", i, p.body, limit)
			}
		}
		checkSplit(t, text, limit, Runes)
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("merhaba\n\n```go\nfunc main() {}\n```\nbitti", uint16(10), uint8(0))
	f.Add(strings.Repeat("```python\nprint('x')\n", 30), uint16(0), uint8(1))
	f.Add(strings.Repeat("ğ😀 a\n", 500), uint16(100), uint8(2))
	f.Add("\xff\xfe```\n\xe2\x82 x", uint16(3), uint8(0))
	f.Add("````md\n```\nx\n```\n````\n"+strings.Repeat("y ", 300), uint16(7), uint8(1))
	f.Fuzz(func(t *testing.T, text string, limit uint16, kind uint8) {
		measure := []func(string) int{Runes, UTF16, bytesLen}[int(kind)%3]
		checkSplit(t, text, 64+int(limit)%2000, measure)
	})
}

// checkSplit asserts Split's contract on one input.
func checkSplit(t *testing.T, text string, limit int, measure func(string) int) {
	t.Helper()
	if measure == nil {
		measure = Runes
	}
	pieces := split(text, limit, measure)
	if text == "" && len(pieces) != 0 {
		t.Fatalf("empty text gave %d parts", len(pieces))
	}
	var body strings.Builder
	var prev piece
	for i, p := range pieces {
		part := p.String()
		if p.body == "" {
			t.Fatalf("part %d has an empty body", i)
		}
		if n := measure(part); n > limit && utf8.RuneCountInString(p.body) > 1 {
			t.Fatalf("part %d measures %d > limit %d: %q", i, n, limit, part)
		}
		if _, open := OpenFence(part); open {
			t.Fatalf("part %d ends inside a code block: %q", i, part)
		}
		if Fences(part)%2 != 0 {
			t.Fatalf("part %d has %d fence lines: %q", i, Fences(part), part)
		}
		wantOpen := ""
		if i > 0 && prev.next.open {
			wantOpen = prev.next.reopen() + "\n"
		}
		if p.open != wantOpen {
			t.Fatalf("part %d opens with %q, want %q", i, p.open, wantOpen)
		}
		if p.close != "" && !strings.HasSuffix(part, "\n"+strings.TrimPrefix(p.close, "\n")) {
			t.Fatalf("part %d closing fence is not on its own line: %q", i, part)
		}
		// The cut is at a rune boundary of the whole text.
		end := body.Len() + len(p.body)
		if end < len(text) && !decodeBoundary(text, end) {
			t.Fatalf("part %d ends inside a rune at byte %d", i, end)
		}
		body.WriteString(p.body)
		prev = p
	}
	if got := body.String(); got != text {
		t.Fatalf("parts concatenate to %q, want %q", got, text)
	}
	if got := Split(text, limit, measure); len(got) != len(pieces) {
		t.Fatalf("Split gave %d parts, split %d", len(got), len(pieces))
	}
}

// decodeBoundary reports whether decoding text from its start stops at c.
func decodeBoundary(text string, c int) bool {
	for i := 0; i < len(text); {
		if i == c {
			return true
		}
		if i > c {
			return false
		}
		_, n := utf8.DecodeRuneInString(text[i:])
		i += n
	}
	return c == len(text)
}

func BenchmarkSplit(b *testing.B) {
	var sb strings.Builder
	for sb.Len() < 100_000 {
		sb.WriteString("Bu bir paragraf; içinde **kalın** ve `kod` var. Türkçe karakterler: ğüşiöç.\n\n")
		sb.WriteString("```python\nfor i in range(10):\n    print(i)  # yorum satırı biraz uzun olsun\n```\n\n")
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if parts := Split(text, 2000, Runes); len(parts) < 2 {
			b.Fatalf("got %d parts", len(parts))
		}
	}
}

func BenchmarkSplitOneLongLine(b *testing.B) {
	text := strings.Repeat("x", 200_000)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		Split(text, 4096, UTF16)
	}
}

// TestSplitHostileInputs runs the contract on large degenerate inputs that
// once made the search quadratic.
func TestSplitHostileInputs(t *testing.T) {
	const n = 1 << 15
	inputs := map[string]string{
		"spaces":                 strings.Repeat(" ", n),
		"fence lines":            strings.Repeat("```\n", n/4),
		"one long fence line":    "```" + strings.Repeat("a", n),
		"backticks":              strings.Repeat("`", n),
		"newlines":               strings.Repeat("\n", n),
		"continuation bytes":     strings.Repeat("\x80", n),
		"mid-line backtick runs": strings.Repeat("a ```b\n", n/7),
	}
	for name, text := range inputs {
		t.Run(name, func(t *testing.T) {
			for _, limit := range []int{64, 2000} {
				checkSplit(t, text, limit, Runes)
			}
		})
	}
}
