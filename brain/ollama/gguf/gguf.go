// Package gguf reads and writes the header of GGUF model files (the format
// Ollama and llama.cpp load): enough to write small models from Go and to
// make a byte-distinct copy of a model file without touching its weights.
//
// A GGUF file is a header (magic, version, key-value metadata, tensor
// descriptions) followed by the tensor data, each tensor aligned to
// general.alignment (32 by default) relative to the start of the data
// section, which is itself aligned. Tensor offsets are relative to that
// start, so a header of another length keeps every offset valid.
package gguf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// Magic opens every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is the data alignment when general.alignment is absent.
const DefaultAlignment = 32

// Value types of the metadata, as the format numbers them.
const (
	typeUint8   uint32 = 0
	typeInt8    uint32 = 1
	typeUint16  uint32 = 2
	typeInt16   uint32 = 3
	typeUint32  uint32 = 4
	typeInt32   uint32 = 5
	typeFloat32 uint32 = 6
	typeBool    uint32 = 7
	typeString  uint32 = 8
	typeArray   uint32 = 9
	typeUint64  uint32 = 10
	typeInt64   uint32 = 11
	typeFloat64 uint32 = 12
)

// Tensor types this package sizes.
const (
	TypeF32 uint32 = 0
	TypeF16 uint32 = 1
)

// Limits that stop a corrupt or hostile header from allocating without
// bound.
const (
	maxStringLen = 64 << 20
	maxArrayLen  = 1 << 26
	maxCount     = 1 << 24
	maxDims      = 8
)

// KV is one metadata entry. Value holds the Go type of its GGUF type:
// uint8, int8, uint16, int16, uint32, int32, float32, bool, string, uint64,
// int64, float64, or a slice of one of them.
type KV struct {
	Key   string
	Value any
}

// TensorInfo describes one tensor. Dims are in GGUF order: the first is
// the fastest-varying (a row's length), so a matrix of r rows of c columns
// is {c, r}. Offset is relative to the data section.
type TensorInfo struct {
	Name   string
	Dims   []uint64
	Type   uint32
	Offset uint64
}

// Header is a GGUF file's header.
type Header struct {
	Version uint32
	KV      []KV
	Tensors []TensorInfo
}

// Get returns the value of key and whether it is present.
func (h *Header) Get(key string) (any, bool) {
	for _, kv := range h.KV {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return nil, false
}

// Set replaces the value of key, or appends it.
func (h *Header) Set(key string, value any) {
	for i := range h.KV {
		if h.KV[i].Key == key {
			h.KV[i].Value = value
			return
		}
	}
	h.KV = append(h.KV, KV{Key: key, Value: value})
}

// Alignment is the data alignment the header declares.
func (h *Header) Alignment() uint64 {
	if v, ok := h.Get("general.alignment"); ok {
		if a, ok := v.(uint32); ok && a > 0 {
			return uint64(a)
		}
	}
	return DefaultAlignment
}

// ReadHeader reads a header from r and returns it with the number of bytes
// it took. The data section starts at that number rounded up to the
// header's alignment.
func ReadHeader(r io.Reader) (*Header, int64, error) {
	cr := &countReader{r: r}
	d := decoder{r: cr}
	var magic [4]byte
	d.read(magic[:])
	if d.err == nil && string(magic[:]) != Magic {
		return nil, cr.n, errors.New("not a GGUF file (bad magic)")
	}
	h := &Header{Version: d.u32()}
	if d.err == nil && (h.Version < 2 || h.Version > 3) {
		return nil, cr.n, fmt.Errorf("GGUF version %d not supported", h.Version)
	}
	nTensors, nKV := d.u64(), d.u64()
	if d.err == nil && (nTensors > maxCount || nKV > maxCount) {
		return nil, cr.n, fmt.Errorf("GGUF header claims %d tensors and %d keys", nTensors, nKV)
	}
	for i := uint64(0); i < nKV && d.err == nil; i++ {
		key := d.str()
		h.KV = append(h.KV, KV{Key: key, Value: d.value(d.u32())})
	}
	for i := uint64(0); i < nTensors && d.err == nil; i++ {
		t := TensorInfo{Name: d.str()}
		n := d.u32()
		if d.err == nil && n > maxDims {
			d.err = fmt.Errorf("tensor %q has %d dimensions", t.Name, n)
		}
		for j := uint32(0); j < n && d.err == nil; j++ {
			t.Dims = append(t.Dims, d.u64())
		}
		t.Type, t.Offset = d.u32(), d.u64()
		h.Tensors = append(h.Tensors, t)
	}
	if d.err != nil {
		return nil, cr.n, fmt.Errorf("read GGUF header: %w", d.err)
	}
	return h, cr.n, nil
}

// WriteHeader writes h and the padding up to the data section, and
// returns the number of bytes written.
func WriteHeader(w io.Writer, h *Header) (int64, error) {
	cw := &countWriter{w: w}
	bw := bufio.NewWriter(cw)
	e := encoder{w: bw}
	e.bytes([]byte(Magic))
	version := h.Version
	if version == 0 {
		version = 3
	}
	e.u32(version)
	e.u64(uint64(len(h.Tensors)))
	e.u64(uint64(len(h.KV)))
	for _, kv := range h.KV {
		e.str(kv.Key)
		e.value(kv.Key, kv.Value)
	}
	for _, t := range h.Tensors {
		e.str(t.Name)
		e.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			e.u64(d)
		}
		e.u32(t.Type)
		e.u64(t.Offset)
	}
	if e.err == nil {
		e.err = bw.Flush()
	}
	if e.err == nil {
		_, e.err = cw.Write(make([]byte, padding(uint64(cw.n), h.Alignment())))
	}
	return cw.n, e.err
}

