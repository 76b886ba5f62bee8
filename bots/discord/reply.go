package discord

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/evo-tr/evo/bots/markdown"
	"github.com/evo-tr/evo/brain"
)

// MaxMessageLen is Discord's limit on a message, in characters.
const MaxMessageLen = 2000

// Turkish texts of the adapter.
const (
	msgNoAnswer  = "Bir cevap üretemedim; sorunu başka türlü sorar mısın?"
	msgTruncated = "_(Cevabın kalanı çok uzun olduğu için gönderilmedi.)_"
)

// noPings lets a reply notify nobody but the author it replies to: no
// @everyone, @here, role or user mention is parsed.
func noPings() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}, RepliedUser: true}
}

// target is where one reply's messages go.
type target interface {
	// start acknowledges the request, if the platform needs it.
	start(ctx context.Context) error
	typing(ctx context.Context) error
	// send posts part i of the reply and returns its message id.
	send(ctx context.Context, i int, content string) (string, error)
	edit(ctx context.Context, id, content string) error
	remove(ctx context.Context, id string) error
	// placeholder is the id of the message start shows before any part
	// is sent, "" when there is none.
	placeholder() string
}

// sent is a message of the reply as Discord shows it.
type sent struct {
	id, content string
}

// reply is the brain.Sink of one message: it buffers what the brain
// writes and a goroutine shows it, sending the first part at once and
// editing at most once per EditInterval, with the typing indicator
// repeated every TypingInterval until the final text is delivered.
type reply struct {
	cfg Config
	out target
	log *slog.Logger

	*brain.Collector // what the brain wrote; run wakes on its Changed

	// delivered, when set, is told the messages that showed an answer
	// (Reply.Ref): feedback.go.
	delivered func(ctx context.Context, ref string, ids []string)

	// Owned by run.
	msgs      []sent
	lastFlush time.Time
	shown     string
}

var _ brain.Sink = (*reply)(nil)

func newReply(cfg Config, out target, log *slog.Logger) *reply {
	return &reply{cfg: cfg, out: out, log: log, Collector: brain.NewCollector()}
}

// run shows the reply until the final text is delivered or ctx ends.
func (r *reply) run(ctx context.Context) {
	if err := r.out.start(ctx); err != nil {
		r.log.Error("discord: acknowledge command", "err", err)
		return
	}
	r.typing(ctx)
	typing := time.NewTicker(r.cfg.TypingInterval)
	defer typing.Stop()
	var timer *time.Timer
	var timerC <-chan time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-typing.C:
			r.typing(ctx)
			continue
		case <-timerC:
			timerC = nil
		case <-r.Changed():
		}
		text, final := r.Snapshot()
		if final != nil {
			r.finish(ctx, *final)
			return
		}
		if text == r.shown || timerC != nil {
			continue
		}
		if wait := r.cfg.EditInterval - time.Since(r.lastFlush); len(r.msgs) > 0 && wait > 0 {
			timer = time.NewTimer(wait)
			timerC = timer.C
			continue
		}
		r.show(ctx, r.parts(text), false)
		r.shown = text
	}
}

func (r *reply) typing(ctx context.Context) {
	if err := r.out.typing(ctx); err != nil && ctx.Err() == nil {
		r.log.Debug("discord: typing indicator", "err", err)
	}
}

