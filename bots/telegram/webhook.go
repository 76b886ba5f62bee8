package telegram

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	tgbot "github.com/go-telegram/bot"
)

// runWebhook registers the webhook with its secret token, serves it on
// WebhookListen and handles updates until ctx ends.
func (b *Bot) runWebhook(ctx context.Context) error {
	u, err := url.Parse(b.cfg.WebhookURL)
	if err != nil {
		return fmt.Errorf("telegram webhook URL: %w", err)
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	ln, err := net.Listen("tcp", b.cfg.WebhookListen)
	if err != nil {
		return fmt.Errorf("telegram webhook listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(path, b.webhookHandler(ctx))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	_, err = b.tg.SetWebhook(ctx, &tgbot.SetWebhookParams{
		URL:            b.cfg.WebhookURL,
		SecretToken:    b.secret,
		AllowedUpdates: allowedUpdates,
	})
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("telegram setWebhook: %w", err)
	}
	b.log.Info("telegram webhook", "listen", ln.Addr().String(), "path", path)

	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("telegram webhook server: %w", err)
	}
	// Requests in flight see ctx ended and answer 503 unless their update
	// was handled; Telegram sends those again.
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		b.log.Warn("telegram webhook shutdown", "err", serr)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// webhookHandler serves Telegram's update deliveries. It checks the
// secret token first (a wrong or missing one gets 401 and nothing else),
// then handles the update before it answers: a 200 means the brain has
// stored the message (or the update was handled already: Telegram retries
// a delivery until it gets a 2xx, so an update_id seen before is answered
// 200 and dropped). Deliveries are handled one at a time, in the order
// they arrive, so that a retry arriving while the first delivery is still
// being handled waits for it and is then dropped. Once ctx has ended,
// updates are not handled and get 503, so that Telegram sends them again.
func (b *Bot) webhookHandler(ctx context.Context) http.Handler {
	turn := make(chan struct{}, 1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(b.secret)) != 1 {
			b.log.Warn("telegram webhook: request with a wrong secret token", "remote", r.RemoteAddr)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		u, ok := b.decodeUpdate(body)
		if !ok || u == nil {
			// Logged by decodeUpdate; it would fail the same way again.
			w.WriteHeader(http.StatusOK)
			return
		}
		select {
		case turn <- struct{}{}:
		case <-r.Context().Done():
			return // Telegram gave up on this delivery and will retry
		case <-ctx.Done():
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		handled := b.handle(ctx, u)
		<-turn
		if !handled {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
