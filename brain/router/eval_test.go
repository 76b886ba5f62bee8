package router

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestReliability(t *testing.T) {
	conf := []float64{0.95, 0.95, 0.95, 0.95, 0.55, 0.55, 1, 0.0}
	correct := []bool{true, true, true, false, true, false, true, false}
	bins, ece := reliability(conf, correct)
	if len(bins) != 10 {
		t.Fatalf("%d bins, want 10", len(bins))
	}
	want := map[int]Bin{
		0: {Lo: 0, Hi: 0.1, Count: 1, MeanConfidence: 0, Accuracy: 0},
		5: {Lo: 0.5, Hi: 0.6, Count: 2, MeanConfidence: 0.55, Accuracy: 0.5},
		9: {Lo: 0.9, Hi: 1, Count: 5, MeanConfidence: 0.96, Accuracy: 0.8}, // 1.0 falls in the last bin
	}
	for i, b := range bins {
		w := want[i]
		w.Lo, w.Hi = float64(i)/10, float64(i+1)/10
		if b.Count != w.Count || math.Abs(b.MeanConfidence-w.MeanConfidence) > 1e-9 || math.Abs(b.Accuracy-w.Accuracy) > 1e-9 ||
			math.Abs(b.Lo-w.Lo) > 1e-9 || math.Abs(b.Hi-w.Hi) > 1e-9 {
			t.Errorf("bin %d = %+v, want %+v", i, b, w)
		}
	}
	// |0-0|*1/8 + |0.5-0.55|*2/8 + |0.8-0.96|*5/8
	if wantECE := 0.05*2/8 + 0.16*5/8; math.Abs(ece-wantECE) > 1e-9 {
		t.Errorf("ECE = %v, want %v", ece, wantECE)
	}
}

func TestSweep(t *testing.T) {
	conf := []float64{0.99, 0.99, 0.7, 0.69, 0.6, 0.5}
	correct := []bool{true, false, true, false, true, false}
	rows := sweep(conf, correct)
	if got, want := len(rows), 21; got != want {
		t.Fatalf("%d rows, want %d", got, want)
	}
	tests := []struct {
		threshold              float64
		exact, wrong, fallback int
	}{
		{0.5, 3, 3, 0},
		{0.6, 3, 2, 1},
		{0.68, 2, 2, 2}, // 0.69 routes, 0.6 falls back
		{0.7, 2, 1, 3},  // a confidence equal to the threshold routes, as in Route
		{0.9, 1, 1, 4},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.threshold), func(t *testing.T) {
			i := slices.IndexFunc(rows, func(r ThresholdRow) bool { return r.Threshold == tt.threshold })
			if i < 0 {
				t.Fatalf("no row for %v in %+v", tt.threshold, rows)
			}
			got, want := rows[i], ThresholdRow{Threshold: tt.threshold, Exact: tt.exact, Wrong: tt.wrong, Fallback: tt.fallback}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
	t.Run("off the grid", func(t *testing.T) {
		rows := sweep(conf, correct, 0.65, 0.7) // 0.7 is on the grid already
		if got, want := len(rows), 22; got != want {
			t.Fatalf("%d rows, want %d", got, want)
		}
		i := slices.IndexFunc(rows, func(r ThresholdRow) bool { return r.Threshold == 0.65 })
		if i < 1 || rows[i-1].Threshold != 0.64 || rows[i+1].Threshold != 0.66 {
			t.Fatalf("0.65 not between 0.64 and 0.66: %+v", rows)
		}
		if got, want := rows[i], (ThresholdRow{Threshold: 0.65, Exact: 2, Wrong: 2, Fallback: 2}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
}
