package router

import (
	"math"
	"testing"
)

func TestBF16(t *testing.T) {
	tests := []struct {
		name string
		in   float32
		want float32
	}{
		{"zero", 0, 0},
		{"one", 1, 1},
		{"minus a half", -0.5, -0.5},
		{"exact in 8 bits", 1.5078125, 1.5078125}, // 1 + 65/128
		{"rounds down", math.Float32frombits(0x3f807fff), 1.0},          // just under half a step
		{"rounds up", math.Float32frombits(0x3f808001), 1.0078125},      // just over half a step
		{"tie to even, down", math.Float32frombits(0x3f808000), 1.0},    // 1 + half a step: 1 is even
		{"tie to even, up", math.Float32frombits(0x3f818000), 1.015625}, // 1.0078125 is odd
		{"small weight", 1e-6, math.Float32frombits(0x35860000)},
		{"infinity", float32(math.Inf(1)), float32(math.Inf(1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := toBF16(tt.in).float(); got != tt.want {
				t.Errorf("toBF16(%g) = %g, want %g", tt.in, got, tt.want)
			}
		})
	}
}

// TestBF16Error checks the bound the model's comment gives: a weight's
// relative error is at most 2^-8 (half a step of 8 significant bits).
func TestBF16Error(t *testing.T) {
	w := make([]float32, 10000)
	for i := range w {
		w[i] = float32(math.Sin(float64(i)) * math.Pow(10, float64(i%7-5)))
	}
	for i, q := range quantize(w) {
		if w[i] == 0 {
			continue
		}
		if rel := math.Abs(float64(q.float()-w[i]) / float64(w[i])); rel > 1.0/256 {
			t.Fatalf("weight %g became %g: relative error %g, want <= 2^-8", w[i], q.float(), rel)
		}
	}
}
