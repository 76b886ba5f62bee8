// Package telegram is EVO-TR's Telegram adapter. It receives updates by
// long polling (or a webhook), turns each text message addressed to the
// bot into a brain.Message, and streams the brain's Markdown reply back as
// Telegram HTML: a first message as soon as words arrive, edits as tokens
// arrive, and the exact final text, split under Telegram's 4096-unit limit
// without cutting a code block, a tag or a word. Outgoing traffic is paced
// under Telegram's limits and 429 answers are honoured.
package telegram

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/evo-tr/evo/brain"
)

// Config configures the adapter. Zero values take the defaults named.
type Config struct {
	// Token is the bot token from @BotFather (required; never logged).
	Token string
	// APIURL is the Bot API server (default https://api.telegram.org).
	APIURL string
	// WebhookURL switches to webhook mode: the public HTTPS URL Telegram
	// posts updates to. Empty means long polling.
	WebhookURL string
	// WebhookSecret is checked against X-Telegram-Bot-Api-Secret-Token;
	// empty makes a random one at start.
	WebhookSecret string
	// WebhookListen is the local address the webhook server listens on
	// (default 127.0.0.1:8443); it serves WebhookURL's path.
	WebhookListen string
	// AdminIDs are the Telegram user ids whose messages are marked Admin.
	AdminIDs []int64
	// EditInterval is the least time between two messages or edits sent
	// to one chat (default 1s, Telegram's per-chat limit).
	EditInterval time.Duration
	// GroupPerMinute bounds messages and edits per group per minute
	// (default 20).
	GroupPerMinute int
	// GlobalPerSecond bounds all messages and edits per second (default 30).
	GlobalPerSecond int
	// TypingInterval is how often "typing…" is renewed until the first
	// words are shown (default 4s; Telegram shows it for 5s).
	TypingInterval time.Duration
	// PollTimeout is the long-polling timeout (default 60s).
	PollTimeout time.Duration
	// RequestTimeout bounds one API request other than getUpdates
	// (default 30s).
	RequestTimeout time.Duration
	// MaxRetries bounds the retries of one send or edit after 429 answers
	// (default 5).
	MaxRetries int
	// MaxReplyTime is how long a reply may stream before what has arrived
	// is delivered as final (default 10m): a guard against a lost Done.
	MaxReplyTime time.Duration
	// ShutdownGrace is how long Run waits, once ctx ends, for replies in
	// flight to be delivered (default 5s). Replies are sent on a context of
	// their own, which Run's ctx does not cancel: only the end of the grace
	// does.
	ShutdownGrace time.Duration
	// Sleep waits d or until ctx ends; nil uses a timer. Tests inject it
	// to see and shorten waits such as retry_after.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (c *Config) defaults() {
	setDefault(&c.APIURL, "https://api.telegram.org")
	setDefault(&c.WebhookListen, "127.0.0.1:8443")
	setDefault(&c.EditInterval, time.Second)
	setDefault(&c.GroupPerMinute, 20)
	setDefault(&c.GlobalPerSecond, 30)
	setDefault(&c.TypingInterval, 4*time.Second)
	setDefault(&c.PollTimeout, time.Minute)
	setDefault(&c.RequestTimeout, 30*time.Second)
	setDefault(&c.MaxRetries, 5)
	setDefault(&c.MaxReplyTime, 10*time.Minute)
	setDefault(&c.ShutdownGrace, 5*time.Second)
	if c.Sleep == nil {
		c.Sleep = sleep
	}
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Bot is a running Telegram adapter.
type Bot struct {
	cfg    Config
	h      brain.Handler
	log    *slog.Logger
	clock  brain.Clock
	tg     *tgbot.Bot
	pacer  *pacer
	admins map[int64]bool
	secret string

	http tgbot.HttpClient // for getUpdates (the library sends the rest)
	seen *idSet           // update ids handled, to drop redeliveries

	me models.User // set by Run before the first update

	// replies tracks deliveries in flight (inflight counts them); sendCtx
	// outlives Run's ctx by ShutdownGrace so that they can finish. Once
	// closed (Run is waiting for them), no new delivery starts.
	replies    sync.WaitGroup
	inflight   atomic.Int64
	mu         sync.Mutex
	closed     bool
	sendCtx    context.Context
	cancelSend context.CancelFunc
}

// allowedUpdates are the update types the adapter asks Telegram for:
// message_reaction only comes to a bot that names it (feedback.go).
var allowedUpdates = []string{models.AllowedUpdateMessage, models.AllowedUpdateEditedMessage,
	models.AllowedUpdateMessageReaction}

// New checks cfg and builds the adapter; it does no I/O (Run does).
func New(cfg Config, h brain.Handler, log *slog.Logger, clock brain.Clock) (*Bot, error) {
	cfg.defaults()
	if strings.TrimSpace(cfg.Token) == "" || strings.ContainsAny(cfg.Token, " \t\r\n/") {
		return nil, fmt.Errorf("telegram: the bot token is empty or malformed")
	}
	if h == nil || log == nil || clock == nil {
		return nil, fmt.Errorf("telegram: handler, logger and clock are required")
	}
	if err := checkURL(cfg.APIURL); err != nil {
		return nil, fmt.Errorf("telegram: API URL: %w", err)
	}
	if cfg.WebhookURL != "" {
		if err := checkURL(cfg.WebhookURL); err != nil {
			return nil, fmt.Errorf("telegram: webhook URL: %w", err)
		}
	}
	b := &Bot{
		cfg: cfg, h: h, log: log, clock: clock,
		pacer:  newPacer(cfg.EditInterval, cfg.GroupPerMinute, cfg.GlobalPerSecond),
		admins: map[int64]bool{},
		secret: cfg.WebhookSecret,
		seen:   newIDSet(recentUpdates),
	}
	// Replies to many chats go out at once: keep a connection for each
	// (Go's default keeps 2 idle ones and dials, with TLS, for the rest).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = maxIdlePerHost
	client := &http.Client{Timeout: cfg.PollTimeout + 15*time.Second, Transport: tr}
	b.http = client
	b.sendCtx, b.cancelSend = context.WithCancel(context.Background())
	for _, id := range cfg.AdminIDs {
		b.admins[id] = true
	}
	if cfg.WebhookURL != "" && b.secret == "" {
		buf := make([]byte, 24)
		_, _ = rand.Read(buf)
		b.secret = hex.EncodeToString(buf)
	}
	opts := []tgbot.Option{
		tgbot.WithServerURL(strings.TrimRight(cfg.APIURL, "/")),
		tgbot.WithSkipGetMe(),
		// The library only sends: the adapter receives updates itself
		// (poll.go, webhook.go), so that an update is confirmed only once
		// it is handled.
		tgbot.WithHTTPClient(cfg.PollTimeout, client),
		tgbot.WithErrorsHandler(func(err error) { b.log.Warn("telegram client", "err", err) }),
	}
	tg, err := tgbot.New(cfg.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("telegram: create client: %w", err)
	}
	b.tg = tg
	return b, nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return nil
}

// Run connects, registers the commands, and handles updates until ctx
// ends; then it gives replies in flight ShutdownGrace to finish. It
// returns an error only when it cannot start. Call it once.
//
// Updates reach the brain one at a time, in Telegram's order, and none
// after ctx ends. Replies are not cut by ctx: they run on their own
// context until they finish or ShutdownGrace passes.
func (b *Bot) Run(ctx context.Context) error {
	me, err := b.connect(ctx)
	if err != nil {
		return err
	}
	b.me = *me
	b.log.Info("telegram connected", "bot", "@"+me.Username, "id", me.ID)
	if err := b.registerCommands(ctx); err != nil {
		b.log.Warn("telegram setMyCommands failed", "err", err)
	}
	if b.cfg.WebhookURL != "" {
		err = b.runWebhook(ctx)
	} else {
		err = b.runPolling(ctx)
	}
	b.drain()
	return err
}

// drain stops new deliveries and waits up to ShutdownGrace for those in
// flight, then cancels what is left.
func (b *Bot) drain() {
	defer b.cancelSend()
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	done := make(chan struct{})
	go func() { b.replies.Wait(); close(done) }()
	grace := time.NewTimer(b.cfg.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		b.log.Warn("telegram replies still in flight at shutdown; cancelling them", "replies", b.inflight.Load())
		b.cancelSend()
		<-done
	}
}

// connect calls getMe until Telegram answers: a service started before
// the network is up waits for it (retrying with backoff up to a minute
// apart) instead of exiting. A token Telegram refuses ends it at once.
func (b *Bot) connect(ctx context.Context) (*models.User, error) {
	wait := time.Second
	for {
		me, err := b.tg.GetMe(ctx)
		if err == nil {
			return me, nil
		}
		if errors.Is(err, tgbot.ErrorUnauthorized) || errors.Is(err, tgbot.ErrorNotFound) {
			return nil, fmt.Errorf("telegram getMe: the bot token was refused (check TELEGRAM_BOT_TOKEN): %w", err)
		}
		b.log.Warn("telegram unreachable; retrying", "in", wait, "err", err)
		if err := b.cfg.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("telegram getMe: %w", err)
		}
		wait = min(2*wait, time.Minute)
	}
}

func (b *Bot) runPolling(ctx context.Context) error {
	if _, err := b.tg.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{}); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return fmt.Errorf("telegram deleteWebhook: %w", err)
	}
	b.log.Info("telegram long polling", "api", b.cfg.APIURL)
	b.poll(ctx)
	return nil
}

// registerCommands publishes the brain's non-admin commands.
func (b *Bot) registerCommands(ctx context.Context) error {
	var cmds []models.BotCommand
	for _, c := range brain.Commands() {
		if c.Admin {
			continue
		}
		desc := c.Description
		if r := []rune(desc); len(r) > 256 {
			desc = string(r[:256])
		}
		cmds = append(cmds, models.BotCommand{Command: strings.ToLower(c.Name), Description: desc})
	}
	rctx, cancel := context.WithTimeout(ctx, b.cfg.RequestTimeout)
	defer cancel()
	if _, err := b.tg.SetMyCommands(rctx, &tgbot.SetMyCommandsParams{Commands: cmds}); err != nil {
		return fmt.Errorf("set commands: %w", err)
	}
	return nil
}

// maxIdlePerHost is how many idle connections to the Bot API the client
// keeps for concurrent sends and edits.
const maxIdlePerHost = 64
