package router

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// coded is one training sample's features in about 1.7 bytes each,
// instead of the eight of a feature. A sample's values are few (a group's
// 1/sqrt(n), its multiples where an n-gram repeats, keyword counts, shape
// values: at most 38 among the shipped examples), so the features are
// stored by value. buf holds the number of values (a uvarint), the values
// (float32, little-endian), and then a bit stream: for each value, the
// number of its features and then their slots as gaps from the previous
// slot (the slots of a value ascend), Rice-coded: a gap g is g>>k in
// unary and its k low bits, with k chosen from the number of gaps so that
// k low bits hold about the mean gap. The examples' features are most of
// the router's memory at start-up: the 14.1 million features of the
// 37,647 shipped examples take 23.8 MB, 1.7 of them values (as features
// they would take 113).
type coded struct {
	buf []byte
}

// ref is where one sample's coded bytes lie in its arena: 12 bytes,
// where a slice header would take 24.
type ref struct {
	off, n uint32
	blk    uint16
}

// arena holds the coded features of many samples in large blocks, so that
// a sample costs its bytes and no slack.
type arena struct {
	blocks [][]byte
	table  []float32 // scratch: the distinct values of the sample in hand
}

const (
	byteBlock = 1 << 20
	// maxBytes is the most bytes one coded number takes (escape zeros
	// and 32 bits).
	maxBytes = (escape + 32 + 7) / 8
)

// add codes fs, sorted by idx with no idx twice (merge's output), into
// the arena and returns where it lies.
func (a *arena) add(fs []feature) ref {
	a.table = a.table[:0]
	for _, f := range fs {
		if indexOf(a.table, f.val) < 0 {
			a.table = append(a.table, f.val)
		}
	}
	need := binary.MaxVarintLen32 + 4*len(a.table) + maxBytes*(len(fs)+len(a.table))
	if len(a.blocks) == 0 || cap(a.blocks[len(a.blocks)-1])-len(a.blocks[len(a.blocks)-1]) < need {
		if len(a.blocks) == math.MaxUint16 {
			panic("router: training examples over 64 GB")
		}
		a.blocks = append(a.blocks, make([]byte, 0, max(byteBlock, need)))
	}
	blk := len(a.blocks) - 1
	b := a.blocks[blk]
	start := len(b)
	b = binary.AppendUvarint(b, uint64(len(a.table)))
	for _, v := range a.table {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	w := bitWriter{b: b}
	for _, v := range a.table {
		n := 0
		for _, f := range fs {
			if f.val == v {
				n++
			}
		}
		w.rice(uint32(n), countK)
		k := gapK(n)
		prev := uint32(0)
		for _, f := range fs {
			if f.val == v {
				w.rice(f.idx-prev, k)
				prev = f.idx
			}
		}
	}
	b = w.flush()
	a.blocks[blk] = b
	return ref{off: uint32(start), n: uint32(len(b) - start), blk: uint16(blk)}
}

// coded returns the coded features at r.
func (a *arena) coded(r ref) coded {
	end := r.off + r.n
	return coded{buf: a.blocks[r.blk][r.off:end:end]}
}

// countK is the Rice parameter of a value's feature count.
const countK = 4

// escape is the longest unary part: a quotient this big or bigger is
// written as escape zeros and then the number in 32 plain bits.
const escape = 24

// gapK is the Rice parameter of the gaps between n ascending slots: about
// log2 of their mean gap (on the shipped examples, a little better than
// the textbook log2 of the mean times ln 2).
func gapK(n int) uint {
	mean := numSlots / (n + 1)
	if mean < 2 {
		return 0
	}
	return uint(bits.Len(uint(mean)) - 1)
}

// bitWriter appends bits to b, least significant first.
type bitWriter struct {
	b   []byte
	acc uint64
	n   uint
}

//go:norace
func (w *bitWriter) put(x uint64, n uint) {
	w.acc |= x << w.n
	w.n += n
	for w.n >= 8 {
		w.b = append(w.b, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

// rice writes x with parameter k: x>>k zeros and a one, then x's k low
// bits; or, for a large x>>k, escape zeros and x in 32 bits.
//
//go:norace
func (w *bitWriter) rice(x uint32, k uint) {
	q := x >> k
	if q >= escape {
		w.put(0, escape)
		w.put(uint64(x), 32)
		return
	}
	w.put(1<<q, uint(q)+1)
	w.put(uint64(x)&(1<<k-1), k)
}

// flush writes the last bits, padded with zeros to a byte.
func (w *bitWriter) flush() []byte {
	if w.n > 0 {
		w.b = append(w.b, byte(w.acc))
	}
	w.acc, w.n = 0, 0
	return w.b
}

// bitReader reads what bitWriter wrote. Its methods, like decodeDrop
// that calls them, are left out of the race detector's instrumentation:
// they touch only the reader and the bytes it reads.
type bitReader struct {
	b   []byte
	pos int
	acc uint64
	n   uint
}

// refill tops acc up to at least 56 bits while b lasts.
//
//go:norace
func (r *bitReader) refill() {
	if r.pos+8 <= len(r.b) {
		r.acc |= binary.LittleEndian.Uint64(r.b[r.pos:]) << r.n
		step := (63 - r.n) >> 3
		r.pos += int(step)
		r.n += step << 3
		return
	}
	for r.n <= 56 && r.pos < len(r.b) {
		r.acc |= uint64(r.b[r.pos]) << r.n
		r.pos++
		r.n += 8
	}
}

// take returns the next k bits (k <= 32).
//
//go:norace
func (r *bitReader) take(k uint) uint32 {
	if r.n < k {
		r.refill()
	}
	x := uint32(r.acc & (1<<k - 1))
	r.acc >>= k
	r.n -= k
	return x
}

// rice reads a number bitWriter.rice wrote with parameter k.
//
//go:norace
func (r *bitReader) rice(k uint) uint32 {
	if r.n < escape+1+32 {
		r.refill()
	}
	q := uint(bits.TrailingZeros64(r.acc))
	if q >= escape {
		r.acc >>= escape
		r.n -= escape
		return r.take(32)
	}
	r.acc >>= q + 1
	r.n -= q + 1
	return uint32(q)<<k | r.take(k)
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
	nv, head := binary.Uvarint(c.buf)
	vals := c.buf[head : head+4*int(nv)]
	r := bitReader{b: c.buf[head+4*int(nv):]}
	for i := 0; i < len(vals); i += 4 {
		v := math.Float32frombits(binary.LittleEndian.Uint32(vals[i:])) * scale
		n := int(r.rice(countK))
		k := gapK(n)
		idx := uint32(0)
		for range n {
			idx += r.rice(k)
			if mix64(salt^uint64(idx))>>11 >= cut {
				dst = append(dst, feature{idx: idx, val: v})
			}
		}
	}
	return dst
}