// parts splits text into the messages to show: each under Discord's
// limit with code fences balanced, blank parts dropped, at most MaxParts.
func (r *reply) parts(text string) []string {
	var out []string
	for _, p := range markdown.Split(text, MaxMessageLen, markdown.Runes) {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	if len(out) > r.cfg.MaxParts {
		out = append(out[:r.cfg.MaxParts-1], msgTruncated)
	}
	return out
}

// show makes the reply's messages read parts: it edits the ones that
// changed and sends the missing ones. When final, a failed edit is
// replaced by a new message and messages past the last part are removed.
func (r *reply) show(ctx context.Context, parts []string, final bool) {
	defer func() { r.lastFlush = time.Now() }()
	for i, p := range parts {
		if i < len(r.msgs) {
			if r.msgs[i].content == p {
				continue
			}
			err := r.out.edit(ctx, r.msgs[i].id, p)
			if err == nil {
				r.msgs[i].content = p
				continue
			}
			if ctx.Err() != nil {
				return
			}
			r.log.Error("discord: edit reply", "part", i, "err", err)
			if !final {
				continue
			}
			// The message may be gone: post the part anew.
		}
		id, err := r.out.send(ctx, i, p)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Error("discord: send reply", "part", i, "err", err)
			}
			return
		}
		if i < len(r.msgs) {
			r.msgs[i] = sent{id: id, content: p}
		} else {
			r.msgs = append(r.msgs, sent{id: id, content: p})
		}
	}
	if !final {
		return
	}
	for _, m := range r.msgs[min(len(parts), len(r.msgs)):] {
		if err := r.out.remove(ctx, m.id); err != nil && ctx.Err() == nil {
			r.log.Error("discord: remove stale part", "err", err)
		}
	}
	r.msgs = r.msgs[:min(len(parts), len(r.msgs))]
}

// finish delivers the exact final text, or removes what was shown when
// there is nothing to send (brain.ReplyNone).
func (r *reply) finish(ctx context.Context, rep brain.Reply) {
	if rep.Kind == brain.ReplyNone {
		r.clear(ctx)
		return
	}
	parts := r.parts(rep.Text)
	if len(parts) == 0 {
		parts = []string{msgNoAnswer}
	}
	r.show(ctx, parts, true)
	if r.delivered != nil && rep.Ref != "" && len(r.msgs) > 0 {
		ids := make([]string, len(r.msgs))
		for i, m := range r.msgs {
			ids[i] = m.id
		}
		r.delivered(ctx, rep.Ref, ids)
	}
	if rep.File != nil {
		r.attach(ctx, rep.File)
	}
}

// attacher is a target that can send a file (a Discord attachment).
type attacher interface {
	attach(ctx context.Context, f *brain.File) error
}

// attach sends the reply's file after its text.
func (r *reply) attach(ctx context.Context, f *brain.File) {
	a, ok := r.out.(attacher)
	if !ok {
		r.log.Error("discord: this reply cannot carry a file; dropped", "file", f.Name)
		return
	}
	if err := a.attach(ctx, f); err != nil && ctx.Err() == nil {
		r.log.Error("discord: send file", "file", f.Name, "err", err)
	}
}

// discordFile is f as discordgo uploads it (multipart, files[0]).
func discordFile(f *brain.File) []*discordgo.File {
	return []*discordgo.File{{Name: f.Name, ContentType: f.MIME, Reader: bytes.NewReader(f.Data)}}
}

// clear removes every message the reply showed, the placeholder included.
func (r *reply) clear(ctx context.Context) {
	ids := make([]string, 0, len(r.msgs)+1)
	for _, m := range r.msgs {
		ids = append(ids, m.id)
	}
	if p := r.out.placeholder(); p != "" && !slices.Contains(ids, p) {
		ids = append(ids, p)
	}
	r.log.Debug("discord: nothing to send (a message handled already)", "removed", len(ids))
	for _, id := range ids {
		if err := r.out.remove(ctx, id); err != nil && ctx.Err() == nil {
			r.log.Error("discord: remove reply", "err", err)
		}
	}
	r.msgs = nil
}

// channelTarget posts a reply in a channel, answering the user's message.
type channelTarget struct {
	s         *discordgo.Session
	channelID string
	replyTo   *discordgo.MessageReference
}

func (t channelTarget) start(context.Context) error { return nil }

func (t channelTarget) typing(ctx context.Context) error {
	return t.s.ChannelTyping(t.channelID, discordgo.WithContext(ctx))
}

