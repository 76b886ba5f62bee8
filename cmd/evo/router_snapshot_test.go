package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evo-tr/evo/brain"
)

func snapshotExperts() []brain.Expert {
	return []brain.Expert{
		{Name: "kod", Model: "kod-model", Examples: strings.Split("python'da liste sıralama|for döngüsü hata veriyor|SyntaxError: invalid syntax|git commit geri alma|pandas ile csv okuma|fonksiyon nasıl yazılır", "|")},
		{Name: "sohbet", Model: "sohbet-model", Examples: strings.Split("bugün hava çok güzel|annemin doğum günü için hediye|karnıyarık tarifi|moralim bozuk|hafta sonu nereye gidelim|kedim yemek yemiyor", "|")},
	}
}

// TestRouterSnapshotRestart: the first start trains and writes the
// snapshot, the next loads it and decides alike; a damaged or stale
// snapshot, or one that cannot be written, costs a training, never the
// start.
func TestRouterSnapshotRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "router.snapshot")
	var logs bytes.Buffer
	a := &app{cfg: Config{RouterCache: path, RouterThreshold: 0.5, BaseModel: "base"},
		log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	ctx := context.Background()
	start := func(t *testing.T, experts []brain.Expert, want string) brain.Decision {
		t.Helper()
		logs.Reset()
		r, err := a.newRouter(ctx, experts)
		if err != nil {
			t.Fatalf("newRouter: %v", err)
		}
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs do not say %q:\n%s", want, logs.String())
		}
		return r.Route(ctx, "listeyi ters sıralama")
	}

	trained := start(t, snapshotExperts(), "router trained")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no snapshot after the first start: %v", err)
	}
	if got := start(t, snapshotExperts(), "router loaded from its snapshot"); got != trained {
		t.Errorf("loaded router decides %+v, the trained one %+v", got, trained)
	}

	changed := snapshotExperts()
	changed[1].Examples = append(changed[1].Examples, "çay mı kahve mi")
	start(t, changed, "stale")
	start(t, changed, "router loaded from its snapshot") // rewritten for the new examples

	if err := os.WriteFile(path, []byte("bozuk"), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, changed, "router snapshot unreadable: training")
	start(t, changed, "router loaded from its snapshot")

	// A folder where the snapshot should be: it can be neither read nor
	// written, and the router is trained all the same.
	a.cfg.RouterCache = dir
	start(t, changed, "router snapshot not written")
	if left, _ := filepath.Glob(filepath.Join(dir, ".router-*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}

	a.cfg.RouterCache = "off"
	start(t, changed, "router trained")
	if _, err := os.Stat("off"); !os.IsNotExist(err) {
		t.Errorf("ROUTER_CACHE=off wrote a file named off (stat: %v)", err)
	}
}
