package telegram

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
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
	mux.Handle(path, b.webhookHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	_, err = b.tg.SetWebhook(ctx, &tgbot.SetWebhookParams{
		URL:            b.cfg.WebhookURL,
		SecretToken:    b.secret,
		AllowedUpdates: []string{models.AllowedUpdateMessage, models.AllowedUpdateEditedMessage},
	})
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("telegram setWebhook: %w", err)
	}
	b.log.Info("telegram webhook", "listen", ln.Addr().String(), "path", path)

	wctx, stop := context.WithCancel(ctx)
	defer stop()
	workers := make(chan struct{})
	go func() { b.tg.StartWebhook(wctx); close(workers) }()
	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("telegram webhook server: %w", err)
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		b.log.Warn("telegram webhook shutdown", "err", serr)
	}
	stop()
	<-workers
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// webhookHandler checks the secret token before the library decodes the
// update; a wrong or missing token gets 401 and nothing else.
func (b *Bot) webhookHandler() http.Handler {
	lib := b.tg.WebhookHandler()
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
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		lib(w, r)
	})
}
