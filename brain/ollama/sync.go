package ollama

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama/gguf"
)

// modelStore is what Sync needs of the Ollama API; *api.Client has it.
type modelStore interface {
	Version(ctx context.Context) (string, error)
	Show(ctx context.Context, req *api.ShowRequest) (*api.ShowResponse, error)
	HeadBlob(ctx context.Context, digest string) (bool, error)
	CreateBlob(ctx context.Context, digest string, r io.Reader) error
	Create(ctx context.Context, req *api.CreateRequest, fn api.CreateProgressFunc) error
}

var _ modelStore = (*api.Client)(nil)

// SyncOptions tune Sync.
type SyncOptions struct {
	// Base is the base model of adapter experts that name no `from`.
	Base string
	// Resident gives every adapter expert its own byte-distinct copy of its
	// base model's file. Ollama keys a loaded model by its base file, so
	// adapter experts on one file share one runner and reload it on every
	// switch; with copies each expert has its own runner and all stay
	// loaded (up to OLLAMA_MAX_LOADED_MODELS and memory), at the cost of
	// one base's size per expert on disk and in memory. It needs the base
	// model's file readable where evo runs (evo on the Ollama machine).
	Resident bool
	// DryRun reports what would change and changes nothing.
	DryRun bool
	// Step, when set, hears each step as it starts (for progress output).
	Step func(expert, step string)
}

// SyncAction says what Sync did to one expert's model.
type SyncAction string

// Sync actions.
const (
	SyncUnchanged SyncAction = "unchanged"
	SyncCreated   SyncAction = "created"
	SyncUpdated   SyncAction = "updated"
	SyncPresent   SyncAction = "present" // packaging existing: nothing to build
	SyncPlanned   SyncAction = "would create"
	SyncStale     SyncAction = "would update"
	SyncFailed    SyncAction = "failed"
)

// SyncResult is what happened to one expert.
type SyncResult struct {
	Expert    string
	Model     string
	Packaging brain.Packaging
	// Resident: the model has its own copy of the base file.
	Resident bool
	Action   SyncAction
	// Why explains a change ("new", "adapter changed", ...).
	Why string
	// Uploaded is how many bytes were sent to the server.
	Uploaded int64
	Took     time.Duration
	Err      error
}

// SyncReport lists the results in the experts' order.
type SyncReport struct {
	Results []SyncResult
}

// Changed reports how many models were created or updated.
func (r SyncReport) Changed() int {
	n := 0
	for _, res := range r.Results {
		if res.Action == SyncCreated || res.Action == SyncUpdated {
			n++
		}
	}
	return n
}

// ErrAdaptersRefused is wrapped when the server no longer creates LoRA
// adapter models (Ollama v0.34.1 and later).
var ErrAdaptersRefused = errors.New("this Ollama refuses LoRA adapter models (v0.34.1+): " +
	"fuse the adapter into its base offline (e.g. mlx_lm.fuse, then llama.cpp's convert_hf_to_gguf.py) " +
	"and set the expert's packaging to gguf with file: the fused GGUF, or run Ollama v0.34.0 or older")

// Sync creates or updates the Ollama model of every expert from its files:
// it uploads the blobs the server lacks and creates the model. A model
// whose files, base, template, system prompt and parameters already match
// is left alone, so a second Sync changes nothing. Experts are synced one
// by one; a failure is recorded in its result and the others go on. The
// error joins every failure.
//
// Packagings: adapter (the base model `from` plus one LoRA GGUF `file`),
// gguf (one full model `file`; template and parameters are taken from
// `from` when set) and existing (the model must be there; nothing to
// build). File paths must be expanded already (no ${NAME} left).
func (c *Client) Sync(ctx context.Context, experts []brain.Expert, opts SyncOptions) (SyncReport, error) {
	s := syncer{store: c.api, opts: opts, log: c.log.With("op", "experts sync")}
	return s.run(ctx, experts)
}

type syncer struct {
	store   modelStore
	opts    SyncOptions
	log     *slog.Logger
	version string
}

