package router

// coded is one training sample's features in about two bytes each,
// instead of the eight of a feature. A sample's values are few (a group's
// 1/sqrt(n), its multiples where an n-gram repeats, keyword counts, shape
// values: at most 34 among the shipped examples), so the features are
// stored by value: for each value in vals, the number of its features and
// then their slots, each as a varint of the gap from the previous slot
// (the slots of a value ascend; a gap is a few hundred, two bytes). The
// examples' features are most of the router's memory at start-up: the 8.1
// million features of the 22,914 shipped examples take 16 MB, not 65.
type coded struct {
	buf  []byte
	vals []float32
}

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
	// maxVarint is the most bytes a varint of a uint32 takes.
	maxVarint = 5
)

// add codes fs, sorted by idx with no idx twice (merge's output), into
// the arena.
func (a *arena) add(fs []feature) coded {
	a.table = a.table[:0]
	for _, f := range fs {
		if indexOf(a.table, f.val) < 0 {
			a.table = append(a.table, f.val)
		}
	}
	if need := maxVarint * (len(fs) + len(a.table)); cap(a.bytes)-len(a.bytes) < need {
		a.bytes = make([]byte, 0, max(byteBlock, need))
	}
	if cap(a.vals)-len(a.vals) < len(a.table) {
		a.vals = make([]float32, 0, max(valBlock, len(a.table)))
	}
	vstart := len(a.vals)
	a.vals = append(a.vals, a.table...)
	start := len(a.bytes)
	for _, v := range a.table {
		n := 0
		for _, f := range fs {
			if f.val == v {
				n++
			}
		}
		a.bytes = appendVarint(a.bytes, uint32(n))
		prev := uint32(0)
		for _, f := range fs {
			if f.val == v {
				a.bytes = appendVarint(a.bytes, f.idx-prev)
				prev = f.idx
			}
		}
	}
	return coded{
		buf:  a.bytes[start:len(a.bytes):len(a.bytes)],
		vals: a.vals[vstart:len(a.vals):len(a.vals)],
	}
}

func appendVarint(b []byte, x uint32) []byte {
	for x >= 0x80 {
		b = append(b, byte(x)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}

// varint reads the varint at b[i:] and returns it and the index after it.
func varint(b []byte, i int) (uint32, int) {
	x := uint32(b[i])
	if x < 0x80 {
		return x, i + 1
	}
	x &= 0x7f
	for s := 7; ; s += 7 {
		i++
		c := uint32(b[i])
		x |= (c & 0x7f) << s
		if c < 0x80 {
			return x, i + 1
		}
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

// decode appends the features of c to dst, grouped by value (the order
// of a sum, not of its terms, is what training needs).
func (c coded) decode(dst []feature) []feature { return c.decodeDrop(dst, 0, 0, 1) }

// decodeDrop appends the features of c to dst, grouped by value, except
// those whose 53-bit hash under salt is under cut (training's dropout;
// none when cut is 0), and multiplies the values it keeps by scale.
//
// Like fit, which calls it for every sample in every pass, it is left out
// of the race detector's instrumentation: it reads only c and writes only dst.
//
//go:norace
func (c coded) decodeDrop(dst []feature, salt, cut uint64, scale float32) []feature {
	i := 0
	for _, v := range c.vals {
		v *= scale
		var n, gap uint32
		n, i = varint(c.buf, i)
		idx := uint32(0)
		for range n {
			gap, i = varint(c.buf, i)
			idx += gap
			if mix64(salt^uint64(idx))>>11 >= cut {
				dst = append(dst, feature{idx: idx, val: v})
			}
		}
	}
	return dst
}
