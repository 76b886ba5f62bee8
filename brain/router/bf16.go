package router

import "math"

// bf16 is a bfloat16: the high half of a float32 (its sign, its 8
// exponent bits and 7 of its 23 fraction bits). A trained model keeps its
// weights so, at half the memory: rounded to nearest, a weight's
// relative error is at most 2^-8, far below what moves a decision, and
// the sum of a text's few hundred weights averages the errors out.
// Training itself runs in float32.
type bf16 uint16

// toBF16 rounds f to the nearest bfloat16, ties to even. Weights are
// finite; an infinity stays one.
func toBF16(f float32) bf16 {
	b := math.Float32bits(f)
	b += 0x7fff + (b>>16)&1
	return bf16(b >> 16)
}

// float returns h as a float32, exactly.
func (h bf16) float() float32 { return math.Float32frombits(uint32(h) << 16) }

// quantize returns w rounded to bfloat16s.
func quantize(w []float32) []bf16 {
	q := make([]bf16, len(w))
	for i, f := range w {
		q[i] = toBF16(f)
	}
	return q
}
