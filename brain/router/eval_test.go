package router

import (
	"math"
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
