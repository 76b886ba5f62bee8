package brain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Config tunes the Brain.
type Config struct {
	// Base answers when the router is unsure (fallback) or absent.
	Base Expert
	// Experts are the registry's experts, by Name.
	Experts []Expert
	// ContextMessages is how many earlier messages of the conversation the
	// prompt may carry (10–20 works well).
	ContextMessages int
	// NumCtx is the model's context size in tokens, NumPredict the most
	// tokens an answer may take; the prompt gets the rest.
	NumCtx     int
	NumPredict int
	// MaxParallel bounds concurrent model calls; match Ollama's
	// OLLAMA_NUM_PARALLEL.
	MaxParallel int
	// ReplyTimeout bounds one model call.
	ReplyTimeout time.Duration
	// MemoryK is how many long-term memories to recall (default 3).
	MemoryK int
	// MemoryInGroups recalls long-term memories in groups, channels and
	// threads too. Off by default: memories come from private chats as
	// well, and an answer in a group is read by everyone there.
	MemoryInGroups bool
	// MaxQueue is how many messages of one conversation may wait; the rest
	// are stored but not answered (default 20).
	MaxQueue int
}

// Brain turns messages into replies. It is safe for concurrent use.
type Brain struct {
	cfg     Config
	history History
	llm     LLM
	router  Router
	recall  Recall
	forget  Forgetter
	sleeper Sleeper
	obs     Observer
	lister  MemoryLister
	clock   Clock
	log     *slog.Logger

	experts map[string]Expert
	queue   *keyQueue
	slots   chan struct{}
	outbox  *outbox
	wg      sync.WaitGroup

	mu       sync.Mutex
	sessions map[ConvKey]*session
}

// session is what the brain keeps in memory for a conversation.
type session struct {
	forced string    // expert chosen with /expert, "" for auto
	last   *Decision // the last answer's decision
}

// Option configures optional parts of a Brain.
type Option func(*Brain)

// WithRecall adds long-term memory: the top memories of the user are put
// into every prompt.
func WithRecall(r Recall) Option { return func(b *Brain) { b.recall = r } }

// WithForgetter lets /wipe also delete long-term memories.
func WithForgetter(f Forgetter) Option { return func(b *Brain) { b.forget = f } }

// WithMemoryLister lets users see their long-term memories (/memory).
func WithMemoryLister(l MemoryLister) Option { return func(b *Brain) { b.lister = l } }

// WithObserver shows every message the brain keeps (the user's and its
// replies) to o, e.g. for metrics. o is called on the answering goroutine
// and must be quick.
func WithObserver(o Observer) Option { return func(b *Brain) { b.obs = o } }

// Observer sees each record as it is kept, stored or pending.
type Observer interface {
	Observe(r Record)
}

func (b *Brain) observe(r *Record) {
	if b.obs != nil {
		b.obs.Observe(*r)
	}
}

// WithSleeper enables the admins' /sleep command.
func WithSleeper(s Sleeper) Option { return func(b *Brain) { b.sleeper = s } }

// Sleeper runs the night job on demand (/sleep).
type Sleeper interface {
	// Sleep consolidates the day (any time within it, in the job's time
	// zone) and returns a short Turkish report for the admin.
	Sleep(ctx context.Context, day time.Time) (string, error)
}

// Forgetter deletes everything long-term memory keeps of a user.
type Forgetter interface {
	ForgetUser(ctx context.Context, p Platform, userID string) error
}