// Tensor is a tensor to write: its description (Offset is computed) and
// its bytes, Size(info) of them.
type Tensor struct {
	TensorInfo
	Data []byte
}

// Size is the byte size of a tensor of type F32 or F16; other types are
// an error.
func Size(t TensorInfo) (uint64, error) {
	var elem uint64
	switch t.Type {
	case TypeF32:
		elem = 4
	case TypeF16:
		elem = 2
	default:
		return 0, fmt.Errorf("tensor %q: type %d not supported", t.Name, t.Type)
	}
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n * elem, nil
}

// Write writes a whole GGUF file: kv, the tensor descriptions with their
// offsets, and the tensors, aligned. The file ends with the last tensor's
// last byte, as Ollama expects.
func Write(w io.Writer, kv []KV, tensors []Tensor) error {
	h := &Header{Version: 3, KV: kv}
	align := h.Alignment()
	var off uint64
	for _, t := range tensors {
		size, err := Size(t.TensorInfo)
		if err != nil {
			return err
		}
		if uint64(len(t.Data)) != size {
			return fmt.Errorf("tensor %q: %d bytes of data for %d", t.Name, len(t.Data), size)
		}
		info := t.TensorInfo
		info.Dims = slices.Clone(info.Dims)
		off += padding(off, align)
		info.Offset = off
		off += size
		h.Tensors = append(h.Tensors, info)
	}
	if _, err := WriteHeader(w, h); err != nil {
		return fmt.Errorf("write GGUF header: %w", err)
	}
	var pos uint64
	for i, t := range tensors {
		if p := h.Tensors[i].Offset - pos; p > 0 {
			if _, err := w.Write(make([]byte, p)); err != nil {
				return fmt.Errorf("write GGUF padding: %w", err)
			}
		}
		if _, err := w.Write(t.Data); err != nil {
			return fmt.Errorf("write tensor %q: %w", t.Name, err)
		}
		pos = h.Tensors[i].Offset + uint64(len(t.Data))
	}
	return nil
}

// Rewrite copies the GGUF file src to dst with edit applied to its
// header; the tensor data is copied byte for byte. It returns the number
// of bytes written.
func Rewrite(dst io.Writer, src io.Reader, edit func(*Header) error) (int64, error) {
	br := bufio.NewReaderSize(src, 1<<20)
	h, n, err := ReadHeader(br)
	if err != nil {
		return 0, err
	}
	// Skip the source's padding up to its data section.
	if _, err := io.CopyN(io.Discard, br, int64(padding(uint64(n), h.Alignment()))); err != nil {
		return 0, fmt.Errorf("read GGUF padding: %w", err)
	}
	align := h.Alignment()
	if err := edit(h); err != nil {
		return 0, err
	}
	if h.Alignment() != align {
		return 0, errors.New("rewrite GGUF: general.alignment cannot change")
	}
	written, err := WriteHeader(dst, h)
	if err != nil {
		return written, fmt.Errorf("write GGUF header: %w", err)
	}
	m, err := io.Copy(dst, br)
	written += m
	if err != nil {
		return written, fmt.Errorf("copy tensor data: %w", err)
	}
	return written, nil
}

func padding(off, align uint64) uint64 {
	return (align - off%align) % align
}

// F16 converts f to IEEE half precision (round to nearest even is not
// needed for generated weights: truncation towards zero suffices).
func F16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case exp >= 0x1f:
		return sign | 0x7c00 // too large: infinity
	case exp <= 0:
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		return sign | uint16(mant>>uint32(14-exp))
	default:
		return sign | uint16(exp)<<10 | uint16(mant>>13)
	}
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
