package router

import "math"

// packed is one training feature in four bytes: its slot in the low
// slotBits bits and its value, on a log scale, in the others. Training
// keeps every example's features for all its passes, and at ten thousand
// examples of a few hundred features each that is most of the router's
// memory at start-up: half of what the eight-byte feature would take.
type packed uint32

const (
	slotBits  = 18
	valLevels = 1 << (32 - slotBits)
	// valSteps is the levels per doubling: a value is kept to within
	// 0.04 %, from 2^valMinExp to 2^(valLevels/valSteps+valMinExp).
	valSteps  = 1024
	valMinExp = -8
	// arenaBlock is how many features one block of an arena holds.
	arenaBlock = 1 << 20
)

// Every slot fits in slotBits (a compile error otherwise).
const _ = uint(1<<slotBits - numSlots)

// valTable maps a packed value's level to its value; read-only.
var valTable = func() *[valLevels]float32 {
	var t [valLevels]float32
	for e := range t {
		t[e] = float32(math.Exp2(float64(e)/valSteps + valMinExp))
	}
	return &t
}()

// pack encodes f; a value outside the range is clamped to it (feature
// values are positive: 1/sqrt(n) for a group of n, counts, 1).
func pack(f feature) packed {
	e := 0
	if f.val > 0 {
		e = int(math.Round((math.Log2(float64(f.val)) - valMinExp) * valSteps))
		e = min(max(e, 0), valLevels-1)
	}
	return packed(uint32(e)<<slotBits | f.idx)
}

func (p packed) idx() uint32  { return uint32(p) & (1<<slotBits - 1) }
func (p packed) val() float32 { return valTable[p>>slotBits] }

// unpack appends the features of ps to dst.
func unpack(dst []feature, ps []packed) []feature {
	for _, p := range ps {
		dst = append(dst, feature{idx: p.idx(), val: p.val()})
	}
	return dst
}

// arena holds the packed features of many samples in large blocks, so that
// a sample costs its features and no slack.
type arena struct{ block []packed }

// add packs fs into the arena and returns them.
func (a *arena) add(fs []feature) []packed {
	if cap(a.block)-len(a.block) < len(fs) {
		a.block = make([]packed, 0, max(arenaBlock, len(fs)))
	}
	start := len(a.block)
	for _, f := range fs {
		a.block = append(a.block, pack(f))
	}
	return a.block[start:len(a.block):len(a.block)]
}