func (s *syncer) run(ctx context.Context, experts []brain.Expert) (SyncReport, error) {
	var rep SyncReport
	var errs []error
	seen := map[string]string{}
	for _, e := range experts {
		start := time.Now()
		res := SyncResult{Expert: e.Name, Model: e.Model, Packaging: e.Packaging}
		if other, dup := seen[canonical(e.Model)]; dup && e.Model != "" {
			res.Err = fmt.Errorf("model %q is also expert %q's: each expert needs a model of its own", e.Model, other)
		} else {
			seen[canonical(e.Model)] = e.Name
			res.Err = s.one(ctx, e, &res)
		}
		res.Took = time.Since(start)
		if res.Err != nil {
			res.Action = SyncFailed
			errs = append(errs, fmt.Errorf("expert %s: %w", e.Name, res.Err))
		}
		s.log.Info("expert synced", "expert", e.Name, "model", e.Model, "action", string(res.Action),
			"why", res.Why, "uploaded", res.Uploaded, "took", res.Took.Round(time.Millisecond), "err", res.Err)
		rep.Results = append(rep.Results, res)
		if ctx.Err() != nil {
			break
		}
	}
	return rep, errors.Join(errs...)
}

// want is the state an expert's model should have.
type want struct {
	from    string            // base model to build on (adapter, shared)
	files   map[string]source // model file(s), by name in the request
	adapter *source
	// inherit: template, system and parameters copied from this model.
	inherit *api.ShowResponse
}

// source is a file to upload: its digest and how to read it.
type source struct {
	digest string
	size   int64
	open   func() (io.ReadCloser, error)
}

func (s *syncer) step(e brain.Expert, msg string) {
	if s.opts.Step != nil {
		s.opts.Step(e.Name, msg)
	}
}

func (s *syncer) one(ctx context.Context, e brain.Expert, res *SyncResult) error {
	if e.Model == "" {
		return errors.New("no model name")
	}
	var w want
	switch e.Packaging {
	case brain.PackagingExisting, "":
		if _, err := s.show(ctx, e.Model); err != nil {
			return fmt.Errorf("%w (packaging existing: pull or create it, e.g. ollama pull %s)", err, e.Model)
		}
		res.Action = SyncPresent
		return nil
	case brain.PackagingAdapter:
		base := cmp.Or(e.From, s.opts.Base)
		if base == "" {
			return errors.New("packaging adapter needs `from:` (the base model)")
		}
		s.step(e, "hash "+e.File)
		adapter, err := fileSource(e.File)
		if err != nil {
			return err
		}
		w.adapter = &adapter
		baseShow, err := s.show(ctx, base)
		if err != nil {
			return fmt.Errorf("base model: %w", err)
		}
		w.inherit = baseShow
		if s.opts.Resident {
			res.Resident = true
			s.step(e, "hash a resident copy of "+base)
			cp, err := residentCopy(baseShow, e.Model)
			if err != nil {
				return err
			}
			w.files = map[string]source{"base.gguf": cp}
		} else {
			w.from = base
		}
	case brain.PackagingGGUF:
		s.step(e, "hash "+e.File)
		f, err := fileSource(e.File)
		if err != nil {
			return err
		}
		w.files = map[string]source{"model.gguf": f}
		if e.From != "" {
			if w.inherit, err = s.show(ctx, e.From); err != nil {
				return fmt.Errorf("from: %w", err)
			}
		}
	default:
		return fmt.Errorf("unknown packaging %q (adapter, gguf or existing)", e.Packaging)
	}

	why, err := s.diff(ctx, e.Model, w)
	if err != nil {
		return err
	}
	if why == "" {
		res.Action = SyncUnchanged
		return nil
	}
	res.Why = why
	if s.opts.DryRun {
		res.Action = map[bool]SyncAction{true: SyncPlanned, false: SyncStale}[why == whyNew]
		return nil
	}
	if w.adapter != nil {
		if err := s.adaptersAccepted(ctx); err != nil {
			return err
		}
	}
	n, err := s.create(ctx, e, w)
	res.Uploaded = n
	if err != nil {
		return err
	}
	res.Action = SyncUpdated
	if why == whyNew {
		res.Action = SyncCreated
	}
	return nil
}

const whyNew = "new"

