// Package chroma keeps long-term memories in ChromaDB: the facts and
// summaries the night job distills from a day of conversation, recalled by
// meaning when the user writes again.
//
// Each user has a collection of their own, named after the platform and a
// hash of the user id (a metadata filter over one shared collection makes
// nearest-neighbour search slow as it grows, and one collection per user
// makes isolation and deletion structural). Texts are embedded with the
// configured brain.Embedder (Ollama's /api/embed in production) and
// compared in cosine space, so a memory's Distance is 1 − cosine. The
// Store talks to a Chroma 1.x server over HTTP with
// github.com/amikos-tech/chroma-go.
package chroma

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	chroma "github.com/amikos-tech/chroma-go/pkg/api/v2"
	"github.com/amikos-tech/chroma-go/pkg/embeddings"

	"github.com/evo-tr/evo/brain"
)

// Metadata keys of a memory and of a user's collection.
const (
	keyPlatform   = "platform"
	keyUserID     = "user_id"
	keyTags       = "tags" // joined with tagSep
	keyTime       = "time" // unix seconds
	keyEmbedModel = "embed_model"

	tagSep = ","
)

// Defaults of Config.
const (
	DefaultPrefix  = "mem"
	DefaultTimeout = 10 * time.Second
	// batchSize is how many memories one upsert request carries.
	batchSize = 500
)

// Config configures a Store.
type Config struct {
	// URL is the Chroma server's base address, e.g. http://127.0.0.1:8000.
	URL string
	// Embedder and EmbedModel turn texts into vectors. Every memory of a
	// collection must come from the same model.
	Embedder   brain.Embedder
	EmbedModel string
	// Prefix starts every collection name (default "mem"): letters,
	// digits, '_' and '-', beginning with a letter or digit. Stores with
	// different prefixes on one server do not see each other's memories.
	Prefix string
	// Tenant and Database default to Chroma's default_tenant and
	// default_database.
	Tenant, Database string
	// Timeout bounds each request to Chroma (default 10 s).
	Timeout time.Duration
}

// Store keeps long-term memories in ChromaDB. It is safe for concurrent
// use.
type Store struct {
	cfg    Config
	client chroma.Client
	ef     *embedFunc
	log    *slog.Logger

	mu   sync.Mutex
	cols map[string]chroma.Collection // by collection name
}

var (
	_ brain.Recall       = (*Store)(nil)
	_ brain.Memorizer    = (*Store)(nil)
	_ brain.Forgetter    = (*Store)(nil)
	_ brain.MemoryLister = (*Store)(nil)
)

// New returns a Store for the Chroma server at cfg.URL. The server need
// not be up: New checks it once and logs a warning when it does not
// answer, and calls fail with brain.ErrMemoryUnavailable until it does.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	if log == nil {
		return nil, errors.New("chroma: a logger is required")
	}
	if cfg.Embedder == nil || cfg.EmbedModel == "" {
		return nil, errors.New("chroma: an embedder and an embedding model are required")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("chroma: the URL is not an http(s) address") // never quote it: it may hold a token
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if err := validPrefix(cfg.Prefix); err != nil {
		return nil, fmt.Errorf("chroma: prefix %q %w", cfg.Prefix, err)
	}
	if cfg.Tenant == "" {
		cfg.Tenant = chroma.DefaultTenant
	}
	if cfg.Database == "" {
		cfg.Database = chroma.DefaultDatabase
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	hc := newHTTPClient(cfg.Timeout)
	client, err := chroma.NewHTTPClient(
		chroma.WithBaseURL(strings.TrimRight(cfg.URL, "/")),
		chroma.WithHTTPClient(hc),
		// Explicit, so that CHROMA_TENANT and CHROMA_DATABASE in the
		// environment, which chroma-go reads, change nothing.
		chroma.WithDatabaseAndTenant(cfg.Database, cfg.Tenant),
	)
	if err != nil {
		return nil, fmt.Errorf("chroma: client: %w", err)
	}
	s := &Store{cfg: cfg, client: client,
		ef: &embedFunc{e: cfg.Embedder, model: cfg.EmbedModel}, log: log, cols: map[string]chroma.Collection{}}
	if err := s.Ping(ctx); err != nil {
		log.Warn("long-term memory: Chroma does not answer yet", "server", u.Host, "err", err)
	}
	return s, nil
}

// newHTTPClient bounds every request by timeout and a connection attempt
// by at most 3 s, so that a down server fails fast.
func newHTTPClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: min(timeout, 3*time.Second), KeepAlive: 30 * time.Second}).DialContext
	tr.MaxIdleConnsPerHost = 16
	return &http.Client{Timeout: timeout, Transport: tr}
}

