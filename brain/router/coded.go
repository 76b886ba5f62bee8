package router

// coded is one training sample's features in three bytes each, instead
// of the eight of a feature: the slot in the low slotBits bits and, in
// the six above them, the index of the value in vals. A sample's values
// are few (a group's 1/sqrt(n), its multiples where an n-gram repeats,
// keyword counts, shape values: at most 34 among the shipped examples), so
// vals is short; a value past the 63rd is marked overflow and taken from
// vals in turn. The examples' features are most of the router's memory at
// start-up: 5.3 million features of 17,477 examples take 16 MB, not 43.
type coded struct {
	buf  []byte
	vals []float32
}

const (
	slotBits = 18
	overflow = 1<<(24-slotBits) - 1 // the value index that says "next in vals"
)

// Every slot fits in slotBits (a compile error otherwise).
const _ = uint(1<<slotBits - numSlots)

// arena holds the coded features of many samples in large blocks, so that
// a sample costs its bytes and no slack.
type arena struct {
	bytes []byte
	vals  []float32
	table []float32 // scratch: the distinct values of the sample in hand
}

const (
	byteBlock = 1 << 22
	valBlock  = 1 << 16
)

// add codes fs, sorted by idx with no idx twice (merge's output), into
// the arena.
func (a *arena) add(fs []feature) coded {
	a.table = a.table[:0]
	for _, f := range fs {
		if i := indexOf(a.table, f.val); i < 0 || i >= overflow {
			a.table = append(a.table, f.val)
		}
	}
	if need := 3 * len(fs); cap(a.bytes)-len(a.bytes) < need {
		a.bytes = make([]byte, 0, max(byteBlock, need))
	}
	if cap(a.vals)-len(a.vals) < len(a.table) {
		a.vals = make([]float32, 0, max(valBlock, len(a.table)))
	}
	vstart := len(a.vals)
	a.vals = append(a.vals, a.table...)
	start := len(a.bytes)
	for _, f := range fs {
		vi := indexOf(a.table, f.val)
		if vi >= overflow {
			vi = overflow
		}
		x := f.idx | uint32(vi)<<slotBits
		a.bytes = append(a.bytes, byte(x), byte(x>>8), byte(x>>16))
	}
	return coded{
		buf:  a.bytes[start:len(a.bytes):len(a.bytes)],
		vals: a.vals[vstart:len(a.vals):len(a.vals)],
	}
}

func indexOf(vals []float32, v float32) int {
	for i, x := range vals {
		if x == v {
			return i
		}
	}
	return -1
}

// decode appends the features of c to dst.
func (c coded) decode(dst []feature) []feature {
	next := overflow // the overflow values follow the first 63 in vals
	for i := 0; i+2 < len(c.buf); i += 3 {
		x := uint32(c.buf[i]) | uint32(c.buf[i+1])<<8 | uint32(c.buf[i+2])<<16
		f := feature{idx: x & (1<<slotBits - 1)}
		if vi := x >> slotBits; vi < overflow {
			f.val = c.vals[vi]
		} else {
			f.val = c.vals[next]
			next++
		}
		dst = append(dst, f)
	}
	return dst
}
