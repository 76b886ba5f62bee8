package brain

import (
	"context"
	"strings"
	"time"
)

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