// diff says why the model differs from w, "" when it matches.
func (s *syncer) diff(ctx context.Context, model string, w want) (string, error) {
	have, err := s.show(ctx, model)
	if errors.Is(err, brain.ErrModelNotFound) {
		return whyNew, nil
	}
	if err != nil {
		return "", err
	}
	from, adapters := modelfileDigests(have.Modelfile)
	switch {
	case w.from != "":
		if w.inherit == nil {
			return "", errors.New("internal: adapter expert without its base")
		}
		baseFrom, _ := modelfileDigests(w.inherit.Modelfile)
		if from != baseFrom || baseFrom == "" {
			return "base changed", nil
		}
	default:
		var fileDigest string
		for _, f := range w.files {
			fileDigest = f.digest
		}
		if from != fileDigest {
			return "model file changed", nil
		}
	}
	wantAdapters := []string{}
	if w.adapter != nil {
		wantAdapters = []string{w.adapter.digest}
	}
	if !slices.Equal(adapters, wantAdapters) {
		return "adapter changed", nil
	}
	if w.inherit != nil {
		switch {
		case have.Template != w.inherit.Template:
			return "template changed", nil
		case have.System != w.inherit.System:
			return "system prompt changed", nil
		case !sameParameters(have.Parameters, w.inherit.Parameters):
			return "parameters changed", nil
		}
	}
	return "", nil
}

// create uploads the blobs the server lacks and creates the model.
func (s *syncer) create(ctx context.Context, e brain.Expert, w want) (int64, error) {
	var uploaded int64
	upload := func(name string, src source) (string, error) {
		ok, err := s.store.HeadBlob(ctx, src.digest)
		if err != nil {
			return "", fmt.Errorf("check blob of %s: %w", name, err)
		}
		if ok {
			return src.digest, nil
		}
		s.step(e, fmt.Sprintf("upload %s (%s)", name, humanBytes(src.size)))
		r, err := src.open()
		if err != nil {
			return "", err
		}
		defer r.Close()
		if err := s.store.CreateBlob(ctx, src.digest, r); err != nil {
			return "", fmt.Errorf("upload %s: %w", name, err)
		}
		uploaded += src.size
		return src.digest, nil
	}
	stream := false
	req := &api.CreateRequest{Model: e.Model, From: w.from, Stream: &stream}
	for name, src := range w.files {
		d, err := upload(name, src)
		if err != nil {
			return uploaded, err
		}
		req.Files = map[string]string{name: d}
	}
	if w.adapter != nil {
		d, err := upload("adapter.gguf", *w.adapter)
		if err != nil {
			return uploaded, err
		}
		req.Adapters = map[string]string{"adapter.gguf": d}
	}
	if w.inherit != nil && w.from == "" {
		req.Template = w.inherit.Template
		req.System = w.inherit.System
		req.Parameters = parseParameters(w.inherit.Parameters)
	}
	s.step(e, "create "+e.Model)
	err := s.store.Create(ctx, req, func(api.ProgressResponse) error { return nil })
	if err != nil {
		if w.adapter != nil && strings.Contains(strings.ToLower(err.Error()), "adapters are no longer supported") {
			return uploaded, fmt.Errorf("create %s: %w", e.Model, ErrAdaptersRefused)
		}
		return uploaded, fmt.Errorf("create %s: %w", e.Model, err)
	}
	return uploaded, nil
}

// adaptersAccepted fails early on servers known to refuse adapters.
func (s *syncer) adaptersAccepted(ctx context.Context) error {
	if s.version == "" {
		v, err := s.store.Version(ctx)
		if err != nil {
			return fmt.Errorf("ollama version: %w", err)
		}
		s.version = v
	}
	if versionAtLeast(s.version, 0, 34, 1) {
		return fmt.Errorf("ollama %s: %w", s.version, ErrAdaptersRefused)
	}
	return nil
}

func (s *syncer) show(ctx context.Context, model string) (*api.ShowResponse, error) {
	r, err := s.store.Show(ctx, &api.ShowRequest{Model: model})
	if err != nil {
		var se api.StatusError
		if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("show %s: %w", model, &NotFoundError{Model: model, Server: se.ErrorMessage})
		}
		return nil, fmt.Errorf("show %s: %w", model, err)
	}
	return r, nil
}

// fileSource hashes a local file.
func fileSource(path string) (source, error) {
	if path == "" {
		return source{}, errors.New("no file given (file: in the expert's YAML)")
	}
	if strings.Contains(path, "${") {
		return source{}, fmt.Errorf("file %q names a variable that is not set", path)
	}
	open := func() (io.ReadCloser, error) { return os.Open(path) }
	f, err := open()
	if err != nil {
		return source{}, fmt.Errorf("open expert file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return source{}, fmt.Errorf("read %s: %w", path, err)
	}
	return source{digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), size: n, open: open}, nil
}