func (t channelTarget) send(ctx context.Context, i int, content string) (string, error) {
	ms := &discordgo.MessageSend{Content: content, AllowedMentions: noPings()}
	if i == 0 {
		ms.Reference = t.replyTo
	}
	m, err := t.s.ChannelMessageSendComplex(t.channelID, ms, discordgo.WithContext(ctx))
	if err != nil {
		return "", err
	}
	return m.ID, nil
}

func (t channelTarget) edit(ctx context.Context, id, content string) error {
	_, err := t.s.ChannelMessageEditComplex(&discordgo.MessageEdit{
		ID: id, Channel: t.channelID, Content: &content, AllowedMentions: noPings(),
	}, discordgo.WithContext(ctx))
	return err
}

func (t channelTarget) remove(ctx context.Context, id string) error {
	return t.s.ChannelMessageDelete(t.channelID, id, discordgo.WithContext(ctx))
}

func (t channelTarget) placeholder() string { return "" }

func (t channelTarget) attach(ctx context.Context, f *brain.File) error {
	_, err := t.s.ChannelMessageSendComplex(t.channelID, &discordgo.MessageSend{
		Files: discordFile(f), AllowedMentions: noPings(),
	}, discordgo.WithContext(ctx))
	return err
}

// interactionTarget answers a slash command: a deferred response, then
// the first part as the response and the rest as follow-ups.
type interactionTarget struct {
	s  *discordgo.Session
	it *discordgo.Interaction
	// ephemeral answers so that only the user sees it (a private
	// command's reply), from the deferred response on.
	ephemeral bool
}

// flags are the message flags of every response and follow-up.
func (t interactionTarget) flags() discordgo.MessageFlags {
	if t.ephemeral {
		return discordgo.MessageFlagsEphemeral
	}
	return 0
}

// original names the interaction's response message.
const original = "@original"

func (t interactionTarget) start(ctx context.Context) error {
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
	if t.ephemeral {
		// The edits of the deferred response inherit the flag.
		resp.Data = &discordgo.InteractionResponseData{Flags: t.flags()}
	}
	return t.s.InteractionRespond(t.it, resp, discordgo.WithContext(ctx))
}

func (t interactionTarget) typing(context.Context) error { return nil }

// placeholder is the deferred response ("EVO is thinking…").
func (t interactionTarget) placeholder() string { return original }

func (t interactionTarget) send(ctx context.Context, i int, content string) (string, error) {
	if i == 0 {
		return original, t.edit(ctx, original, content)
	}
	m, err := t.s.FollowupMessageCreate(t.it, true, &discordgo.WebhookParams{
		Content: content, AllowedMentions: noPings(), Flags: t.flags(),
	}, discordgo.WithContext(ctx))
	if err != nil {
		return "", err
	}
	return m.ID, nil
}

// attach sends the file as a follow-up, as private as the response.
func (t interactionTarget) attach(ctx context.Context, f *brain.File) error {
	_, err := t.s.FollowupMessageCreate(t.it, true, &discordgo.WebhookParams{
		Files: discordFile(f), AllowedMentions: noPings(), Flags: t.flags(),
	}, discordgo.WithContext(ctx))
	return err
}

func (t interactionTarget) edit(ctx context.Context, id, content string) error {
	e := &discordgo.WebhookEdit{Content: &content, AllowedMentions: noPings()}
	var err error
	if id == original {
		_, err = t.s.InteractionResponseEdit(t.it, e, discordgo.WithContext(ctx))
	} else {
		_, err = t.s.FollowupMessageEdit(t.it, id, e, discordgo.WithContext(ctx))
	}
	return err
}

func (t interactionTarget) remove(ctx context.Context, id string) error {
	if id == original {
		return t.s.InteractionResponseDelete(t.it, discordgo.WithContext(ctx))
	}
	return t.s.FollowupMessageDelete(t.it, id, discordgo.WithContext(ctx))
}