// New returns a Brain. router may be nil: then the base model answers
// every message.
func New(cfg Config, history History, llm LLM, router Router, clock Clock, log *slog.Logger, opts ...Option) (*Brain, error) {
	if history == nil || llm == nil || clock == nil || log == nil {
		return nil, errors.New("brain: history, llm, clock and log are required")
	}
	if cfg.Base.Model == "" {
		return nil, errors.New("brain: base model is required")
	}
	if cfg.Base.Name == "" {
		cfg.Base.Name = BaseExpert
	}
	if cfg.ContextMessages <= 0 {
		cfg.ContextMessages = 20
	}
	if cfg.NumCtx <= 0 {
		cfg.NumCtx = 8192
	}
	if cfg.NumPredict <= 0 || cfg.NumPredict >= cfg.NumCtx {
		cfg.NumPredict = cfg.NumCtx / 4
	}
	if cfg.MaxParallel <= 0 {
		cfg.MaxParallel = 1
	}
	if cfg.ReplyTimeout <= 0 {
		cfg.ReplyTimeout = 3 * time.Minute
	}
	if cfg.MemoryK <= 0 {
		cfg.MemoryK = 3
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = 20
	}
	b := &Brain{
		cfg:      cfg,
		history:  history,
		llm:      llm,
		router:   router,
		clock:    clock,
		log:      log,
		experts:  map[string]Expert{cfg.Base.Name: cfg.Base},
		queue:    newKeyQueue(),
		slots:    make(chan struct{}, cfg.MaxParallel),
		sessions: map[ConvKey]*session{},
	}
	for _, e := range cfg.Experts {
		if _, dup := b.experts[e.Name]; dup {
			return nil, fmt.Errorf("brain: expert %q defined twice", e.Name)
		}
		b.experts[e.Name] = e
	}
	for _, o := range opts {
		o(b)
	}
	b.outbox = newOutbox(history, log)
	return b, nil
}

var _ Handler = (*Brain)(nil)

// Submit queues m behind earlier messages of the same conversation and
// returns at once; the reply streams into s. Call Submit in the order
// messages arrive.
func (b *Brain) Submit(ctx context.Context, m Message, s Sink) {
	wait, leave, depth := b.queue.enter(m.Key().String())
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer leave()
		select {
		case <-wait:
		case <-ctx.Done():
			s.Done(Reply{Kind: ReplyError, Text: msgModelFailed})
			return
		}
		s.Done(b.handle(ctx, m, s, depth > b.cfg.MaxQueue))
	}()
}

// Handle processes m and blocks until its reply is complete.
func (b *Brain) Handle(ctx context.Context, m Message, s Sink) Reply {
	var r Reply
	done := make(chan struct{})
	b.Submit(ctx, m, FuncSink{OnDelta: s.Delta, OnDone: func(got Reply) {
		r = got
		s.Done(got)
		close(done)
	}})
	<-done
	return r
}

// Wait blocks until every submitted message has its reply, or ctx ends.
func (b *Brain) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pending reports how many user messages wait in memory for the database.
func (b *Brain) Pending() int { return b.outbox.len() }

