package ollamareal

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/evo-tr/evo/brain/ollama/gguf"
)

// The tiny model: a two-block llama with random weights that Ollama v0.6.5
// loads in ~0.3 s and answers in milliseconds. Its answers are random
// words, but which characters it may use is built in: the base writes
// lowercase letters only, an expert (its LoRA adapter, or the adapter fused
// into a full model) capitals and digits only, so a test can tell who
// answered.
const (
	tinyVocab  = 299
	tinyEmbd   = 64
	tinyFFN    = 128
	tinyBlocks = 2
	tinyHeads  = 4
	tinyRank   = 8

	// biasDim is the residual dimension held constant in every token's
	// embedding: its column of output.weight acts as a per-token logit
	// bias.
	biasDim = 0
	// After the output norm, biasDim is about sqrt(tinyEmbd) = 8.
	biasScale = 8.0
)

// ChatMLTemplate is byte for byte one of the ChatML templates Ollama knows
// (template/index.json), so creating a model detects its template and stop
// words.
const ChatMLTemplate = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

// Who may answer with what.
const (
	styleBase   = iota // lowercase letters, space, punctuation
	styleExpert        // capitals, digits, space, punctuation
)

// tokenizer is the GPT-2 style vocabulary of the tiny model.
type tokenizer struct {
	tokens []string
	types  []int32
	merges []string
	// text is each token's text (bytes), specials empty.
	text []string
	eos  int
}

// newTokenizer builds the 256 byte tokens (GPT-2's byte-to-unicode map),
// 40 merged lowercase pairs and three specials: 299 tokens.
func newTokenizer() tokenizer {
	byteRune := gpt2ByteRunes()
	var tk tokenizer
	for b := range 256 {
		tk.tokens = append(tk.tokens, string(byteRune[b]))
		tk.types = append(tk.types, 1)
		tk.text = append(tk.text, string([]byte{byte(b)}))
	}
	pairs := []string{"er", "in", "an", "or", "en", "ar", "at", "on", "es", "le",
		"ir", "al", "ak", "da", "de", "ka", "la", "li", "ma", "me",
		"ne", "ni", "ra", "ri", "sa", "se", "si", "ta", "te", "ti",
		"ya", "yo", "bu", "ku", "mu", "nu", "ol", "ul", "um", "un"}
	for _, p := range pairs {
		tk.tokens = append(tk.tokens, p)
		tk.types = append(tk.types, 1)
		tk.text = append(tk.text, p)
		tk.merges = append(tk.merges, p[:1]+" "+p[1:])
	}
	for _, s := range []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"} {
		tk.tokens = append(tk.tokens, s)
		tk.types = append(tk.types, 3)
		tk.text = append(tk.text, "")
	}
	tk.eos = len(tk.tokens) - 1
	return tk
}

// gpt2ByteRunes is GPT-2's reversible byte-to-unicode map.
func gpt2ByteRunes() [256]rune {
	var out [256]rune
	n := 0
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			out[b] = rune(b)
		} else {
			out[b] = rune(256 + n)
			n++
		}
	}
	return out
}

// allowed reports whether a style may write token text s.
func allowed(style int, s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r == ' ' || r == ',' || r == '.' || r == '!' || r == '?':
		case style == styleBase && r >= 'a' && r <= 'z':
		case style == styleExpert && ((r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')):
		default:
			return false
		}
	}
	return true
}

// biasColumn is output.weight's biasDim column for a style: 0 for allowed
// tokens, strongly negative for the rest. The end token is banned too, so
// every answer runs to num_predict tokens: no answer is ever empty, and
// every answer of a model costs the same.
func biasColumn(tk tokenizer, style int) []float32 {
	col := make([]float32, tinyVocab)
	for i := range col {
		col[i] = -2.5 // logit ≈ -20
		if allowed(style, tk.text[i]) {
			col[i] = 0
		}
	}
	col[' '] = 0.25 // spaces often enough to make words
	return col
}

// TinyModel returns the base model: a llama GGUF with random weights
// (seeded: the same bytes every call).
func TinyModel() []byte { return tinyModel("evo-tiny", styleBase) }

// TinyFused returns an expert packaged as one full model, as a fuse tool
// would write it: the base's weights with the adapter's change of
// output.weight applied (its small attention deltas left out).
func TinyFused() []byte { return tinyModel("evo-tiny-fused", styleExpert) }

