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
	stages  arrivals // timelines from storing to answering: stages.go
	lister  MemoryLister
	auditor Auditor
	reports reportPorts // /stats, /export: stats.go, export.go
	erasing eraseParts  // /forget, /wipe: erase.go
	access  *access     // who may use it (nil: everyone): access.go
	limit   *rateLimit  // messages per user and minute (nil: off): ratelimit.go
	clock   Clock
	log     *slog.Logger

	experts map[string]Expert
	queue   *keyQueue
	slots   *Slots // model calls, shared with the night: slots.go
	spool   Spool
	outbox  *outbox
	seen    *refSet
	wg      sync.WaitGroup

	// life is the context replies run on: Shutdown cancels it once its
	// bound has passed, never the adapters' contexts.
	life     context.Context
	stopLife context.CancelFunc

	// feedback keeps reactions, /iyi and /kotu (nil: off): feedback.go.
	feedback FeedbackStore

	mu       sync.Mutex
	closing  bool
	sessions map[ConvKey]*session
}

// session is what the brain keeps in memory for a conversation.
type session struct {
	forced string    // expert chosen with /expert, "" for auto
	last   *Decision // the last answer's decision
	// lastRef is the last answer's Ref, "" when it failed (/iyi, /kotu).
	lastRef string
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

// WithSpool keeps the records the database cannot take in sp (a file on
// disk in the service) until it can. Without one they wait in memory and
// are lost with the process.
func WithSpool(sp Spool) Option { return func(b *Brain) { b.spool = sp } }

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
		slots:    NewSlots(cfg.MaxParallel),
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
	if err := b.access.valid(); err != nil {
		return nil, err
	}
	if b.spool == nil {
		b.spool = &memSpool{log: log}
	}
	b.outbox = newOutbox(history, b.spool, log)
	b.seen = newRefSet(seenRefs)
	b.life, b.stopLife = context.WithCancel(context.Background())
	return b, nil
}

var _ Handler = (*Brain)(nil)

// handle runs one message to its reply.
func (b *Brain) handle(ctx context.Context, m Message, s Sink, user *Record) Reply {
	start := b.clock.Now()
	if m.Text == "" {
		return Reply{Kind: ReplyCommand, Text: msgEmpty}
	}
	if user == nil {
		name, args, _ := parseCommand(m.Text)
		return b.command(ctx, m, name, args)
	}
	log := b.log.With("conv", m.Key().String())
	tl := b.stages.take(b.clock, user)
	tl.mark(StageQueued)

	history, err := b.context(ctx, m.Key(), user)
	if err != nil {
		log.Error("load context", "err", err)
		if errors.Is(err, ErrStoreUnavailable) {
			return b.notice(ctx, user, msgStoreDown)
		}
		history = nil // answer without context rather than not at all
	}
	tl.mark(StageContext)
	dec := b.decide(ctx, m.Key(), m.Text)
	tl.mark(StageRouted)
	expert := b.experts[dec.Expert]
	memories, recallFailed := b.memories(ctx, m, log)
	tl.mark(StageRecalled)

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

	ts := &tokenSink{Sink: s, clock: b.clock}
	answer, stats, err := b.generate(ctx, expert, p.messages, ts)
	if errors.Is(err, ErrModelNotFound) && answer == "" && expert.Model != b.cfg.Base.Model {
		// The expert's model is not in Ollama yet (experts not synced): the
		// base model answers with the expert's prompt rather than the user
		// getting an error.
		log.Error("expert model missing; the base model answers instead", "expert", expert.Name,
			"model", expert.Model, "hint", "evo experts sync (see evo experts list)", "err", err)
		expert.Model, dec.Model = b.cfg.Base.Model, b.cfg.Base.Model
		answer, stats, err = b.generate(ctx, expert, p.messages, ts)
	}
	ts.marks(tl)
	if err != nil && b.life.Err() != nil {
		// Shutdown cut the reply: it is not stored, so the next start
		// answers the message again.
		log.Warn("reply cut by shutdown; answered again after the restart")
		return b.restarting(ctx, m, user, prefix+answer)
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
	if !failed {
		reply.Ref = "a:" + user.Ref
	}
	b.remember(m.Key(), dec, reply.Ref)

	// The stored reply is what the user saw; Failed keeps an error out of
	// later prompts.
	rec := &Record{Key: m.Key(), ChatKind: m.ChatKind, UserName: m.UserName, Role: RoleAssistant,
		Text: reply.Text, Decision: &dec, PromptTokens: stats.PromptTokens, ReplyTokens: stats.ReplyTokens,
		Latency: b.clock.Now().Sub(start), Failed: failed, Time: b.clock.Now(), Ref: "a:" + user.Ref, ReplyTo: user.Ref}
	if _, err := b.outbox.append(ctx, rec); err != nil {
		log.Error("store reply", "err", err)
	}
	tl.mark(StageReplyStored)
	b.observe(rec)
	tl.s.Expert, tl.s.Failed, tl.s.RecallFailed = dec.Expert, failed, recallFailed
	b.observeStages(tl, log)
	log.Info("answered", "expert", dec.Expert, "model", dec.Model, "confidence", fmt.Sprintf("%.2f", dec.Confidence),
		"fallback", dec.Fallback, "prompt_tokens", stats.PromptTokens, "reply_tokens", stats.ReplyTokens,
		"load", stats.LoadDuration, "latency", rec.Latency, "failed", failed)
	return reply
}

// context loads the earlier messages of the conversation for the prompt.
// Records still in the spool are written first, so that none is missing.
func (b *Brain) context(ctx context.Context, k ConvKey, current *Record) ([]Record, error) {
	if b.spool.Has(k) {
		if err := b.outbox.Flush(ctx); err != nil {
			return nil, fmt.Errorf("load context: %w", err)
		}
	}
	recs, err := b.history.Recent(ctx, k, b.cfg.ContextMessages+1)
	if err != nil {
		return nil, fmt.Errorf("load context: %w", err)
	}
	recs = Thread(recs)
	out := recs[:0]
	for _, r := range recs {
		if (current.ID != 0 && r.ID == current.ID) || (r.Role == RoleUser && r.Ref == current.Ref) ||
			r.Failed || strings.TrimSpace(r.Text) == "" {
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

// memories recalls long-term memories; failures only cost the memories
// (failed reports one).
func (b *Brain) memories(ctx context.Context, m Message, log *slog.Logger) (mem []Memory, failed bool) {
	if b.recall == nil || (m.ChatKind != ChatPrivate && m.ChatKind != "" && !b.cfg.MemoryInGroups) {
		return nil, false
	}
	// Memories help; they must not hold the answer up when their store
	// hangs.
	ctx, cancel := context.WithTimeout(ctx, recallTimeout)
	defer cancel()
	mem, err := b.recall.Top(ctx, m.Platform, m.UserID, m.Text, b.cfg.MemoryK)
	if err != nil {
		log.Warn("recall memories", "err", err)
		return nil, true
	}
	return mem, false
}

// generate streams the model's answer into s within the parallel bound,
// ahead of the night's model calls.
func (b *Brain) generate(ctx context.Context, e Expert, msgs []ChatMessage, s Sink) (string, ChatStats, error) {
	release, err := b.slots.Acquire(ctx, PriorityLive)
	if err != nil {
		return "", ChatStats{}, err
	}
	defer release()
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
func (b *Brain) remember(k ConvKey, d Decision, ref string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sessionLocked(k)
	s.last, s.lastRef = &d, ref
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