// handle runs one message to its reply.
func (b *Brain) handle(ctx context.Context, m Message, s Sink, overflow bool) Reply {
	start := b.clock.Now()
	if m.Time.IsZero() {
		m.Time = start
	}
	m.Text = strings.TrimSpace(strings.ToValidUTF8(m.Text, "\uFFFD"))
	m.Text = strings.ReplaceAll(m.Text, "\x00", "")
	if m.Text == "" {
		return Reply{Kind: ReplyCommand, Text: msgEmpty}
	}
	if name, args, ok := parseCommand(m.Text); ok {
		return b.command(ctx, m, name, args)
	}
	log := b.log.With("conv", m.Key().String())

	user := &Record{Key: m.Key(), ChatKind: m.ChatKind, UserName: m.UserName, Role: RoleUser,
		Text: m.Text, PlatformMessageID: m.PlatformMessageID, Time: m.Time}
	err := b.outbox.append(ctx, user)
	b.observe(user)
	if err != nil {
		log.Error("store user message", "err", err, "pending", b.outbox.len())
		return Reply{Kind: ReplyError, Text: msgStoreDown}
	}
	if overflow {
		log.Warn("conversation queue full: message stored, not answered", "max", b.cfg.MaxQueue)
		return Reply{Kind: ReplyError, Text: msgQueueFull}
	}

	history, err := b.context(ctx, m.Key(), user.ID)
	if err != nil {
		log.Error("load context", "err", err)
		if errors.Is(err, ErrStoreUnavailable) {
			return Reply{Kind: ReplyError, Text: msgStoreDown}
		}
		history = nil // answer without context rather than not at all
	}
	dec := b.decide(ctx, m.Key(), m.Text)
	expert := b.experts[dec.Expert]
	memories := b.memories(ctx, m, log)

	p := buildPrompt(promptInput{expert: expert, userName: m.UserName, now: start, memories: memories,
		history: history, text: m.Text, budget: b.cfg.NumCtx - b.cfg.NumPredict})
	if p.dropped > 0 || p.truncated {
		log.Info("prompt trimmed to fit NUM_CTX", "dropped", p.dropped, "truncated", p.truncated)
	}
	prefix := ""
	if p.truncated {
		prefix = msgTruncated
		s.Delta(prefix)
	}

	answer, stats, err := b.generate(ctx, expert, p.messages, s)
	if errors.Is(err, ErrModelNotFound) && answer == "" && expert.Model != b.cfg.Base.Model {
		// The expert's model is not in Ollama yet (experts not synced): the
		// base model answers with the expert's prompt rather than the user
		// getting an error.
		log.Error("expert model missing; the base model answers instead", "expert", expert.Name,
			"model", expert.Model, "hint", "evo experts sync (see evo experts list)", "err", err)
		expert.Model, dec.Model = b.cfg.Base.Model, b.cfg.Base.Model
		answer, stats, err = b.generate(ctx, expert, p.messages, s)
	}
	reply := Reply{Kind: ReplyAnswer, Text: prefix + answer, Decision: &dec}
	failed := false
	if err != nil {
		failed = true
		reply.Kind = ReplyError
		reply.Text = b.explain(err, expert, answer, log)
	} else if strings.TrimSpace(answer) == "" {
		failed = true
		reply.Kind = ReplyError
		reply.Text = msgEmptyAnswer
	}
	b.remember(m.Key(), dec)

	// The stored reply is what the user saw; Failed keeps an error out of
	// later prompts.
	rec := &Record{Key: m.Key(), ChatKind: m.ChatKind, UserName: m.UserName, Role: RoleAssistant,
		Text: reply.Text, Decision: &dec, PromptTokens: stats.PromptTokens, ReplyTokens: stats.ReplyTokens,
		Latency: b.clock.Now().Sub(start), Failed: failed, Time: b.clock.Now()}
	if err := b.outbox.append(ctx, rec); err != nil {
		log.Error("store reply", "err", err)
	}
	b.observe(rec)
	log.Info("answered", "expert", dec.Expert, "model", dec.Model, "confidence", fmt.Sprintf("%.2f", dec.Confidence),
		"fallback", dec.Fallback, "prompt_tokens", stats.PromptTokens, "reply_tokens", stats.ReplyTokens,
		"load", stats.LoadDuration, "latency", rec.Latency, "failed", failed)
	return reply
}

// context loads the earlier messages of the conversation for the prompt.
func (b *Brain) context(ctx context.Context, k ConvKey, currentID int64) ([]Record, error) {
	recs, err := b.history.Recent(ctx, k, b.cfg.ContextMessages+1)
	if err != nil {
		return nil, fmt.Errorf("load context: %w", err)
	}
	out := recs[:0]
	for _, r := range recs {
		if r.ID == currentID || r.Failed || strings.TrimSpace(r.Text) == "" {
			continue
		}
		out = append(out, r)
	}
	if len(out) > b.cfg.ContextMessages {
		out = out[len(out)-b.cfg.ContextMessages:]
	}
	return out, nil
}

