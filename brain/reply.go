package brain

import (
	"context"
	"strings"
	"sync"
)

// ReplyKind tells an adapter what a reply is.
type ReplyKind string

// Reply kinds.
const (
	// ReplyAnswer is a model's answer.
	ReplyAnswer ReplyKind = "answer"
	// ReplyCommand is the answer to a command.
	ReplyCommand ReplyKind = "command"
	// ReplyError is a Turkish message telling the user something failed.
	ReplyError ReplyKind = "error"
	// ReplyNone means there is nothing to send: the message was a
	// redelivery of one already handled. The adapter shows nothing (and
	// removes whatever it showed while waiting).
	ReplyNone ReplyKind = "none"
)

// Reply is the final reply to one message. Text is Markdown (fenced code
// blocks, **bold**, `code`); the adapter renders and splits it.
type Reply struct {
	Kind     ReplyKind
	Text     string
	Decision *Decision
	// Private marks a reply that shows the user's own data (/memory,
	// /forget, /export): adapters that can show a reply to one person only
	// (Discord's ephemeral slash-command responses) do so.
	Private bool
	// File, when set, is sent with the reply as a document (Telegram's
	// sendDocument, a Discord attachment).
	File *File
	// Ref is, on a model's answer (ReplyAnswer), the answer's stored Ref
	// ("a:<user message ref>"): the adapter reports the messages that
	// showed it (Brain.Delivered), so that reactions on them find it.
	Ref string
}

// File is a document sent with a reply.
type File struct {
	Name string // e.g. "evo-export.json"
	MIME string // e.g. "application/json"
	Data []byte
}

// Sink receives a reply as it is generated. The brain calls Delta zero or
// more times, in order, from one goroutine, then Done exactly once. The
// concatenated deltas may differ from the final text (for example when the
// model fails half-way): the final text is what the user must end up with.
type Sink interface {
	// Delta appends a piece of Markdown to the reply being shown.
	Delta(text string)
	// Done delivers the final reply.
	Done(r Reply)
}

// Handler is what an adapter needs from the brain: it takes a message,
// queues it behind earlier messages of the same conversation, and returns
// at once; the reply arrives on the sink.
type Handler interface {
	Submit(ctx context.Context, m Message, s Sink)
}

// FuncSink adapts two functions to a Sink; nil functions are skipped.
type FuncSink struct {
	OnDelta func(string)
	OnDone  func(Reply)
}

// Delta calls OnDelta.
func (f FuncSink) Delta(s string) {
	if f.OnDelta != nil {
		f.OnDelta(s)
	}
}

// Done calls OnDone.
func (f FuncSink) Done(r Reply) {
	if f.OnDone != nil {
		f.OnDone(r)
	}
}

// Collector is a Sink that keeps everything it is given; safe for
// concurrent use. Adapters embed it: the brain writes into it while the
// adapter's own goroutine wakes on Changed and shows a Snapshot at its own
// pace. Deltas after Done are ignored; so is a second Done.
type Collector struct {
	mu     sync.Mutex
	deltas strings.Builder
	reply  *Reply
	done   chan struct{}
	wake   chan struct{}
}

// NewCollector returns an empty Collector.
func NewCollector() *Collector {
	return &Collector{done: make(chan struct{}), wake: make(chan struct{}, 1)}
}

// Delta records a delta; it never blocks.
func (c *Collector) Delta(s string) {
	c.mu.Lock()
	if c.reply == nil {
		c.deltas.WriteString(s)
	}
	c.mu.Unlock()
	c.Notify()
}

// Done records the reply and releases Wait; it never blocks.
func (c *Collector) Done(r Reply) {
	c.mu.Lock()
	first := c.reply == nil
	if first {
		c.reply = &r
	}
	c.mu.Unlock()
	if first {
		close(c.done)
	}
	c.Notify()
}

// Notify wakes the goroutine waiting on Changed, without blocking: many
// changes between two wake-ups fold into one. Delta and Done call it; an
// adapter calls it to look again at the next turn of its loop.
func (c *Collector) Notify() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Changed receives a value after one or more Delta or Done calls.
func (c *Collector) Changed() <-chan struct{} { return c.wake }

// Snapshot returns what has streamed so far and the final reply, nil until
// Done.
func (c *Collector) Snapshot() (streamed string, final *Reply) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deltas.String(), c.reply
}

// Wait blocks until Done or ctx ends.
func (c *Collector) Wait(ctx context.Context) (Reply, error) {
	select {
	case <-c.done:
		_, r := c.Snapshot()
		return *r, nil
	case <-ctx.Done():
		return Reply{}, ctx.Err()
	}
}

// Streamed returns the concatenated deltas so far.
func (c *Collector) Streamed() string {
	s, _ := c.Snapshot()
	return s
}