// residentCopy is the base model's file with general.name changed to name
// the expert: byte-distinct, so Ollama gives it a runner of its own, with
// weights untouched.
func residentCopy(base *api.ShowResponse, model string) (source, error) {
	path := modelfileFromPath(base.Modelfile)
	if path == "" {
		return source{}, errors.New("--resident: the server did not report the base model's file")
	}
	rewrite := func(w io.Writer) (int64, error) {
		f, err := os.Open(path)
		if err != nil {
			return 0, fmt.Errorf("--resident reads the base model's file, which must be readable here "+
				"(run evo on the Ollama machine as a user that can read it): %w", err)
		}
		defer f.Close()
		return gguf.Rewrite(w, f, func(h *gguf.Header) error {
			name, _ := h.Get("general.name")
			s, _ := name.(string)
			h.Set("general.name", strings.TrimSpace(s+" [evo resident: "+model+"]"))
			return nil
		})
	}
	h := sha256.New()
	n, err := rewrite(h)
	if err != nil {
		return source{}, err
	}
	open := func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() {
			_, err := rewrite(pw)
			pw.CloseWithError(err)
		}()
		return pr, nil
	}
	return source{digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), size: n, open: open}, nil
}

var (
	modelfileLine = regexp.MustCompile(`(?m)^(FROM|ADAPTER) (.+)$`)
	blobDigest    = regexp.MustCompile(`sha256[-:]([0-9a-f]{64})`)
)

// modelfileDigests reads the blob digests of a model's weights and
// adapters from the Modelfile /api/show returns (FROM and ADAPTER lines
// name the blobs' paths, which end in their digests).
func modelfileDigests(mf string) (from string, adapters []string) {
	adapters = []string{}
	for _, m := range modelfileLine.FindAllStringSubmatch(mf, -1) {
		d := blobDigest.FindStringSubmatch(filepath.Base(strings.TrimSpace(m[2])))
		if d == nil {
			continue
		}
		digest := "sha256:" + d[1]
		if m[1] == "FROM" && from == "" {
			from = digest
		} else if m[1] == "ADAPTER" {
			adapters = append(adapters, digest)
		}
	}
	return from, adapters
}

// modelfileFromPath is the path on the FROM line: the weights' blob.
func modelfileFromPath(mf string) string {
	for _, m := range modelfileLine.FindAllStringSubmatch(mf, -1) {
		if m[1] == "FROM" {
			return strings.TrimSpace(m[2])
		}
	}
	return ""
}

// parseParameters turns /api/show's parameters text ("key   value" lines,
// values in Go syntax: "stop \"<|im_end|>\"", "num_predict 64") back into
// the map /api/create takes; repeated keys become lists.
func parseParameters(text string) map[string]any {
	out := map[string]any{}
	for _, line := range strings.Split(text, "\n") {
		key, raw, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || key == "" {
			continue
		}
		raw = strings.TrimSpace(raw)
		var v any = raw
		if s, err := strconv.Unquote(raw); err == nil {
			v = s
		} else if f, err := strconv.ParseFloat(raw, 64); err == nil {
			v = f
		} else if b, err := strconv.ParseBool(raw); err == nil {
			v = b
		}
		switch prev := out[key].(type) {
		case nil:
			out[key] = v
		case []any:
			out[key] = append(prev, v)
		default:
			out[key] = []any{prev, v}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// sameParameters compares two parameters texts line by line, ignoring
// order and spacing (the server prints them in map order).
func sameParameters(a, b string) bool {
	norm := func(s string) []string {
		var out []string
		for _, line := range strings.Split(s, "\n") {
			if f := strings.Fields(line); len(f) > 0 {
				out = append(out, strings.Join(f, " "))
			}
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(a), norm(b))
}

// versionAtLeast compares a "0.34.1" style version; unparsable versions
// (dev builds) are taken as old.
func versionAtLeast(v string, major, minor, patch int) bool {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	v, _, _ = strings.Cut(v, "-")
	parts := strings.Split(v, ".")
	if len(parts) < 3 {
		return false
	}
	var n [3]int
	for i := range 3 {
		x, err := strconv.Atoi(parts[i])
		if err != nil {
			return false
		}
		n[i] = x
	}
	switch {
	case n[0] != major:
		return n[0] > major
	case n[1] != minor:
		return n[1] > minor
	default:
		return n[2] >= patch
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}
