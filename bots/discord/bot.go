// Package discord is EVO-TR's Discord adapter, built on discordgo: it
// answers mentions, replies and DMs through the brain, streams the answer
// by editing its reply, splits long answers without breaking code blocks,
// never pings @everyone, @here or roles, and registers the brain's commands
// as slash commands.
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/evo-tr/evo/brain"
)

// Intents the bot asks for: guild and direct messages, their content
// (privileged: enable it for the bot in Discord's developer portal), and
// guilds, whose GUILD_CREATE events fill discordgo's state with channels
// and threads so that telling a thread from a channel needs no API call.
const Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages |
	discordgo.IntentsDirectMessages | discordgo.IntentMessageContent |
	discordgo.IntentsGuildMessageReactions | discordgo.IntentsDirectMessageReactions // feedback.go

// Defaults for Config's zero values.
const (
	DefaultEditInterval   = time.Second
	DefaultTypingInterval = 8 * time.Second
	DefaultMaxParts       = 10
	DefaultShutdownGrace  = 5 * time.Second
)

// eventQueue bounds the gateway events waiting to be handled.
const eventQueue = 256

// Config configures a Bot.
type Config struct {
	// Token is the bot token, with or without the "Bot " prefix.
	Token string
	// AdminIDs are the user ids whose messages are marked admin.
	AdminIDs []string
	// EditInterval is the least time between two edits of a streamed
	// reply; default 1 s.
	EditInterval time.Duration
	// TypingInterval is how often the typing indicator is renewed while
	// an answer is generated; default 8 s (it lasts about 10).
	TypingInterval time.Duration
	// MaxParts caps the messages of one reply; default 10.
	MaxParts int
	// HTTPClient replaces discordgo's REST client (20 s timeout), if set.
	HTTPClient *http.Client
	// ShutdownGrace is how long Run waits, once its ctx ends, for replies
	// in flight to be delivered before it cancels them; default 5 s.
	ShutdownGrace time.Duration
}

// Bot connects the brain to Discord. Point discordgo at the API with
// SetEndpoints before Run.
type Bot struct {
	cfg    Config
	h      brain.Handler
	log    *slog.Logger
	clock  brain.Clock
	admins map[string]bool

	ran    atomic.Bool
	events chan func(context.Context)
	// connected is closed once Run has connected; stopped once Run stops
	// taking events (or failed to connect).
	connected chan struct{}
	stopped   chan struct{}
	// replies tracks deliveries in flight (see track); Run waits for them
	// for up to ShutdownGrace.
	replies sync.WaitGroup
	// lanes order the messages of each channel (handleMessage runs off
	// the event loop).
	lanes lanes

	mu   sync.Mutex
	self string // the bot's user id
	// session is set once Run has connected; sendCtx outlives Run's ctx
	// by ShutdownGrace so that replies in flight can finish.
	session *discordgo.Session
	sendCtx context.Context
	appID   string
	kinds   map[string]brain.ChatKind
	// closing is set when Run stops taking events: no reply starts after.
	closing bool
	// rolesAsked is when the API was last asked for the bot's roles, by
	// guild: the state can miss a role given after start.
	rolesAsked map[string]time.Time
}

// New checks cfg and returns a Bot; Run connects it.
func New(cfg Config, h brain.Handler, log *slog.Logger, clock brain.Clock) (*Bot, error) {
	cfg.Token = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(cfg.Token), "Bot "))
	switch {
	case cfg.Token == "":
		return nil, errors.New("discord: empty bot token")
	case h == nil || log == nil || clock == nil:
		return nil, errors.New("discord: nil handler, logger or clock")
	case cfg.EditInterval < 0 || cfg.TypingInterval < 0 || cfg.MaxParts < 0 || cfg.ShutdownGrace < 0:
		return nil, errors.New("discord: negative interval, grace or part count")
	}
	if cfg.EditInterval == 0 {
		cfg.EditInterval = DefaultEditInterval
	}
	if cfg.TypingInterval == 0 {
		cfg.TypingInterval = DefaultTypingInterval
	}
	if cfg.MaxParts == 0 {
		cfg.MaxParts = DefaultMaxParts
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	cfg.MaxParts = max(cfg.MaxParts, 2)
	admins := map[string]bool{}
	for _, id := range cfg.AdminIDs {
		if id = strings.TrimSpace(id); id != "" {
			admins[id] = true
		}
	}
	return &Bot{
		cfg: cfg, h: h, log: log, clock: clock, admins: admins,
		events:    make(chan func(context.Context), eventQueue),
		connected: make(chan struct{}),
		stopped:   make(chan struct{}),
		sendCtx:   context.Background(),
		kinds:     map[string]brain.ChatKind{},
	}, nil
}