// Close releases the client's idle connections.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("close chroma client: %w", err)
	}
	return nil
}

// Ping checks that the Chroma server answers its heartbeat.
func (s *Store) Ping(ctx context.Context) error {
	return wrap(ctx, "chroma heartbeat", s.client.Heartbeat(ctx))
}

// Remember stores memories of the user; a memory whose ID the user already
// has replaces it. Nothing is stored when one memory is invalid.
func (s *Store) Remember(ctx context.Context, p brain.Platform, userID string, ms []brain.Memory) error {
	if err := validateMemories(p, userID, ms); err != nil {
		return fmt.Errorf("remember: %w", err)
	}
	if len(ms) == 0 {
		return nil
	}
	texts := make([]string, len(ms))
	for i, m := range ms {
		texts[i] = m.Text
	}
	// Embedded before the collection exists: an embedder failure leaves
	// no empty collection behind.
	vecs, err := s.ef.embed(ctx, texts)
	if err != nil {
		return fmt.Errorf("embed memories: %w", err)
	}
	return s.withCollection(ctx, p, userID, true, func(col chroma.Collection) error {
		for start := 0; start < len(ms); start += batchSize {
			end := min(start+batchSize, len(ms))
			if err := upsert(ctx, col, p, userID, ms[start:end], vecs[start:end]); err != nil {
				return err
			}
		}
		s.warm(ctx, col, vecs[0])
		return nil
	})
}

// warm asks the collection for one neighbour of vec, right after a write.
// Chroma folds written vectors into the collection's index on the first
// query after them (about 15–20 ms for a hundred 1024-dimension vectors on
// 2 cores, against about 5 ms for a query after it): the night, which
// writes the memories, pays for that instead of the user's first message
// of the day. The memories are stored either way: a failure is only
// logged.
func (s *Store) warm(ctx context.Context, col chroma.Collection, vec []float32) {
	_, err := col.Query(ctx, chroma.WithQueryEmbeddings(embeddings.NewEmbeddingFromFloat32(vec)),
		chroma.WithNResults(1), chroma.WithInclude(chroma.IncludeDistances))
	if err != nil {
		s.log.Debug("long-term memory: warming the index after a write failed", "collection", col.Name(), "err", err)
	}
}

// upsert writes one batch of memories with their vectors.
func upsert(ctx context.Context, col chroma.Collection, p brain.Platform, userID string, ms []brain.Memory, vecs [][]float32) error {
	ids := make([]chroma.DocumentID, len(ms))
	texts := make([]string, len(ms))
	embs := make([]embeddings.Embedding, len(ms))
	metas := make([]chroma.DocumentMetadata, len(ms))
	for i, m := range ms {
		ids[i] = chroma.DocumentID(m.ID)
		texts[i] = m.Text
		embs[i] = embeddings.NewEmbeddingFromFloat32(vecs[i])
		attrs := []*chroma.MetaAttribute{
			chroma.NewStringAttribute(keyPlatform, string(p)),
			chroma.NewStringAttribute(keyUserID, userID),
			chroma.NewIntAttribute(keyTime, m.Time.Unix()),
		}
		if len(m.Tags) > 0 {
			attrs = append(attrs, chroma.NewStringAttribute(keyTags, strings.Join(m.Tags, tagSep)))
		}
		metas[i] = chroma.NewDocumentMetadata(attrs...)
	}
	err := col.Upsert(ctx, chroma.WithIDs(ids...), chroma.WithTexts(texts...),
		chroma.WithEmbeddings(embs...), chroma.WithMetadatas(metas...))
	return wrap(ctx, "upsert memories", err)
}

