package gguf_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	ogguf "github.com/ollama/ollama/fs/gguf"

	"github.com/evo-tr/evo/brain/ollama/gguf"
)

func sample(t *testing.T) ([]gguf.KV, []gguf.Tensor, []byte) {
	t.Helper()
	kv := []gguf.KV{
		{Key: "general.architecture", Value: "llama"},
		{Key: "general.name", Value: "örnek model"},
		{Key: "llama.block_count", Value: uint32(2)},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: float32(1e-5)},
		{Key: "tokenizer.ggml.add_bos_token", Value: false},
		{Key: "tokenizer.ggml.tokens", Value: []string{"a", "b", "<|im_end|>"}},
		{Key: "tokenizer.ggml.token_type", Value: []int32{1, 1, 3}},
		{Key: "x.u64", Value: uint64(1 << 40)},
		{Key: "x.f64", Value: 2.5},
		{Key: "x.i8", Value: int8(-3)},
	}
	// Sizes that are not multiples of the alignment, so padding matters.
	vec := make([]byte, 4*3)
	mat := make([]byte, 2*5*3)
	for i := range vec {
		vec[i] = byte(i + 1)
	}
	for i := range mat {
		mat[i] = byte(100 + i)
	}
	ts := []gguf.Tensor{
		{TensorInfo: gguf.TensorInfo{Name: "norm.weight", Dims: []uint64{3}, Type: gguf.TypeF32}, Data: vec},
		{TensorInfo: gguf.TensorInfo{Name: "proj.weight", Dims: []uint64{3, 5}, Type: gguf.TypeF16}, Data: mat},
	}
	var buf bytes.Buffer
	if err := gguf.Write(&buf, kv, ts); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return kv, ts, buf.Bytes()
}

func TestWriteReadRoundTrip(t *testing.T) {
	kv, ts, file := sample(t)
	h, n, err := gguf.ReadHeader(bytes.NewReader(file))
	if err != nil {
		t.Fatalf("ReadHeader: %v", err)
	}
	if !reflect.DeepEqual(h.KV, kv) {
		t.Errorf("KV = %#v, want %#v", h.KV, kv)
	}
	if len(h.Tensors) != len(ts) {
		t.Fatalf("%d tensors, want %d", len(h.Tensors), len(ts))
	}
	data := file[n+int64((32-n%32)%32):]
	for i, ti := range h.Tensors {
		if ti.Offset%32 != 0 {
			t.Errorf("%s at offset %d, want aligned to 32", ti.Name, ti.Offset)
		}
		got := data[ti.Offset : ti.Offset+uint64(len(ts[i].Data))]
		if !bytes.Equal(got, ts[i].Data) {
			t.Errorf("%s data = %v, want %v", ti.Name, got, ts[i].Data)
		}
	}
	last := h.Tensors[len(h.Tensors)-1]
	if want := int64(len(file)) - (n + int64((32-n%32)%32)); int64(last.Offset)+int64(len(ts[len(ts)-1].Data)) != want {
		t.Errorf("file does not end with the last tensor (Ollama requires it)")
	}
}

// TestOllamaReadsWhatWeWrite cross-checks with Ollama's own GGUF reader.
func TestOllamaReadsWhatWeWrite(t *testing.T) {
	_, ts, file := sample(t)
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := ogguf.Open(path)
	if err != nil {
		t.Fatalf("ollama gguf.Open: %v", err)
	}
	defer f.Close()
	if got := f.KeyValue("general.name").String(); got != "örnek model" {
		t.Errorf("general.name = %q", got)
	}
	if got := f.KeyValue("tokenizer.ggml.tokens").Strings(); !reflect.DeepEqual(got, []string{"a", "b", "<|im_end|>"}) {
		t.Errorf("tokens = %q", got)
	}
	for _, want := range ts {
		_, r, err := f.TensorReader(want.Name)
		if err != nil {
			t.Fatalf("TensorReader(%s): %v", want.Name, err)
		}
		var got bytes.Buffer
		if _, err := got.ReadFrom(r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Data) {
			t.Errorf("%s: ollama reads %v, want %v", want.Name, got.Bytes(), want.Data)
		}
	}
}

func TestRewriteChangesHeaderKeepsData(t *testing.T) {
	_, ts, file := sample(t)
	tests := []struct {
		name string
		edit func(h *gguf.Header) error
	}{
		{"longer name", func(h *gguf.Header) error { h.Set("general.name", "örnek model [evo resident: tr_chat]"); return nil }},
		{"new key", func(h *gguf.Header) error { h.Set("evo.expert", "python_coder"); return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			n, err := gguf.Rewrite(&out, bytes.NewReader(file), tt.edit)
			if err != nil {
				t.Fatalf("Rewrite: %v", err)
			}
			if n != int64(out.Len()) {
				t.Errorf("Rewrite reported %d bytes, wrote %d", n, out.Len())
			}
			if bytes.Equal(out.Bytes(), file) {
				t.Fatal("copy is byte-identical, want a distinct file")
			}
			h, hn, err := gguf.ReadHeader(bytes.NewReader(out.Bytes()))
			if err != nil {
				t.Fatalf("read copy: %v", err)
			}
			data := out.Bytes()[hn+(32-hn%32)%32:]
			for i, ti := range h.Tensors {
				if got := data[ti.Offset : ti.Offset+uint64(len(ts[i].Data))]; !bytes.Equal(got, ts[i].Data) {
					t.Errorf("%s changed by the rewrite", ti.Name)
				}
			}
		})
	}
}

func TestReadHeaderRejectsBadInput(t *testing.T) {
	_, _, file := sample(t)
	huge := append([]byte("GGUF"), 3, 0, 0, 0)
	huge = binary.LittleEndian.AppendUint64(huge, math.MaxUint64)
	huge = binary.LittleEndian.AppendUint64(huge, 1)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "EOF"},
		{"not gguf", []byte("PK\x03\x04 zip file"), "bad magic"},
		{"truncated", file[:40], "unexpected EOF"},
		{"absurd counts", huge, "claims"},
		{"version 9", append([]byte("GGUF"), 9, 0, 0, 0), "version 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := gguf.ReadHeader(bytes.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestWriteRejectsWrongSizes(t *testing.T) {
	err := gguf.Write(&bytes.Buffer{}, nil, []gguf.Tensor{
		{TensorInfo: gguf.TensorInfo{Name: "w", Dims: []uint64{4}, Type: gguf.TypeF32}, Data: make([]byte, 3)},
	})
	if err == nil || !strings.Contains(err.Error(), "3 bytes of data for 16") {
		t.Errorf("err = %v, want a size mismatch", err)
	}
}

func TestF16(t *testing.T) {
	tests := []struct {
		in   float32
		want uint16
	}{
		{0, 0x0000}, {1, 0x3c00}, {-2, 0xc000}, {0.5, 0x3800}, {65504, 0x7bff}, {1e6, 0x7c00},
		{float32(math.Ldexp(1, -24)), 0x0001}, {1e-9, 0x0000},
	}
	for _, tt := range tests {
		if got := gguf.F16(tt.in); got != tt.want {
			t.Errorf("F16(%g) = %#04x, want %#04x", tt.in, got, tt.want)
		}
	}
}
