package chromatest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/evo-tr/evo/memory/chroma/chromatest"
)

func TestStartRestartStop(t *testing.T) {
	start := time.Now()
	s := chromatest.Start(t)
	t.Logf("chroma %s ready in %s at %s", chromatest.Version, time.Since(start).Round(time.Millisecond), s.URL())
	client := &http.Client{Timeout: 2 * time.Second}
	ctx := context.Background()
	if err := chromatest.Heartbeat(ctx, client, s.URL()); err != nil {
		t.Fatalf("Heartbeat after Start: %v", err)
	}

	start = time.Now()
	s.Restart(t)
	t.Logf("restarted in %s", time.Since(start).Round(time.Millisecond))
	if err := chromatest.Heartbeat(ctx, client, s.URL()); err != nil {
		t.Fatalf("Heartbeat after Restart: %v", err)
	}

	start = time.Now()
	s.Stop()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Stop took %s, want at most 3s", d)
	}
	if err := chromatest.Heartbeat(ctx, client, s.URL()); err == nil {
		t.Error("Heartbeat after Stop: got no error, want one")
	}
	s.Stop() // twice is harmless

	s.Restart(t)
	s.Kill()
	if err := chromatest.Heartbeat(ctx, client, s.URL()); err == nil {
		t.Error("Heartbeat after Kill: got no error, want one")
	}
}