// Top returns up to k memories of the user nearest to text, nearest first.
// A user with no memories gets none (and no collection is created); so
// does k <= 0 or a blank text.
func (s *Store) Top(ctx context.Context, p brain.Platform, userID, text string, k int) ([]brain.Memory, error) {
	if err := validateUser(p, userID); err != nil {
		return nil, fmt.Errorf("recall: %w", err)
	}
	if err := validText("text", text); err != nil {
		return nil, fmt.Errorf("recall: %w", err)
	}
	if k <= 0 || strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var out []brain.Memory
	var query []float32
	err := s.withCollection(ctx, p, userID, false, func(col chroma.Collection) error {
		if query == nil { // once, also when a stale collection is retried
			vecs, err := s.ef.embed(ctx, []string{text})
			if err != nil {
				return fmt.Errorf("embed query: %w", err)
			}
			query = vecs[0]
		}
		res, err := col.Query(ctx,
			chroma.WithQueryEmbeddings(embeddings.NewEmbeddingFromFloat32(query)),
			chroma.WithNResults(k),
			chroma.WithInclude(chroma.IncludeDocuments, chroma.IncludeMetadatas, chroma.IncludeDistances))
		if err != nil {
			return wrap(ctx, "query memories", err)
		}
		out, err = memories(res)
		return err
	})
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// memories converts the answer to one query.
func memories(res chroma.QueryResult) ([]brain.Memory, error) {
	idg, docg, metag, distg := res.GetIDGroups(), res.GetDocumentsGroups(), res.GetMetadatasGroups(), res.GetDistancesGroups()
	if len(idg) == 0 {
		return nil, nil
	}
	ids := idg[0]
	if len(docg) == 0 || len(metag) == 0 || len(distg) == 0 ||
		len(docg[0]) != len(ids) || len(metag[0]) != len(ids) || len(distg[0]) != len(ids) {
		return nil, fmt.Errorf("query memories: malformed answer (%d ids)", len(ids))
	}
	out := make([]brain.Memory, len(ids))
	for i, id := range ids {
		out[i] = memoryFrom(string(id), docg[0][i], metag[0][i])
		out[i].Distance = float64(distg[0][i])
	}
	return out, nil
}

// memoryFrom rebuilds a memory from its stored document and metadata.
func memoryFrom(id string, doc chroma.Document, md chroma.DocumentMetadata) brain.Memory {
	m := brain.Memory{ID: id}
	if doc != nil {
		m.Text = doc.ContentString()
	}
	if md != nil {
		if tags, ok := md.GetString(keyTags); ok && tags != "" {
			m.Tags = strings.Split(tags, tagSep)
		}
		if sec, ok := md.GetInt(keyTime); ok {
			m.Time = time.Unix(sec, 0).UTC()
		} else if f, ok := md.GetFloat(keyTime); ok {
			// chroma-go decodes query answers' numbers as floats.
			m.Time = time.Unix(int64(math.Round(f)), 0).UTC()
		}
	}
	return m
}

// ForgetUser deletes every memory of the user (their collection). A user
// with no memories is no error.
func (s *Store) ForgetUser(ctx context.Context, p brain.Platform, userID string) error {
	if err := validateUser(p, userID); err != nil {
		return fmt.Errorf("forget user: %w", err)
	}
	name := s.collectionName(p, userID)
	s.mu.Lock()
	delete(s.cols, name)
	s.mu.Unlock()
	err := wrap(ctx, "delete memories", s.client.DeleteCollection(ctx, name))
	if errors.Is(err, errNotFound) {
		return nil
	}
	return err
}

// Count returns how many memories the user has.
func (s *Store) Count(ctx context.Context, p brain.Platform, userID string) (int, error) {
	if err := validateUser(p, userID); err != nil {
		return 0, fmt.Errorf("count memories: %w", err)
	}
	var n int
	err := s.withCollection(ctx, p, userID, false, func(col chroma.Collection) error {
		var err error
		n, err = col.Count(ctx)
		return wrap(ctx, "count memories", err)
	})
	if errors.Is(err, errNotFound) {
		return 0, nil
	}
	return n, err
}

// withCollection runs fn with the user's collection, creating it when
// create is set; without create, a missing collection is errNotFound. A
// cached collection that turns out to be gone (deleted by another process)
// is dropped and looked up once more.
func (s *Store) withCollection(ctx context.Context, p brain.Platform, userID string, create bool, fn func(chroma.Collection) error) error {
	name := s.collectionName(p, userID)
	for attempt := 0; ; attempt++ {
		col, cached, err := s.collection(ctx, name, p, userID, create)
		if err != nil {
			return err
		}
		err = fn(col)
		if cached && attempt == 0 && errors.Is(err, errNotFound) {
			s.mu.Lock()
			if s.cols[name] == col {
				delete(s.cols, name)
			}
			s.mu.Unlock()
			continue
		}
		return err
	}
}

// collection returns the named collection from the cache or the server.
func (s *Store) collection(ctx context.Context, name string, p brain.Platform, userID string, create bool) (chroma.Collection, bool, error) {
	s.mu.Lock()
	col, ok := s.cols[name]
	s.mu.Unlock()
	if ok {
		return col, true, nil
	}
	var err error
	if create {
		col, err = s.client.GetOrCreateCollection(ctx, name,
			chroma.WithCollectionMetadataCreate(chroma.NewMetadata(
				chroma.NewStringAttribute(keyPlatform, string(p)),
				chroma.NewStringAttribute(keyUserID, userID),
				chroma.NewStringAttribute(keyEmbedModel, s.cfg.EmbedModel),
			)),
			chroma.WithHNSWSpaceCreate(embeddings.COSINE),
			chroma.WithEmbeddingFunctionCreate(s.ef),
			// The function lives here, not in the server's configuration.
			chroma.WithDisableEFConfigStorage(),
		)
		err = wrap(ctx, "open memories", err)
	} else {
		col, err = s.client.GetCollection(ctx, name, chroma.WithEmbeddingFunctionGet(s.ef))
		err = wrap(ctx, "open memories", err)
	}
	if err != nil {
		return nil, false, err
	}
	if md := col.Metadata(); md != nil {
		if model, ok := md.GetString(keyEmbedModel); ok && model != s.cfg.EmbedModel {
			s.log.Warn("long-term memory: a user's memories were embedded with another model; recall may fail or be poor",
				"collection", name, "stored_model", model, "model", s.cfg.EmbedModel)
		}
	}
	s.mu.Lock()
	if cur, ok := s.cols[name]; ok {
		col = cur // another call got there first
	} else {
		s.cols[name] = col
	}
	s.mu.Unlock()
	return col, false, nil
}

// collectionName is the user's collection: prefix, platform and 128 bits
// of the SHA-256 of the user id, within Chroma's name rules (3–512
// characters of [a-zA-Z0-9._-], starting and ending with a letter or
// digit).
func (s *Store) collectionName(p brain.Platform, userID string) string {
	sum := sha256.Sum256([]byte(userID))
	return s.cfg.Prefix + "-" + string(p) + "-" + hex.EncodeToString(sum[:16])
}

// maxList bounds how many memories List reads from a collection before it
// sorts them; a personal assistant's user has far fewer.
const maxList = 5000

// List implements brain.MemoryLister.
func (s *Store) List(ctx context.Context, p brain.Platform, userID string, limit int) ([]brain.Memory, error) {
	if err := validateUser(p, userID); err != nil {
		return nil, fmt.Errorf("list memories: %w", err)
	}
	if limit <= 0 {
		return nil, nil
	}
	var out []brain.Memory
	err := s.withCollection(ctx, p, userID, false, func(col chroma.Collection) error {
		res, err := col.Get(ctx, chroma.WithLimit(maxList),
			chroma.WithInclude(chroma.IncludeDocuments, chroma.IncludeMetadatas))
		if err != nil {
			return wrap(ctx, "list memories", err)
		}
		ids, docs, metas := res.GetIDs(), res.GetDocuments(), res.GetMetadatas()
		if len(docs) != len(ids) || len(metas) != len(ids) {
			return fmt.Errorf("list memories: malformed answer (%d ids)", len(ids))
		}
		out = make([]brain.Memory, len(ids))
		for i, id := range ids {
			out[i] = memoryFrom(string(id), docs[i], metas[i])
		}
		return nil
	})
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	brain.SortNewestFirst(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
