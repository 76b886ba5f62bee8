package telegram

import (
	"context"
	"errors"
	"time"

	"github.com/evo-tr/evo/brain"
)

// emptyReply is shown when the final reply has nothing visible.
const emptyReply = "(Boş bir cevap oluştu; lütfen tekrar dener misin?)"

// reply is the brain.Sink of one message. Delta and Done only record and
// signal; a goroutine (run) shows the reply: "typing…" until the first
// words, a first message as soon as they arrive, edits as more arrive (at
// the pace the pacer allows: one per EditInterval per chat), and at Done
// the exact final text, in as many messages as it needs. A final reply of
// kind brain.ReplyNone sends nothing and deletes what was shown.
type reply struct {
	b     *Bot
	to    target
	quote int // the message to quote in groups, else 0

	*brain.Collector // what the brain wrote; run wakes on its Changed

	shown []shownPart // messages sent so far, in order
	slot  bool        // a pacer slot is already taken for the next call
	last  time.Time   // when the last streaming step was sent
}

type shownPart struct {
	id   int
	html string
}

var _ brain.Sink = (*reply)(nil)

func newReply(b *Bot, to target, quote int) *reply {
	return &reply{b: b, to: to, quote: quote, Collector: brain.NewCollector()}
}

// run shows the reply until it is final, the chat refuses the bot, or ctx
// ends.
func (r *reply) run(ctx context.Context) {
	ticker := time.NewTicker(r.b.cfg.TypingInterval)
	defer ticker.Stop()
	deadline := time.NewTimer(r.b.cfg.MaxReplyTime)
	defer deadline.Stop()
	r.b.typing(ctx, r.to)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if len(r.shown) == 0 {
				r.b.typing(ctx, r.to)
			}
			continue
		case <-deadline.C:
			text, _ := r.Snapshot()
			r.b.log.Warn("telegram reply never completed; delivering what streamed", "chat", r.to.chatID)
			r.Done(brain.Reply{Kind: brain.ReplyError, Text: text})
		case <-r.Changed():
		}
		if _, final := r.Snapshot(); final != nil {
			if final.Kind == brain.ReplyNone {
				r.withdraw(ctx)
			} else {
				r.finish(ctx, final.Text)
				r.b.delivered(ctx, r.to, final.Ref, r.shown)
				r.attach(ctx, final.File)
			}
			return
		}
		if err := r.stream(ctx); err != nil {
			if r.stop(err) {
				return
			}
		}
	}
}

// stream brings the shown messages one step closer to the text streamed
// so far: it sends or edits the first part that differs.
func (r *reply) stream(ctx context.Context) error {
	text, _ := r.Snapshot()
	if next(r.shown, renderParts(text)) < 0 {
		return nil
	}
	// In groups, streaming edits go at a steady pace that keeps the final
	// messages inside the per-minute budget.
	if r.to.group && !r.last.IsZero() {
		for due := r.last.Add(r.b.groupGap()); r.b.clock.Now().Before(due); {
			if err := r.b.cfg.Sleep(ctx, due.Sub(r.b.clock.Now())); err != nil {
				return err
			}
		}
	}
	if err := r.b.pace(ctx, r.to); err != nil {
		return err
	}
	r.slot = true
	text, final := r.Snapshot()
	if final != nil {
		r.Notify() // the slot goes to the final text
		return nil
	}
	parts := renderParts(text)
	i := next(r.shown, parts)
	if i < 0 {
		return nil
	}
	r.last = r.b.clock.Now()
	if err := r.show(ctx, i, parts[i]); err != nil {
		return err
	}
	r.Notify() // more parts may differ
	return nil
}

// finish makes the shown messages exactly the final text.
func (r *reply) finish(ctx context.Context, final string) {
	parts := renderParts(final)
	if len(parts) == 0 {
		parts = []string{escape(emptyReply)}
	}
	for i, p := range parts {
		if i < len(r.shown) && r.shown[i].html == p {
			continue
		}
		if err := r.show(ctx, i, p); err != nil && r.stop(err) {
			return
		}
	}
	for _, extra := range r.shown[min(len(parts), len(r.shown)):] {
		if err := r.b.pace(ctx, r.to); err != nil {
			return
		}
		if err := r.b.remove(ctx, r.to, extra.id); err != nil && r.stop(err) {
			return
		}
	}
	r.shown = r.shown[:min(len(parts), len(r.shown))]
}

// attach sends the reply's file, if any, after its text.
func (r *reply) attach(ctx context.Context, f *brain.File) {
	if f == nil {
		return
	}
	if err := r.b.pace(ctx, r.to); err != nil {
		return
	}
	if err := r.b.sendDocument(ctx, r.to, f); err != nil {
		r.stop(err)
	}
}

// withdraw deletes every message the reply has shown: the brain answered
// brain.ReplyNone (a redelivered message, answered already).
func (r *reply) withdraw(ctx context.Context) {
	for len(r.shown) > 0 {
		if err := r.b.pace(ctx, r.to); err != nil {
			return
		}
		if err := r.b.remove(ctx, r.to, r.shown[0].id); err != nil && r.stop(err) {
			return
		}
		r.shown = r.shown[1:]
	}
}

// show makes message i display html: an edit when it exists, else a new
// message (the first one quoting the user's message in groups).
func (r *reply) show(ctx context.Context, i int, html string) error {
	if !r.slot {
		if err := r.b.pace(ctx, r.to); err != nil {
			return err
		}
	}
	r.slot = false
	if i < len(r.shown) {
		err := r.b.edit(ctx, r.to, r.shown[i].id, html)
		if err == nil {
			r.shown[i].html = html
			return nil
		}
		if !errors.Is(err, errGone) {
			return err
		}
		// The message was deleted: send it again.
		if err := r.b.pace(ctx, r.to); err != nil {
			return err
		}
		id, err := r.b.send(ctx, r.to, html, 0)
		if err != nil {
			return err
		}
		r.shown[i] = shownPart{id: id, html: html}
		return nil
	}
	quote := 0
	if i == 0 {
		quote = r.quote
	}
	id, err := r.b.send(ctx, r.to, html, quote)
	if err != nil {
		return err
	}
	r.shown = append(r.shown, shownPart{id: id, html: html})
	return nil
}

// stop logs err and reports whether the reply must be abandoned.
func (r *reply) stop(err error) bool {
	switch {
	case errors.Is(err, errBlocked):
		r.b.log.Warn("telegram: the user blocked the bot; reply dropped", "chat", r.to.chatID)
		return true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	r.b.log.Error("telegram reply failed", "chat", r.to.chatID, "err", err)
	return false
}

// next returns the index of the first part that is not shown as it
// should be, or -1.
func next(shown []shownPart, parts []string) int {
	for i, p := range parts {
		if i >= len(shown) || shown[i].html != p {
			return i
		}
	}
	return -1
}
