package dataset

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math"
	"testing"
)

// items makes n distinct conversations' lines.
func items(n int) []item {
	out := make([]item, n)
	for i := range out {
		out[i] = newItem([]byte(fmt.Sprintf(`{"messages":[{"role":"user","content":"soru %d"},{"role":"assistant","content":"cevap"}]}`, i)))
	}
	return out
}

func TestSplitFractions(t *testing.T) {
	tests := []struct {
		n                        int
		valid, test              float64
		wantTrain, wantV, wantTe int // -1: by hash (about the fraction for large n)
	}{
		{n: 0, valid: 0.1, test: 0.1},
		{n: 1, valid: 0.1, test: 0.1, wantTrain: 1},
		{n: 2, valid: 0.1, test: 0.1, wantTrain: -1, wantV: -1, wantTe: -1}, // by hash; train keeps one
		{n: 3, valid: 0.1, test: 0.1, wantTrain: 1, wantV: 1, wantTe: 1},
		{n: 5, valid: 0.1, test: 0.1, wantTrain: 3, wantV: 1, wantTe: 1},
		{n: 3, valid: 0.1, test: 0, wantTrain: 2, wantV: 1},
		{n: 3, valid: 0, test: 0, wantTrain: 3},
		{n: 4, valid: 0.45, test: 0.45, wantTrain: -1, wantV: -1, wantTe: -1},
		{n: 1000, valid: 0.1, test: 0.1, wantTrain: -1, wantV: -1, wantTe: -1},
		{n: 2000, valid: 0.2, test: 0.05, wantTrain: -1, wantV: -1, wantTe: -1},
		{n: 1000, valid: 0, test: 0, wantTrain: 1000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%v/%v", tt.n, tt.valid, tt.test), func(t *testing.T) {
			train, valid, test := split(items(tt.n), tt.valid, tt.test)
			if got := len(train) + len(valid) + len(test); got != tt.n {
				t.Fatalf("%d lines out, want %d", got, tt.n)
			}
			if tt.n > 0 && len(train) == 0 {
				t.Errorf("train is empty")
			}
			if tt.n >= 3 && (tt.valid > 0 && len(valid) == 0 || tt.test > 0 && len(test) == 0) {
				t.Errorf("valid %d, test %d: want at least one each", len(valid), len(test))
			}
			check := func(name string, got, want int, frac float64) {
				t.Helper()
				if want >= 0 && got != want {
					t.Errorf("%s = %d, want %d", name, got, want)
				}
				if want < 0 && tt.n >= 1000 {
					if share := float64(got) / float64(tt.n); math.Abs(share-frac) > 0.03 {
						t.Errorf("%s share = %.3f, want about %.2f", name, share, frac)
					}
				}
			}
			check("train", len(train), tt.wantTrain, 1-tt.valid-tt.test)
			check("valid", len(valid), tt.wantV, tt.valid)
			check("test", len(test), tt.wantTe, tt.test)
			for _, part := range [][][]byte{train, valid, test} {
				for i := 1; i < len(part); i++ {
					a, b := sha256.Sum256(part[i-1]), sha256.Sum256(part[i])
					if bytes.Compare(a[:], b[:]) >= 0 {
						t.Fatalf("split not in hash order at %d", i)
					}
				}
			}
		})
	}
}

// A conversation keeps its split when more are added: later nights do not
// move yesterday's held-out questions into training.
func TestSplitStableAsDataGrows(t *testing.T) {
	where := func(n int) map[string]string {
		train, valid, test := split(items(n), 0.1, 0.1)
		m := map[string]string{}
		for name, part := range map[string][][]byte{"train": train, "valid": valid, "test": test} {
			for _, l := range part {
				m[string(l)] = name
			}
		}
		return m
	}
	small, big := where(500), where(3000)
	for line, split := range small {
		if big[line] != split {
			t.Errorf("%s moved from %s to %s", line, split, big[line])
		}
	}
}
