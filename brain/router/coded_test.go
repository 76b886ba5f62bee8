package router

import (
	"math"
	"slices"
	"testing"
)

func TestCodedRoundTrip(t *testing.T) {
	many := make([]feature, 0, 600)
	for i := range 600 { // more distinct values than a byte counts
		many = append(many, feature{idx: uint32(denseSlots + 200*i), val: float32(i) + 0.5})
	}
	tests := []struct {
		name string
		fs   []feature
	}{
		{"none", nil},
		{"first dense slot", []feature{{idx: 0, val: 1}}},
		{"last hashed slot", []feature{{idx: numSlots - 1, val: 1}}},
		{"both ends", []feature{{idx: 0, val: 2}, {idx: numSlots - 1, val: 0.25}}},
		{"a long text's n-grams", []feature{
			{idx: 3, val: 1}, {idx: 4242, val: float32(1 / math.Sqrt(6000))},
			{idx: 4243, val: float32(2 / math.Sqrt(6000))}, {idx: 99999, val: 13.7},
			{idx: 130000, val: float32(1 / math.Sqrt(6000))},
		}},
		{"600 distinct values", many},
	}
	var a arena
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := a.coded(a.add(tt.fs))
			got := byIdx(c.decode(nil))
			if !slices.Equal(got, tt.fs) && !(len(got) == 0 && len(tt.fs) == 0) {
				t.Errorf("decode(add(fs)) = %v, want %v", got, tt.fs)
			}
		})
	}
}

// TestCodedSize checks that coding saves what it is for: an example's
// features take under two bytes each, its values included (about 1.8 in
// a feature space of 2^18 hashed slots).
func TestCodedSize(t *testing.T) {
	experts := loadShipped(t)
	fz := &featurizer{lex: newLexicon(experts), k: len(experts)}
	sc := &scratch{}
	var a arena
	var feats, bytes int
	for _, ex := range experts[0].Examples[:2000] {
		fs := merge(fz.extract(ex, sc))
		c := a.coded(a.add(fs))
		feats += len(fs)
		bytes += len(c.buf)
		if got := byIdx(c.decode(nil)); !slices.Equal(got, fs) {
			t.Fatalf("%q: decode(add(fs)) differs from fs", ex)
		}
	}
	if got := float64(bytes) / float64(feats); got > 1.9 {
		t.Errorf("%.2f bytes a feature, want at most 1.9", got)
	} else {
		t.Logf("%d features in %d bytes: %.2f a feature", feats, bytes, got)
	}
}

func TestArenaKeepsSamplesApart(t *testing.T) {
	var a arena
	first := a.coded(a.add([]feature{{idx: 1, val: 1}, {idx: 2, val: 1}}))
	second := a.coded(a.add([]feature{{idx: 3, val: 0.5}}))
	if cap(first.buf) != len(first.buf) {
		t.Errorf("first sample's slices have room after them: an append would overwrite the next sample")
	}
	got := append(byIdx(first.decode(nil)), second.decode(nil)...)
	want := []feature{{idx: 1, val: 1}, {idx: 2, val: 1}, {idx: 3, val: 0.5}}
	if !slices.Equal(got, want) {
		t.Errorf("decoded %v, want %v", got, want)
	}
	big := make([]feature, byteBlock/2+1) // gaps of one byte
	for i := range big {
		big[i] = feature{idx: uint32(i), val: 1}
	}
	if got := len(a.coded(a.add(big)).decode(nil)); got != len(big) {
		t.Errorf("a sample bigger than a block: %d features decoded, want %d", got, len(big))
	}
}

// byIdx sorts decoded features by slot, the order they were coded in.
func byIdx(fs []feature) []feature {
	slices.SortFunc(fs, func(a, b feature) int { return int(a.idx) - int(b.idx) })
	return fs
}

// TestDecodeDrop checks that training's fused dropout keeps what decode
// and the dropout rule keep, scaled.
func TestDecodeDrop(t *testing.T) {
	var a arena
	fs := make([]feature, 0, 500)
	for i := range 500 {
		fs = append(fs, feature{idx: uint32(denseSlots + 97*i), val: float32(i%7) + 0.25})
	}
	c := a.coded(a.add(fs))
	const salt = 0x1234567
	var want []feature
	for _, f := range c.decode(nil) {
		if float64(mix64(salt^uint64(f.idx))>>11)/(1<<53) >= dropout {
			want = append(want, feature{idx: f.idx, val: f.val * 2})
		}
	}
	got := c.decodeDrop(nil, salt, dropCut, 2)
	if !slices.Equal(got, want) {
		t.Errorf("decodeDrop kept %d features, decode and the rule %d (or values differ)", len(got), len(want))
	}
	if len(want) < 300 || len(want) > 400 {
		t.Errorf("kept %d of 500 features, want about %d", len(want), int(500*(1-dropout)))
	}
}
