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

// Submit stores m (a user message, not a command) before it returns —
// in the database, or in the spool when the database cannot take it — then
// queues it behind earlier messages of the same conversation; the reply
// streams into s. Call Submit in the order messages arrive. ctx bounds
// nothing but is passed on for its values: a message submitted is stored
// and answered even when ctx ends (Shutdown bounds the replies).
func (b *Brain) Submit(ctx context.Context, m Message, s Sink) {
	m = b.normalize(m)
	if r := b.admit(ctx, m); r != nil { // strangers: nothing stored
		s.Done(*r)
		return
	}
	var user *Record
	if b.isUserMessage(m) {
		var r *Reply
		if user, r = b.arrive(ctx, &m); r != nil {
			s.Done(*r)
			return
		}
		if r = b.throttle(ctx, m, user); r != nil { // stored, not answered
			s.Done(*r)
			return
		}
	}
	b.mu.Lock()
	closing := b.closing
	if !closing {
		b.wg.Add(1)
	}
	b.mu.Unlock()
	if closing {
		s.Done(b.restarting(ctx, m, user, ""))
		return
	}
	key := m.Key().String()
	if user != nil && b.queue.depth(key) >= b.cfg.MaxQueue {
		// The notice goes out now, not after the backlog.
		defer b.wg.Done()
		b.log.Warn("conversation queue full: message stored, not answered", "conv", key, "max", b.cfg.MaxQueue)
		s.Done(b.notice(ctx, user, msgQueueFull))
		return
	}
	wait, leave := b.queue.enter(key)
	go func() {
		defer b.wg.Done()
		defer leave()
		select {
		case <-wait:
		case <-b.life.Done():
			s.Done(b.restarting(b.life, m, user, ""))
			return
		}
		s.Done(b.handle(b.life, m, s, user))
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

// Shutdown stops taking new messages into the queue (they are still
// stored, and answered after the next start), lets the replies in flight and
// queued finish until ctx ends, then cuts the rest: a cut reply is not
// stored as an answer, so the next start answers its message again
// (Resume). It returns ctx's error when it had to cut replies.
func (b *Brain) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	b.closing = true
	b.mu.Unlock()
	err := b.Wait(ctx)
	b.stopLife()
	if err != nil {
		// The cut replies end at once: their model calls are cancelled.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = b.Wait(wctx)
	}
	return err
}

// Pending reports how many records wait in the spool for the database.
func (b *Brain) Pending() int { return b.outbox.len() }

// normalize cleans what an adapter passed on: valid UTF-8, no NULs, no
// surrounding space, a time.
func (b *Brain) normalize(m Message) Message {
	if m.Time.IsZero() {
		m.Time = b.clock.Now()
	}
	m.Text = strings.TrimSpace(strings.ToValidUTF8(m.Text, "\uFFFD"))
	m.Text = strings.ReplaceAll(m.Text, "\x00", "")
	return m
}

// isUserMessage tells whether m is stored: not empty, not a command.
func (b *Brain) isUserMessage(m Message) bool {
	if m.Text == "" {
		return false
	}
	_, _, cmd := parseCommand(m.Text)
	return !cmd
}

// arrive stores a user message on arrival and gives it its Ref. It returns
// the record, or the reply to send at once instead of queueing m: nothing
// for a redelivery, the truth when it could not be stored. A resumed
// message is stored already.
func (b *Brain) arrive(ctx context.Context, m *Message) (*Record, *Reply) {
	start := b.clock.Now()
	if m.Ref == "" {
		m.Ref = newRef(*m)
	}
	user := &Record{Key: m.Key(), ChatKind: m.ChatKind, UserName: m.UserName, Handle: m.Handle, Role: RoleUser,
		Text: m.Text, PlatformMessageID: m.PlatformMessageID, Time: m.Time, Ref: m.Ref}
	// A message this process has taken already is being answered (or was):
	// a redelivery, or a Resume racing the live delivery, adds nothing.
	if !b.seen.add(m.Key().Platform, m.ChatID, m.Ref) {
		b.log.Info("message delivered again; answered already", "conv", m.Key().String(), "ref", m.Ref)
		return nil, &Reply{Kind: ReplyNone}
	}
	if m.Resumed {
		b.stages.begin(b.clock, user, start, time.Time{})
		return user, nil
	}
	where, err := b.outbox.append(ctx, user)
	switch {
	case err != nil:
		b.log.Error("store user message: it is lost", "conv", m.Key().String(), "err", err)
		return nil, &Reply{Kind: ReplyError, Text: msgNotStored}
	case where == storedDuplicate:
		// Stored by an earlier run: Resume answers it if that run did not.
		b.seen.remove(m.Key().Platform, m.ChatID, m.Ref)
		b.log.Info("message delivered again; stored already", "conv", m.Key().String(), "ref", m.Ref)
		return nil, &Reply{Kind: ReplyNone}
	}
	b.observe(user)
	if where == storedSpool {
		b.log.Warn("database unavailable: message kept in the spool", "conv", m.Key().String(), "pending", b.outbox.len())
		r := b.notice(ctx, user, msgStoreDown)
		return nil, &r
	}
	b.stages.begin(b.clock, user, start, b.clock.Now())
	return user, nil
}

// notice stores text as the (failed) reply to user, so that a restart does
// not answer user again, and returns it as the reply to send.
func (b *Brain) notice(ctx context.Context, user *Record, text string) Reply {
	b.stages.drop(user)
	rec := &Record{Key: user.Key, ChatKind: user.ChatKind, UserName: user.UserName, Role: RoleAssistant,
		Text: text, Failed: true, Time: b.clock.Now(), Ref: "a:" + user.Ref, ReplyTo: user.Ref}
	if _, err := b.outbox.append(ctx, rec); err != nil {
		b.log.Error("store reply", "conv", user.Key.String(), "err", err)
	}
	b.observe(rec)
	return Reply{Kind: ReplyError, Text: text}
}

// restarting is the reply to a stored message the shutdown left
// unanswered: the next start answers it. partial is what had streamed.
func (b *Brain) restarting(ctx context.Context, m Message, user *Record, partial string) Reply {
	b.stages.drop(user)
	if user == nil { // a command: nothing was stored, nothing will follow
		return Reply{Kind: ReplyError, Text: partial + msgRestartCmd}
	}
	if strings.TrimSpace(partial) != "" {
		partial += "\n\n"
	}
	return Reply{Kind: ReplyError, Text: partial + msgRestarting}
}

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
