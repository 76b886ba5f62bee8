package discord

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRunRefusedTokenFailsAtOnce(t *testing.T) {
	b, err := New(Config{Token: "not-a-registered-token"}, &fakeBrain{}, slog.New(slog.NewTextHandler(io.Discard, nil)), fixedClock{testTime})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err = b.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "DISCORD_BOT_TOKEN") {
		t.Fatalf("Run = %v, want an error naming DISCORD_BOT_TOKEN", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Run took %v to give up on a refused token, want at once", took)
	}
}
