package chroma

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	chhttp "github.com/amikos-tech/chroma-go/pkg/commons/http"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestWrap(t *testing.T) {
	chromaErr := func(code int) error {
		return fmt.Errorf("error sending request: %w", &chhttp.ChromaError{ErrorCode: code, ErrorID: "X", Message: "m"})
	}
	expired, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	for _, c := range []struct {
		name        string
		ctx         context.Context
		err         error
		unavailable bool
		notFound    bool
	}{
		{"no response (refused, reset, timed out)", context.Background(), chromaErr(0), true, false},
		{"500", context.Background(), chromaErr(500), true, false},
		{"503", context.Background(), chromaErr(503), true, false},
		{"429", context.Background(), chromaErr(429), true, false},
		{"404", context.Background(), chromaErr(404), false, true},
		{"400", context.Background(), chromaErr(400), false, false},
		{"not a Chroma error", context.Background(), errors.New("decode"), false, false},
		{"the caller's deadline passed", expired, chromaErr(0), true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := wrap(c.ctx, "op", c.err)
			if got := errors.Is(err, brain.ErrMemoryUnavailable); got != c.unavailable {
				t.Errorf("errors.Is(%v, ErrMemoryUnavailable): got %v, want %v", err, got, c.unavailable)
			}
			if got := errors.Is(err, errNotFound); got != c.notFound {
				t.Errorf("errors.Is(%v, errNotFound): got %v, want %v", err, got, c.notFound)
			}
			if !strings.HasPrefix(err.Error(), "op: ") {
				t.Errorf("error %q does not start with the operation", err)
			}
		})
	}
	if err := wrap(context.Background(), "op", nil); err != nil {
		t.Errorf("wrap(nil): got %v, want nil", err)
	}
}

// chromaName is Chroma's rule for collection names.
var chromaName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$`)

func TestCollectionName(t *testing.T) {
	s := &Store{cfg: Config{Prefix: "mem"}}
	seen := map[string]string{}
	for _, c := range []struct {
		p    brain.Platform
		user string
	}{
		{brain.PlatformTelegram, "42"}, {brain.PlatformDiscord, "42"}, {brain.PlatformCLI, "42"},
		{brain.PlatformTelegram, "43"}, {brain.PlatformTelegram, strings.Repeat("ğ", 5000)},
		{brain.PlatformTelegram, "../../etc"}, {"a", "x"},
	} {
		name := s.collectionName(c.p, c.user)
		if !chromaName.MatchString(name) || strings.Contains(name, "..") {
			t.Errorf("collectionName(%s, %.10q) = %q: not a valid Chroma name", c.p, c.user, name)
		}
		key := fmt.Sprintf("%s/%s", c.p, c.user)
		if prev, ok := seen[name]; ok {
			t.Errorf("collectionName: %s and %s share %q", prev, key, name)
		}
		seen[name] = key
	}
	if got, want := s.collectionName(brain.PlatformTelegram, "42"), "mem-telegram-73475cb40a568e8da8a045ced110137e"; got != want {
		t.Errorf("collectionName(telegram, 42): got %q, want %q (names must not change between releases)", got, want)
	}
}

func TestValidation(t *testing.T) {
	for _, c := range []struct {
		name string
		p    brain.Platform
		ok   bool
	}{
		{"telegram", brain.PlatformTelegram, true},
		{"with digits and dash", "x-2_b", true},
		{"dot", "a.b", false},
		{"slash", "a/b", false},
		{"space", "a b", false},
		{"too long", brain.Platform(strings.Repeat("a", 65)), false},
	} {
		t.Run("platform "+c.name, func(t *testing.T) {
			if err := validateUser(c.p, "1"); (err == nil) != c.ok {
				t.Errorf("validateUser(%q): got %v, want ok=%v", c.p, err, c.ok)
			}
		})
	}
	for _, c := range []struct {
		prefix string
		ok     bool
	}{
		{"mem", true}, {"t1", true}, {"evo_prod-2", true},
		{"-mem", false}, {"_x", false}, {"a.b", false}, {"a b", false}, {"ä", false}, {strings.Repeat("a", 129), false},
	} {
		t.Run("prefix "+c.prefix, func(t *testing.T) {
			if err := validPrefix(c.prefix); (err == nil) != c.ok {
				t.Errorf("validPrefix(%q): got %v, want ok=%v", c.prefix, err, c.ok)
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	good := Config{URL: "http://127.0.0.1:1", Embedder: braintest.HashEmbedder{}, EmbedModel: "m"}
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		name string
		edit func(*Config)
	}{
		{"no URL", func(c *Config) { c.URL = "" }},
		{"URL without scheme", func(c *Config) { c.URL = "127.0.0.1:8000" }},
		{"unsupported scheme", func(c *Config) { c.URL = "ftp://x" }},
		{"no embedder", func(c *Config) { c.Embedder = nil }},
		{"no model", func(c *Config) { c.EmbedModel = "" }},
		{"bad prefix", func(c *Config) { c.Prefix = "-x" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.edit(&cfg)
			if s, err := New(context.Background(), cfg, log); err == nil {
				_ = s.Close()
				t.Errorf("New(%+v): got no error, want one", cfg)
			}
		})
	}
	if _, err := New(context.Background(), good, nil); err == nil {
		t.Error("New without a logger: got no error, want one")
	}
	s, err := New(context.Background(), good, log)
	if err != nil {
		t.Fatalf("New with a server that is down: got %v, want a store", err)
	}
	defer s.Close()
	if got, want := s.cfg.Prefix, DefaultPrefix; got != want {
		t.Errorf("default prefix: got %q, want %q", got, want)
	}
}

func TestEmbedFunc(t *testing.T) {
	ctx := context.Background()
	f := &embedFunc{e: braintest.HashEmbedder{Dims: 16}, model: "m"}
	docs, err := f.EmbedDocuments(ctx, []string{"bir", "iki"})
	if err != nil || len(docs) != 2 || docs[0].Len() != 16 {
		t.Fatalf("EmbedDocuments: got %d vectors, %v; want 2 of 16 dims", len(docs), err)
	}
	q, err := f.EmbedQuery(ctx, "bir")
	if err != nil || !slices.Equal(q.ContentAsFloat32(), docs[0].ContentAsFloat32()) {
		t.Errorf("EmbedQuery: got %v, %v; want the vector of the same text", q, err)
	}
	for _, c := range []struct {
		name string
		e    brain.Embedder
	}{
		{"too few vectors", fixedEmbedder{{1}}},
		{"an empty vector", fixedEmbedder{{1}, {}}},
		{"two lengths", fixedEmbedder{{1}, {1, 2}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &embedFunc{e: c.e, model: "m"}
			if _, err := f.embed(ctx, []string{"a", "b"}); err == nil {
				t.Errorf("embed with %s: got no error, want one", c.name)
			}
		})
	}
}

// fixedEmbedder returns its vectors whatever the texts.
type fixedEmbedder [][]float32

func (f fixedEmbedder) Embed(context.Context, string, []string) ([][]float32, error) { return f, nil }
