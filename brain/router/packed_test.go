package router

import (
	"math"
	"testing"
)

func TestPackRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		f    feature
	}{
		{"first dense slot", feature{idx: 0, val: 1}},
		{"last hashed slot", feature{idx: numSlots - 1, val: 1}},
		{"a long text's n-gram", feature{idx: 4242, val: float32(1 / math.Sqrt(6000))}},
		{"a merged duplicate", feature{idx: 99999, val: 13.7}},
		{"one word of two", feature{idx: 70000, val: float32(1 / math.Sqrt(2))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pack(tt.f)
			if got := p.idx(); got != tt.f.idx {
				t.Errorf("idx = %d, want %d", got, tt.f.idx)
			}
			if got, want := p.val(), tt.f.val; math.Abs(float64(got-want)) > 0.0004*float64(want) {
				t.Errorf("val = %v, want %v within 0.04 %%", got, want)
			}
		})
	}
	// Out of range values are clamped, not wrapped into the slot bits.
	for _, v := range []float32{0, 1e-9, 1e9} {
		if got := pack(feature{idx: 7, val: v}).idx(); got != 7 {
			t.Errorf("pack(val %v).idx() = %d, want 7", v, got)
		}
	}
}

func TestArenaKeepsSamplesApart(t *testing.T) {
	var a arena
	first := a.add([]feature{{idx: 1, val: 1}, {idx: 2, val: 1}})
	second := a.add([]feature{{idx: 3, val: 1}})
	if cap(first) != 2 {
		t.Errorf("cap(first) = %d, want 2: an append to it would overwrite the next sample", cap(first))
	}
	got := unpack(nil, append(first, second...))
	want := []uint32{1, 2, 3}
	for i, f := range got {
		if f.idx != want[i] {
			t.Errorf("feature %d: idx %d, want %d", i, f.idx, want[i])
		}
	}
	big := make([]feature, arenaBlock+1)
	if got := len(a.add(big)); got != arenaBlock+1 {
		t.Errorf("len(add(%d features)) = %d", arenaBlock+1, got)
	}
}