// Run connects to the gateway, registers the slash commands and answers
// messages until ctx ends. Then no further event reaches the brain, and
// the replies in flight (which run on a context that outlives ctx) get
// ShutdownGrace to be delivered before they are cancelled; then Run closes
// the connection. Gateway losses are retried (resuming the session) and
// logged. A Bot runs once.
func (b *Bot) Run(ctx context.Context) error {
	if !b.ran.CompareAndSwap(false, true) {
		return errors.New("discord: bot already ran")
	}
	s, err := discordgo.New("Bot " + b.cfg.Token)
	if err != nil {
		return fmt.Errorf("discord session: %w", err)
	}
	s.Identify.Intents = Intents
	// Events are handed to one queue in gateway order; handlers never block.
	s.SyncEvents = true
	s.Client = b.cfg.HTTPClient
	if s.Client == nil {
		s.Client = restClient()
	}
	s.AddHandler(b.onReady)
	s.AddHandler(b.onConnect)
	s.AddHandler(b.onDisconnect)
	s.AddHandler(b.onResumed)
	s.AddHandler(b.onRateLimit)
	s.AddHandler(b.onMessageCreate)
	s.AddHandler(b.onReactionAdd)
	s.AddHandler(b.onInteractionCreate)
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSend()
	if err := b.open(ctx, s); err != nil {
		b.stop()
		return err
	}
	b.mu.Lock()
	b.session, b.sendCtx = s, sendCtx
	b.mu.Unlock()
	close(b.connected)
	b.log.Info("discord: connected", "user_id", b.selfID())
	b.registerCommands(ctx, s)
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case ev := <-b.events:
			if ctx.Err() != nil {
				b.log.Debug("discord: shutting down; event ignored")
				break
			}
			b.safely("handle event", func() { ev(ctx) })
		}
	}
	b.stop()
	for queued := true; queued; {
		select {
		case <-b.events:
			b.log.Debug("discord: shutting down; event ignored")
		default:
			queued = false
		}
	}
	b.drain(cancelSend)
	if err := s.Close(); err != nil {
		return fmt.Errorf("close discord gateway: %w", err)
	}
	b.log.Info("discord: stopped")
	return nil
}

// stop makes the bot take no further event or reply.
func (b *Bot) stop() {
	b.mu.Lock()
	b.closing = true
	b.mu.Unlock()
	close(b.stopped)
}

// drain waits for the replies in flight, for up to ShutdownGrace; then it
// cancels them with cancel and waits for them to return.
func (b *Bot) drain(cancel context.CancelFunc) {
	done := make(chan struct{})
	go func() { b.replies.Wait(); close(done) }()
	t := time.NewTimer(b.cfg.ShutdownGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		b.log.Warn("discord: replies still in flight at shutdown; cancelling them", "grace", b.cfg.ShutdownGrace)
		cancel()
		<-done
	}
}

// track runs f on its own goroutine, counted in b.replies, and reports
// true; once Run stops taking events it runs nothing and reports false.
func (b *Bot) track(what string, f func()) bool {
	b.mu.Lock()
	if b.closing {
		b.mu.Unlock()
		return false
	}
	// Under b.mu, so that every Add happens before Run's Wait.
	b.replies.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.replies.Done()
		b.safely(what, f)
	}()
	return true
}

// delivery returns the session (nil before Run connects) and the context
// replies run on.
func (b *Bot) delivery() (*discordgo.Session, context.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.session, b.sendCtx
}

// safely runs f, logging a panic instead of crashing the service.
func (b *Bot) safely(what string, f func()) {
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("discord: panic", "in", what, "panic", p)
		}
	}()
	f()
}

// enqueue hands an event to Run's loop, in gateway order.
func (b *Bot) enqueue(ev func(context.Context)) {
	select {
	case <-b.stopped:
		b.log.Debug("discord: shutting down; event ignored")
		return
	default:
	}
	select {
	case b.events <- ev:
	case <-b.stopped:
		b.log.Debug("discord: shutting down; event ignored")
	}
}

func (b *Bot) selfID() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.self
}

