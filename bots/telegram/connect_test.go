package telegram

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evo-tr/evo/bots/telegram/telegramtest"
	"github.com/evo-tr/evo/brain"
)

func TestRunWaitsForTelegram(t *testing.T) {
	tests := []struct {
		name      string
		code      int
		desc      string
		wantErr   string          // Run fails with this, at once
		wantSleep []time.Duration // else: the backoff before it connects
	}{
		{name: "unreachable then up", code: 502, desc: "Bad Gateway", wantSleep: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{name: "token refused", code: 401, desc: "Unauthorized", wantErr: "TELEGRAM_BOT_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.NewServer(telegramtest.DefaultToken, botName)
			defer srv.Close()
			srv.PollWait = 100 * time.Millisecond
			srv.Fail("getMe", 3, tt.code, tt.desc, 0)
			sl := &sleeps{}
			b, err := New(Config{Token: telegramtest.DefaultToken, APIURL: srv.URL(), Sleep: sl.sleep, PollTimeout: time.Second},
				&fakeHandler{}, slog.New(slog.NewTextHandler(io.Discard, nil)), brain.SystemClock{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- b.Run(ctx) }()
			if tt.wantErr != "" {
				select {
				case err := <-done:
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Errorf("Run = %v, want an error naming %s", err, tt.wantErr)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("Run kept retrying a refused token")
				}
				return
			}
			waitFor(t, "polling to start", func() bool { return len(srv.Calls("deleteWebhook")) > 0 })
			if got := sl.all(); !reflect.DeepEqual(got[:min(len(got), 3)], tt.wantSleep) {
				t.Errorf("backoff = %v, want it to start with %v", got, tt.wantSleep)
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run = %v after cancel", err)
			}
		})
	}
}
