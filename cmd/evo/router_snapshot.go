package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/router"
)

// newRouter loads the router from ROUTER_CACHE (unless it is off) when the snapshot there was
// made by this very program for these experts; otherwise it trains one
// and writes the snapshot for the next start. Either way the embedding
// vote is added when ROUTER_EMBED_MODEL is set. A snapshot that cannot be
// read or written costs a training, never the start.
func (a *app) newRouter(ctx context.Context, experts []brain.Expert) (*router.Router, error) {
	clock := brain.SystemClock{}
	start := clock.Now()
	path := a.cfg.RouterCache
	if path == "off" {
		path = ""
	}
	var salt []byte
	if path != "" {
		var err error
		if salt, err = programHash(); err != nil {
			a.log.Warn("router snapshot off: cannot fingerprint this program", "err", err)
			path = ""
		}
	}
	if path != "" {
		r, err := loadRouter(path, salt, experts, a.baseExpert(), a.cfg.RouterThreshold, a.log)
		switch {
		case err == nil:
			a.log.Info("router loaded from its snapshot", "path", path, "took", clock.Now().Sub(start))
			a.routerEmbeddings(ctx, r)
			return r, nil
		case errors.Is(err, os.ErrNotExist):
		case errors.Is(err, router.ErrStale):
			a.log.Info("router snapshot is stale (experts, examples or program changed): training", "path", path)
		default:
			a.log.Warn("router snapshot unreadable: training", "path", path, "err", err)
		}
	}
	r, err := router.New(experts, a.baseExpert(), a.cfg.RouterThreshold, router.WithLogger(a.log))
	if err != nil {
		return nil, fmt.Errorf("train router: %w", err)
	}
	// Training leaves the examples' features (tens of megabytes) as
	// garbage in a heap whose next collection is due only at twice its
	// size then: without this the service would grow into that room
	// first, and its peak memory be the training's plus its own.
	debug.FreeOSMemory()
	a.log.Info("router trained", "took", clock.Now().Sub(start))
	if path != "" {
		if err := saveRouter(path, salt, r); err != nil {
			a.log.Warn("router snapshot not written: the next start trains again", "path", path, "err", err)
		}
	}
	a.routerEmbeddings(ctx, r)
	return r, nil
}

// loadRouter restores the router snapshot at path.
func loadRouter(path string, salt []byte, experts []brain.Expert, base brain.Expert, threshold float64, log *slog.Logger) (*router.Router, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return router.Load(f, salt, experts, base, threshold, router.WithLogger(log))
}

// saveRouter writes r's snapshot to path whole or not at all: to a
// temporary file beside it, then renamed over it.
func saveRouter(path string, salt []byte, r *router.Router) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save router: %w", err)
	}
	f, err := os.CreateTemp(dir, ".router-*.tmp")
	if err != nil {
		return fmt.Errorf("save router: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	err = r.Save(f, salt)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("save router: %w", err)
	}
	return nil
}

// programHash is the SHA-256 of the running executable: a snapshot made by
// any other build, whose features or training may differ, is stale.
func programHash() ([]byte, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("hash program: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return nil, fmt.Errorf("hash program: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("hash program: %w", err)
	}
	return h.Sum(nil), nil
}