func tinyModel(name string, style int) []byte {
	tk := newTokenizer()
	rng := rand.New(rand.NewPCG(1, 2))
	kv := []gguf.KV{
		{Key: "general.architecture", Value: "llama"},
		{Key: "general.type", Value: "model"},
		{Key: "general.name", Value: name},
		{Key: "general.file_type", Value: uint32(1)},
		{Key: "llama.vocab_size", Value: uint32(tinyVocab)},
		{Key: "llama.context_length", Value: uint32(2048)},
		{Key: "llama.embedding_length", Value: uint32(tinyEmbd)},
		{Key: "llama.block_count", Value: uint32(tinyBlocks)},
		{Key: "llama.feed_forward_length", Value: uint32(tinyFFN)},
		{Key: "llama.attention.head_count", Value: uint32(tinyHeads)},
		{Key: "llama.attention.head_count_kv", Value: uint32(tinyHeads)},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: float32(1e-5)},
		{Key: "llama.rope.freq_base", Value: float32(10000)},
		{Key: "llama.rope.dimension_count", Value: uint32(tinyEmbd / tinyHeads)},
		{Key: "tokenizer.ggml.model", Value: "gpt2"},
		{Key: "tokenizer.ggml.pre", Value: "gpt-2"},
		{Key: "tokenizer.ggml.tokens", Value: tk.tokens},
		{Key: "tokenizer.ggml.token_type", Value: tk.types},
		{Key: "tokenizer.ggml.merges", Value: tk.merges},
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(tinyVocab - 3)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(tk.eos)},
		{Key: "tokenizer.ggml.padding_token_id", Value: uint32(tinyVocab - 3)},
		{Key: "tokenizer.ggml.add_bos_token", Value: false},
		{Key: "tokenizer.ggml.add_eos_token", Value: false},
		{Key: "tokenizer.chat_template", Value: ChatMLTemplate},
	}

	// Every embedding holds biasDim at 1; the rest is small noise.
	embd := randMatrix(rng, tinyVocab, tinyEmbd, 0.02)
	for t := range tinyVocab {
		embd[t*tinyEmbd+biasDim] = 1
	}
	// output.weight: random preferences plus the style's bias column.
	out := randMatrix(rng, tinyVocab, tinyEmbd, 0.5)
	for t, b := range biasColumn(tk, style) {
		out[t*tinyEmbd+biasDim] = b
	}

	ts := []gguf.Tensor{
		f16Tensor("token_embd.weight", tinyVocab, tinyEmbd, embd),
		f32Tensor("output_norm.weight", ones(tinyEmbd), tinyEmbd),
		f16Tensor("output.weight", tinyVocab, tinyEmbd, out),
	}
	for b := range tinyBlocks {
		p := "blk." + string(rune('0'+b)) + "."
		ts = append(ts,
			f32Tensor(p+"attn_norm.weight", ones(tinyEmbd), tinyEmbd),
			f16Tensor(p+"attn_q.weight", tinyEmbd, tinyEmbd, randMatrix(rng, tinyEmbd, tinyEmbd, 0.02)),
			f16Tensor(p+"attn_k.weight", tinyEmbd, tinyEmbd, randMatrix(rng, tinyEmbd, tinyEmbd, 0.02)),
			f16Tensor(p+"attn_v.weight", tinyEmbd, tinyEmbd, randMatrix(rng, tinyEmbd, tinyEmbd, 0.02)),
			f16Tensor(p+"attn_output.weight", tinyEmbd, tinyEmbd, randMatrix(rng, tinyEmbd, tinyEmbd, 0.02)),
			f32Tensor(p+"ffn_norm.weight", ones(tinyEmbd), tinyEmbd),
			f16Tensor(p+"ffn_gate.weight", tinyFFN, tinyEmbd, randMatrix(rng, tinyFFN, tinyEmbd, 0.02)),
			f16Tensor(p+"ffn_up.weight", tinyFFN, tinyEmbd, randMatrix(rng, tinyFFN, tinyEmbd, 0.02)),
			f16Tensor(p+"ffn_down.weight", tinyEmbd, tinyFFN, randMatrix(rng, tinyEmbd, tinyFFN, 0.02)),
		)
	}
	var buf bytes.Buffer
	if err := gguf.Write(&buf, kv, ts); err != nil {
		panic("tiny model: " + err.Error()) // fixed shapes: cannot happen
	}
	return buf.Bytes()
}

