package dataset

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"sort"
)

// item is one unique conversation: its output line and the hash of it.
type item struct {
	sum  [sha256.Size]byte
	line []byte
}

func newItem(line []byte) item { return item{sum: sha256.Sum256(line), line: line} }

// point is where the item's hash falls in [0, 1).
func (it item) point() float64 {
	return float64(binary.BigEndian.Uint64(it.sum[:8])>>11) / (1 << 53)
}

// split assigns each item by its hash: a point under test goes to test,
// under test+valid to valid, the rest to train; each split is in hash
// order. With three or more items each split with a fraction above zero
// gets at least one (the items nearest its border move), and train always
// gets one when there is any.
func split(items []item, valid, test float64) (train, val, tst [][]byte) {
	sort.Slice(items, func(i, j int) bool { return bytes.Compare(items[i].sum[:], items[j].sum[:]) < 0 })
	n := len(items)
	a := sort.Search(n, func(i int) bool { return items[i].point() >= test })
	b := sort.Search(n, func(i int) bool { return items[i].point() >= test+valid })
	minTest, minValid, minTrain := 0, 0, min(n, 1)
	if n >= 3 {
		if test > 0 {
			minTest = 1
		}
		if valid > 0 {
			minValid = 1
		}
	}
	a = max(minTest, min(a, n-minValid-minTrain))
	b = max(a+minValid, min(b, n-minTrain))
	lines := func(its []item) [][]byte {
		out := make([][]byte, len(its))
		for i, it := range its {
			out[i] = it.line
		}
		return out
	}
	return lines(items[b:]), lines(items[a:b]), lines(items[:a])
}
