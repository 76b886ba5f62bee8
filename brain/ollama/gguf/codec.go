package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// decoder reads little-endian GGUF values; the first error sticks.
type decoder struct {
	r   io.Reader
	err error
	buf [8]byte
}

func (d *decoder) read(p []byte) {
	if d.err != nil {
		return
	}
	if _, err := io.ReadFull(d.r, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
	}
}

func (d *decoder) u8() uint8   { d.read(d.buf[:1]); return d.buf[0] }
func (d *decoder) u16() uint16 { d.read(d.buf[:2]); return binary.LittleEndian.Uint16(d.buf[:2]) }
func (d *decoder) u32() uint32 { d.read(d.buf[:4]); return binary.LittleEndian.Uint32(d.buf[:4]) }
func (d *decoder) u64() uint64 { d.read(d.buf[:8]); return binary.LittleEndian.Uint64(d.buf[:8]) }

func (d *decoder) str() string {
	n := d.u64()
	if d.err != nil {
		return ""
	}
	if n > maxStringLen {
		d.err = fmt.Errorf("string of %d bytes", n)
		return ""
	}
	b := make([]byte, n)
	d.read(b)
	return string(b)
}

// value reads one value of type t (arrays one level deep).
func (d *decoder) value(t uint32) any {
	if d.err != nil {
		return nil
	}
	if t == typeArray {
		et, n := d.u32(), d.u64()
		if d.err != nil {
			return nil
		}
		if n > maxArrayLen {
			d.err = fmt.Errorf("array of %d values", n)
			return nil
		}
		return d.array(et, int(n))
	}
	return d.scalar(t)
}

func (d *decoder) scalar(t uint32) any {
	switch t {
	case typeUint8:
		return d.u8()
	case typeInt8:
		return int8(d.u8())
	case typeUint16:
		return d.u16()
	case typeInt16:
		return int16(d.u16())
	case typeUint32:
		return d.u32()
	case typeInt32:
		return int32(d.u32())
	case typeFloat32:
		return math.Float32frombits(d.u32())
	case typeBool:
		return d.u8() != 0
	case typeString:
		return d.str()
	case typeUint64:
		return d.u64()
	case typeInt64:
		return int64(d.u64())
	case typeFloat64:
		return math.Float64frombits(d.u64())
	default:
		d.err = fmt.Errorf("unknown value type %d", t)
		return nil
	}
}

func (d *decoder) array(t uint32, n int) any {
	switch t {
	case typeUint8:
		return readArray(d, n, d.u8)
	case typeInt8:
		return readArray(d, n, func() int8 { return int8(d.u8()) })
	case typeUint16:
		return readArray(d, n, d.u16)
	case typeInt16:
		return readArray(d, n, func() int16 { return int16(d.u16()) })
	case typeUint32:
		return readArray(d, n, d.u32)
	case typeInt32:
		return readArray(d, n, func() int32 { return int32(d.u32()) })
	case typeFloat32:
		return readArray(d, n, func() float32 { return math.Float32frombits(d.u32()) })
	case typeBool:
		return readArray(d, n, func() bool { return d.u8() != 0 })
	case typeString:
		return readArray(d, n, d.str)
	case typeUint64:
		return readArray(d, n, d.u64)
	case typeInt64:
		return readArray(d, n, func() int64 { return int64(d.u64()) })
	case typeFloat64:
		return readArray(d, n, func() float64 { return math.Float64frombits(d.u64()) })
	default:
		d.err = fmt.Errorf("array of value type %d not supported", t)
		return nil
	}
}

func readArray[T any](d *decoder, n int, next func() T) []T {
	out := make([]T, 0, min(n, 1<<16))
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, next())
	}
	return out
}

// encoder writes little-endian GGUF values; the first error sticks.
type encoder struct {
	w   io.Writer
	err error
	buf [8]byte
}

func (e *encoder) bytes(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
}

func (e *encoder) u8(v uint8)   { e.buf[0] = v; e.bytes(e.buf[:1]) }
func (e *encoder) u16(v uint16) { binary.LittleEndian.PutUint16(e.buf[:2], v); e.bytes(e.buf[:2]) }
func (e *encoder) u32(v uint32) { binary.LittleEndian.PutUint32(e.buf[:4], v); e.bytes(e.buf[:4]) }
func (e *encoder) u64(v uint64) { binary.LittleEndian.PutUint64(e.buf[:8], v); e.bytes(e.buf[:8]) }
func (e *encoder) str(s string) { e.u64(uint64(len(s))); e.bytes([]byte(s)) }

func (e *encoder) boolean(v bool) {
	if v {
		e.u8(1)
	} else {
		e.u8(0)
	}
}

// value writes the type tag and the value.
func (e *encoder) value(key string, v any) {
	switch v := v.(type) {
	case uint8:
		e.u32(typeUint8)
		e.u8(v)
	case int8:
		e.u32(typeInt8)
		e.u8(uint8(v))
	case uint16:
		e.u32(typeUint16)
		e.u16(v)
	case int16:
		e.u32(typeInt16)
		e.u16(uint16(v))
	case uint32:
		e.u32(typeUint32)
		e.u32(v)
	case int32:
		e.u32(typeInt32)
		e.u32(uint32(v))
	case float32:
		e.u32(typeFloat32)
		e.u32(math.Float32bits(v))
	case bool:
		e.u32(typeBool)
		e.boolean(v)
	case string:
		e.u32(typeString)
		e.str(v)
	case uint64:
		e.u32(typeUint64)
		e.u64(v)
	case int64:
		e.u32(typeInt64)
		e.u64(uint64(v))
	case float64:
		e.u32(typeFloat64)
		e.u64(math.Float64bits(v))
	case []uint8:
		writeArray(e, typeUint8, v, e.u8)
	case []int8:
		writeArray(e, typeInt8, v, func(x int8) { e.u8(uint8(x)) })
	case []uint16:
		writeArray(e, typeUint16, v, e.u16)
	case []int16:
		writeArray(e, typeInt16, v, func(x int16) { e.u16(uint16(x)) })
	case []uint32:
		writeArray(e, typeUint32, v, e.u32)
	case []int32:
		writeArray(e, typeInt32, v, func(x int32) { e.u32(uint32(x)) })
	case []float32:
		writeArray(e, typeFloat32, v, func(x float32) { e.u32(math.Float32bits(x)) })
	case []bool:
		writeArray(e, typeBool, v, e.boolean)
	case []string:
		writeArray(e, typeString, v, e.str)
	case []uint64:
		writeArray(e, typeUint64, v, e.u64)
	case []int64:
		writeArray(e, typeInt64, v, func(x int64) { e.u64(uint64(x)) })
	case []float64:
		writeArray(e, typeFloat64, v, func(x float64) { e.u64(math.Float64bits(x)) })
	default:
		if e.err == nil {
			e.err = fmt.Errorf("key %q: value of type %T cannot be written", key, v)
		}
	}
}

func writeArray[T any](e *encoder, t uint32, v []T, put func(T)) {
	e.u32(typeArray)
	e.u32(t)
	e.u64(uint64(len(v)))
	for _, x := range v {
		put(x)
	}
}
