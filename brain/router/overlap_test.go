package router

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTextKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Python'da liste nasıl sıralanır?", "python da liste nasıl sıralanır"},
		{"  İSTANBUL   ILIK  ", "istanbul ılık"},
		{"selam!!!", "selam"},
		{"def f(x):\n\treturn x", "def f x return x"},
		{"sınıf", "sınıf"},
		{"...", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := TextKey(tt.in); got != tt.want {
				t.Errorf("TextKey(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// evalSets reads every evaluation set in the shipped registry.
func evalSets(tb testing.TB) map[string][]Labeled {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(filepath.Dir(evalFile), "*.jsonl"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no evaluation sets (%v)", err)
	}
	sets := map[string][]Labeled{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		set, err := ReadLabeled(f)
		f.Close()
		if err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		sets[filepath.Base(p)] = set
	}
	return sets
}

// TestEvalNotInTraining: an evaluation line that is also a training
// example (up to case, whitespace and punctuation) measures memory, not
// routing. Such a line is removed from the evaluation set, never copied
// the other way.
func TestEvalNotInTraining(t *testing.T) {
	var examples []string
	for _, x := range loadShipped(t) {
		examples = append(examples, x.Examples...)
	}
	for name, set := range evalSets(t) {
		t.Run(name, func(t *testing.T) {
			for _, l := range Overlap(examples, set) {
				t.Errorf("line %d is a training example: %q", l.Line, l.Text)
			}
		})
	}
}