// decide picks the expert: the user's forced one, else the router's.
func (b *Brain) decide(ctx context.Context, k ConvKey, text string) Decision {
	b.mu.Lock()
	forced := ""
	if s := b.sessions[k]; s != nil {
		forced = s.forced
	}
	b.mu.Unlock()
	if e, ok := b.experts[forced]; ok && forced != "" {
		return Decision{Expert: e.Name, Model: e.Model, Confidence: 1, Forced: true}
	}
	base := b.cfg.Base
	if b.router == nil {
		return Decision{Expert: base.Name, Model: base.Model, Fallback: true}
	}
	d := b.router.Route(ctx, text)
	if _, ok := b.experts[d.Expert]; !ok {
		b.log.Warn("router chose an unknown expert; base answers", "expert", d.Expert)
		d.Candidate, d.Expert, d.Model, d.Fallback = d.Expert, base.Name, base.Model, true
	}
	return d
}

// recallTimeout bounds the recall of long-term memories for one message.
const recallTimeout = 3 * time.Second

// memories recalls long-term memories; failures only cost the memories.
func (b *Brain) memories(ctx context.Context, m Message, log *slog.Logger) []Memory {
	if b.recall == nil || (m.ChatKind != ChatPrivate && m.ChatKind != "" && !b.cfg.MemoryInGroups) {
		return nil
	}
	// Memories help; they must not hold the answer up when their store
	// hangs.
	ctx, cancel := context.WithTimeout(ctx, recallTimeout)
	defer cancel()
	mem, err := b.recall.Top(ctx, m.Platform, m.UserID, m.Text, b.cfg.MemoryK)
	if err != nil {
		log.Warn("recall memories", "err", err)
		return nil
	}
	return mem
}

// generate streams the model's answer into s within the parallel bound.
func (b *Brain) generate(ctx context.Context, e Expert, msgs []ChatMessage, s Sink) (string, ChatStats, error) {
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return "", ChatStats{}, ctx.Err()
	}
	defer func() { <-b.slots }()
	ctx, cancel := context.WithTimeout(ctx, b.cfg.ReplyTimeout)
	defer cancel()
	var out strings.Builder
	stats, err := b.llm.Chat(ctx, ChatRequest{Model: e.Model, Messages: msgs, Options: e.Options}, func(delta string) error {
		if delta == "" {
			return nil
		}
		if !utf8.ValidString(delta) {
			delta = strings.ToValidUTF8(delta, "")
		}
		out.WriteString(delta)
		s.Delta(delta)
		return nil
	})
	return out.String(), stats, err
}

// explain turns a model failure into the user's Turkish message and a log
// line that says what to do.
func (b *Brain) explain(err error, e Expert, partial string, log *slog.Logger) string {
	var text string
	switch {
	case errors.Is(err, ErrModelNotFound):
		log.Error("model missing: create or pull it", "model", e.Model,
			"hint", fmt.Sprintf("ollama pull %s  (experts: evo experts sync)", e.Model), "err", err)
		text = fmt.Sprintf(msgModelMissing, e.Model)
	case errors.Is(err, ErrModelUnavailable):
		log.Error("ollama unreachable: is it running? (ollama serve; check OLLAMA_HOST)", "err", err)
		text = msgModelDown
	case errors.Is(err, context.DeadlineExceeded):
		log.Error("model timed out (REPLY_TIMEOUT)", "model", e.Model, "err", err)
		text = msgTimeout
	default:
		log.Error("model failed", "model", e.Model, "err", err)
		text = msgModelFailed
	}
	if strings.TrimSpace(partial) != "" {
		return partial + msgInterrupted + "\n\n" + text
	}
	return text
}

// remember keeps the last decision of a conversation for /why.
func (b *Brain) remember(k ConvKey, d Decision) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sessionLocked(k).last = &d
}

// Flush writes the messages kept in memory while the database was down.
func (b *Brain) Flush(ctx context.Context) error { return b.outbox.Flush(ctx) }

// sessionLocked returns the conversation's session, made on first use;
// b.mu is held.
func (b *Brain) sessionLocked(k ConvKey) *session {
	s := b.sessions[k]
	if s == nil {
		s = &session{}
		b.sessions[k] = s
	}
	return s
}