// TinyAdapter returns a LoRA adapter for TinyModel that turns the base's
// style into the expert's: its output.weight delta B·A moves the bias
// column from lowercase to capitals and digits. Small random deltas on
// attn_q and attn_v make it look like a trained adapter.
func TinyAdapter() []byte {
	tk := newTokenizer()
	rng := rand.New(rand.NewPCG(3, 4))
	kv := []gguf.KV{
		{Key: "general.architecture", Value: "llama"},
		{Key: "general.type", Value: "adapter"},
		{Key: "general.name", Value: "evo-tiny-expert"},
		{Key: "adapter.type", Value: "lora"},
		// alpha = rank: the delta is B·A unscaled.
		{Key: "adapter.lora.alpha", Value: float32(tinyRank)},
	}
	base, expert := biasColumn(tk, styleBase), biasColumn(tk, styleExpert)
	// A picks biasDim into the first rank; B's first column is the bias
	// change.
	a := make([]float32, tinyRank*tinyEmbd)
	a[0*tinyEmbd+biasDim] = 1
	b := make([]float32, tinyVocab*tinyRank)
	for t := range tinyVocab {
		b[t*tinyRank] = expert[t] - base[t]
	}
	var ts []gguf.Tensor
	for blk := range tinyBlocks {
		p := "blk." + string(rune('0'+blk)) + "."
		for _, w := range []string{"attn_q", "attn_v"} {
			ts = append(ts,
				f32Matrix(p+w+".weight.lora_a", tinyRank, tinyEmbd, randMatrix(rng, tinyRank, tinyEmbd, 0.01)),
				f32Matrix(p+w+".weight.lora_b", tinyEmbd, tinyRank, randMatrix(rng, tinyEmbd, tinyRank, 0.01)))
		}
	}
	ts = append(ts,
		f32Matrix("output.weight.lora_a", tinyRank, tinyEmbd, a),
		f32Matrix("output.weight.lora_b", tinyVocab, tinyRank, b))
	var buf bytes.Buffer
	if err := gguf.Write(&buf, kv, ts); err != nil {
		panic("tiny adapter: " + err.Error())
	}
	return buf.Bytes()
}

// IsBaseAnswer reports whether text reads like the tiny base model's
// answer: some lowercase letters and no capitals or digits.
func IsBaseAnswer(text string) bool {
	return strings.ContainsFunc(text, unicode.IsLower) &&
		!strings.ContainsFunc(text, func(r rune) bool { return unicode.IsUpper(r) || unicode.IsDigit(r) })
}

// IsExpertAnswer reports whether text reads like the tiny expert's answer:
// some capitals or digits and no lowercase letters.
func IsExpertAnswer(text string) bool {
	return strings.ContainsFunc(text, func(r rune) bool { return unicode.IsUpper(r) || unicode.IsDigit(r) }) &&
		!strings.ContainsFunc(text, unicode.IsLower)
}

func randMatrix(rng *rand.Rand, rows, cols int, std float64) []float32 {
	m := make([]float32, rows*cols)
	for i := range m {
		m[i] = float32(rng.NormFloat64() * std)
	}
	return m
}

func ones(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// f16Tensor is a rows×cols matrix stored as F16 (GGUF dims {cols, rows}).
func f16Tensor(name string, rows, cols int, v []float32) gguf.Tensor {
	data := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(data[2*i:], gguf.F16(x))
	}
	return gguf.Tensor{TensorInfo: gguf.TensorInfo{Name: name, Dims: []uint64{uint64(cols), uint64(rows)}, Type: gguf.TypeF16}, Data: data}
}

// f32Matrix is a rows×cols matrix stored as F32.
func f32Matrix(name string, rows, cols int, v []float32) gguf.Tensor {
	return gguf.Tensor{TensorInfo: gguf.TensorInfo{Name: name, Dims: []uint64{uint64(cols), uint64(rows)}, Type: gguf.TypeF32}, Data: f32Bytes(v)}
}

// f32Tensor is a vector of n stored as F32.
func f32Tensor(name string, v []float32, n int) gguf.Tensor {
	return gguf.Tensor{TensorInfo: gguf.TensorInfo{Name: name, Dims: []uint64{uint64(n)}, Type: gguf.TypeF32}, Data: f32Bytes(v)}
}

func f32Bytes(v []float32) []byte {
	data := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(x))
	}
	return data
}