// onReady runs inside discordgo's Open, with the session locked: it only
// records who the bot is.
func (b *Bot) onReady(_ *discordgo.Session, r *discordgo.Ready) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.User != nil {
		b.self = r.User.ID
		b.appID = r.User.ID
	}
	if r.Application != nil && r.Application.ID != "" {
		b.appID = r.Application.ID
	}
}

func (b *Bot) onConnect(*discordgo.Session, *discordgo.Connect) {
	b.log.Info("discord: gateway connected")
}

func (b *Bot) onDisconnect(*discordgo.Session, *discordgo.Disconnect) {
	b.mu.Lock()
	closing := b.closing
	b.mu.Unlock()
	if closing {
		return
	}
	b.log.Warn("discord: gateway connection lost; reconnecting")
}

func (b *Bot) onResumed(*discordgo.Session, *discordgo.Resumed) {
	b.log.Info("discord: gateway session resumed")
}

func (b *Bot) onRateLimit(_ *discordgo.Session, r *discordgo.RateLimit) {
	b.log.Warn("discord: rate limited; retrying", "url", r.URL, "retry_after", r.RetryAfter)
}

func (b *Bot) onMessageCreate(s *discordgo.Session, e *discordgo.MessageCreate) {
	m := e.Message
	if m == nil || m.Author == nil || m.Author.Bot || m.WebhookID != "" {
		return
	}
	if m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply {
		return
	}
	b.enqueue(func(ctx context.Context) {
		// In gateway order per channel, channels side by side.
		wait, leave := b.lanes.enter(m.ChannelID)
		ok := b.track("message", func() {
			defer leave()
			<-wait
			if ctx.Err() != nil {
				b.log.Debug("discord: shutting down; event ignored")
				return
			}
			b.handleMessage(ctx, s, m)
		})
		if !ok {
			leave()
		}
	})
}

// handleMessage submits a message addressed to the bot to the brain.
func (b *Bot) handleMessage(ctx context.Context, s *discordgo.Session, m *discordgo.Message) {
	self := b.selfID()
	if m.Author.ID == self {
		return
	}
	private := m.GuildID == ""
	mentioned := mentions(m, self)
	var roles []string
	if !private && len(m.MentionRoles) > 0 {
		// Typing @EVO often picks the bot's integration role: a mention
		// of a role the bot holds addresses the bot.
		var byRole bool
		roles, byRole = b.roleMentioned(ctx, s, m, self)
		mentioned = mentioned || byRole
	}
	if !private && !mentioned {
		return
	}
	kind := brain.ChatPrivate
	if !private {
		kind = b.chatKind(ctx, s, m.ChannelID)
	}
	name := memberName(m.Author, m.Member)
	msg := brain.Message{
		Platform:          brain.PlatformDiscord,
		ChatID:            m.ChannelID,
		ChatKind:          kind,
		UserID:            m.Author.ID,
		UserName:          name,
		Handle:            m.Author.Username,
		Text:              plainText(m, self, roles, stateNames{s}),
		PlatformMessageID: m.ID,
		Mentioned:         mentioned,
		Admin:             b.admins[m.Author.ID],
		Time:              b.clock.Now(),
	}
	b.log.Debug("discord: message", "chat_id", msg.ChatID, "kind", kind, "user_id", msg.UserID)
	ref := &discordgo.MessageReference{MessageID: m.ID, ChannelID: m.ChannelID, GuildID: m.GuildID}
	b.submit(ctx, msg, channelTarget{s: s, channelID: m.ChannelID, replyTo: ref})
}

// submit starts the reply's goroutine and hands the message to the brain,
// unless ctx (Run's) has ended meanwhile. The reply and the brain's work
// run on the send context, which outlives ctx by ShutdownGrace.
func (b *Bot) submit(ctx context.Context, msg brain.Message, out target) {
	if ctx.Err() != nil {
		b.log.Debug("discord: shutting down; event ignored")
		return
	}
	_, sendCtx := b.delivery()
	r := newReply(b.cfg, out, b.log.With("chat_id", msg.ChatID, "message_id", msg.PlatformMessageID))
	r.delivered = func(ctx context.Context, ref string, ids []string) { b.delivered(ctx, msg.ChatID, ref, ids) }
	if !b.track("reply", func() { r.run(sendCtx) }) {
		b.log.Debug("discord: shutting down; event ignored")
		return
	}
	b.h.Submit(sendCtx, msg, r)
}

