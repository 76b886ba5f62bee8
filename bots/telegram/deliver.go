package telegram

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/evo-tr/evo/brain"
)

var _ brain.Deliverer = (*Bot)(nil)

// SinkFor returns a sink that delivers the reply to m in its chat, as the
// replies to updates are delivered: m.ChatID is the chat id, or
// "chatid:threadid" in a forum topic (toMessage), and in groups and topics
// the reply quotes m.PlatformMessageID. The brain uses it for messages it
// resumes after a restart. It works once Run has connected; Run waits for
// the delivery at shutdown like any reply. A message the adapter cannot
// place, or a call after Run stopped waiting for replies, gets a sink that
// drops the reply (logged).
func (b *Bot) SinkFor(m brain.Message) brain.Sink {
	to, quote, err := targetOf(m)
	if err != nil {
		b.log.Error("telegram: cannot deliver a reply", "chat", m.ChatID, "err", err)
		return brain.FuncSink{}
	}
	r := newReply(b, to, quote)
	if !b.spawn("reply", func() { r.run(b.sendCtx) }) {
		return brain.FuncSink{}
	}
	return r
}

// targetOf is where the reply to m goes and the message it quotes.
func targetOf(m brain.Message) (target, int, error) {
	if m.Platform != "" && m.Platform != brain.PlatformTelegram {
		return target{}, 0, fmt.Errorf("a %s message", m.Platform)
	}
	chat, thread, hasThread := strings.Cut(m.ChatID, ":")
	var to target
	var err error
	if to.chatID, err = strconv.ParseInt(chat, 10, 64); err != nil || to.chatID == 0 {
		return target{}, 0, fmt.Errorf("chat id %q", m.ChatID)
	}
	if hasThread {
		if to.threadID, err = strconv.Atoi(thread); err != nil || to.threadID <= 0 {
			return target{}, 0, fmt.Errorf("chat id %q: bad thread", m.ChatID)
		}
	}
	switch m.ChatKind {
	case brain.ChatGroup, brain.ChatThread:
		to.group = true
	case brain.ChatPrivate, "":
		if hasThread || to.chatID < 0 {
			to.group = true // a topic, or a group id (negative)
		}
	default:
		return target{}, 0, fmt.Errorf("chat kind %q", m.ChatKind)
	}
	quote := 0
	if to.group {
		quote, _ = strconv.Atoi(m.PlatformMessageID)
	}
	return to, quote, nil
}
