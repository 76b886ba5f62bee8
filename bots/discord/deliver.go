package discord

import (
	"github.com/bwmarrin/discordgo"
	"github.com/evo-tr/evo/brain"
)

var _ brain.Deliverer = (*Bot)(nil)

// SinkFor returns a sink that delivers the reply to m in m's channel,
// thread or DM (m.ChatID), as a reply to m.PlatformMessageID, streamed and
// split like the answers to messages the bot receives, pinging nobody but
// m's author. The brain calls it for replies it starts on its own, such
// as a message resumed after a restart.
//
// The delivery waits for Run to connect and is tracked like every reply:
// once Run's ctx ends it gets ShutdownGrace to finish. A sink asked for
// once Run has stopped taking events, or for a message of another
// platform, delivers nothing and logs the loss.
func (b *Bot) SinkFor(m brain.Message) brain.Sink {
	log := b.log.With("chat_id", m.ChatID, "message_id", m.PlatformMessageID, "resumed", m.Resumed)
	lost := func(why string) brain.Sink {
		return brain.FuncSink{OnDone: func(r brain.Reply) {
			if r.Kind != brain.ReplyNone {
				log.Warn("discord: reply not delivered: " + why)
			}
		}}
	}
	if m.Platform != brain.PlatformDiscord || m.ChatID == "" {
		log.Error("discord: asked to deliver a reply to a message that is not a Discord chat's", "platform", m.Platform)
		return lost("not a Discord chat")
	}
	r := newReply(b.cfg, nil, log)
	ok := b.track("deliver", func() {
		if !b.waitConnected() {
			log.Warn("discord: reply not delivered: the bot stopped before it connected")
			return
		}
		s, ctx := b.delivery()
		r.out = channelTarget{s: s, channelID: m.ChatID, replyTo: quote(m)}
		r.run(ctx)
	})
	if !ok {
		return lost("the bot is shutting down")
	}
	return r
}

// waitConnected blocks until Run has connected (true) or will not
// connect any more (false).
func (b *Bot) waitConnected() bool {
	select {
	case <-b.connected:
		return true
	case <-b.stopped:
	}
	select {
	case <-b.connected:
		return true
	default:
		return false
	}
}

// quote is the reference a delivered reply carries: m's message, if it
// still exists (a message deleted meanwhile, or the id of a slash
// command's interaction, gets a plain message instead of an error).
func quote(m brain.Message) *discordgo.MessageReference {
	if m.PlatformMessageID == "" {
		return nil
	}
	fail := false
	return &discordgo.MessageReference{MessageID: m.PlatformMessageID, ChannelID: m.ChatID, FailIfNotExists: &fail}
}