// chatKind tells a guild channel from a thread, from the state or the API.
func (b *Bot) chatKind(ctx context.Context, s *discordgo.Session, channelID string) brain.ChatKind {
	b.mu.Lock()
	kind, ok := b.kinds[channelID]
	b.mu.Unlock()
	if ok {
		return kind
	}
	c, err := s.State.Channel(channelID)
	if err != nil {
		if c, err = s.Channel(channelID, discordgo.WithContext(ctx)); err != nil {
			b.log.Warn("discord: look up channel", "channel_id", channelID, "err", err)
			return brain.ChatGroup
		}
	}
	kind = brain.ChatGroup
	if c.IsThread() {
		kind = brain.ChatThread
	}
	b.mu.Lock()
	b.kinds[channelID] = kind
	b.mu.Unlock()
	return kind
}

// stateNames resolves names from discordgo's state cache.
type stateNames struct{ s *discordgo.Session }

func (n stateNames) roleName(guildID, roleID string) string {
	if r, err := n.s.State.Role(guildID, roleID); err == nil {
		return r.Name
	}
	return ""
}

func (n stateNames) channelName(channelID string) string {
	if c, err := n.s.State.Channel(channelID); err == nil {
		return c.Name
	}
	return ""
}

// open connects to the gateway, waiting for Discord with backoff (up to a
// minute apart) when it cannot be reached: a service started before the
// network is up waits instead of exiting. A token Discord refuses ends it
// at once.
func (b *Bot) open(ctx context.Context, s *discordgo.Session) error {
	wait := time.Second
	for {
		_, err := s.User("@me", discordgo.WithContext(ctx))
		if refused(err) {
			return fmt.Errorf("discord refused the bot token (check DISCORD_BOT_TOKEN): %w", err)
		}
		if err == nil {
			if err = s.Open(); err == nil {
				return nil
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("open discord gateway: %w", ctx.Err())
		}
		b.log.Warn("discord unreachable; retrying", "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("open discord gateway: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}

// refused reports whether Discord rejected the token (HTTP 401).
func refused(err error) bool {
	var re *discordgo.RESTError
	return errors.Is(err, discordgo.ErrUnauthorized) ||
		errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized
}

// rolesRecheck is how often the API may be asked for the bot's roles in a
// guild when a role mention does not match what the state holds.
const rolesRecheck = 10 * time.Minute

// roleMentioned reports whether m mentions a role the bot holds, and the
// bot's roles in m's guild. The roles come from the state (GUILD_CREATE
// lists the bot's own member); on a miss the API is asked, at most every
// rolesRecheck per guild.
func (b *Bot) roleMentioned(ctx context.Context, s *discordgo.Session, m *discordgo.Message, self string) ([]string, bool) {
	hit := func(roles []string) bool {
		return slices.ContainsFunc(m.MentionRoles, func(r string) bool { return slices.Contains(roles, r) })
	}
	var roles []string
	if mem, err := s.State.Member(m.GuildID, self); err == nil && mem != nil {
		roles = mem.Roles
		if hit(roles) {
			return roles, true
		}
	}
	b.mu.Lock()
	if b.rolesAsked == nil {
		b.rolesAsked = map[string]time.Time{}
	}
	last, asked := b.rolesAsked[m.GuildID]
	now := b.clock.Now()
	if asked && now.Sub(last) < rolesRecheck {
		b.mu.Unlock()
		return roles, false
	}
	b.rolesAsked[m.GuildID] = now
	b.mu.Unlock()
	mem, err := s.GuildMember(m.GuildID, self, discordgo.WithContext(ctx))
	if err != nil {
		b.log.Debug("discord: own roles unknown", "guild_id", m.GuildID, "err", err)
		return roles, false
	}
	mem.GuildID = m.GuildID
	if mem.User == nil {
		mem.User = &discordgo.User{ID: self}
	}
	_ = s.State.MemberAdd(mem)
	return mem.Roles, hit(mem.Roles)
}

// maxIdlePerHost keeps a connection to Discord's REST API for each reply
// in flight: Go's default keeps 2 idle ones, and 50 users talking at once
// dialled (and, against discord.com, shook hands over TLS) for the rest.
const maxIdlePerHost = 64

// restClient is the REST client: discordgo's 20 s timeout, with idle
// connections kept for concurrent replies.
func restClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = maxIdlePerHost
	return &http.Client{Timeout: 20 * time.Second, Transport: tr}
}
