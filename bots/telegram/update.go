package telegram

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"

	"github.com/evo-tr/evo/brain"
)

// Turkish texts the adapter answers by itself.
const (
	nonTextReply   = "Bu bir %s; şimdilik yalnızca yazılı mesajları anlayabiliyorum. Sorunu yazıyla gönderir misin?"
	emptyMentionTR = "Buradayım! Sorunu ya da isteğini yazman yeterli."
)

// onUpdate handles one update in the order Telegram sent it. It returns
// once the brain has taken the message (Submit stores it before it
// returns), and never waits for the network: replies run in their own
// goroutines.
func (b *Bot) onUpdate(ctx context.Context, u *models.Update) {
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("telegram update handler panicked", "update_id", u.ID, "panic", p)
		}
	}()
	switch {
	case u.Message != nil:
		b.onMessage(ctx, u.Message)
	case u.EditedMessage != nil:
		b.log.Debug("telegram edited message ignored", "update_id", u.ID)
	case u.MessageReaction != nil:
		b.onReaction(ctx, u.MessageReaction)
	default:
		b.log.Debug("telegram update ignored", "update_id", u.ID)
	}
}

// incoming is a message as the adapter classifies it.
type incoming struct {
	text      string // mentions of the bot removed, "/cmd@bot" made "/cmd"
	mentioned bool   // @mentioned or replied to
	command   bool   // starts with a command for this bot
	forOther  bool   // a command addressed to another bot
}

func (b *Bot) onMessage(ctx context.Context, m *models.Message) {
	if m.From != nil && (m.From.ID == b.me.ID || (m.From.IsBot && m.SenderChat == nil)) {
		return // our own messages and other bots'
	}
	if m.From == nil && m.SenderChat == nil {
		return
	}
	var group bool
	switch m.Chat.Type {
	case models.ChatTypePrivate:
	case models.ChatTypeGroup, models.ChatTypeSupergroup:
		group = true
	default:
		return // channels
	}
	text, entities := m.Text, m.Entities
	isText := m.Text != ""
	if !isText {
		text, entities = m.Caption, m.CaptionEntities
	}
	in := b.classify(text, entities)
	if m.ReplyToMessage != nil && m.ReplyToMessage.From != nil && m.ReplyToMessage.From.ID == b.me.ID {
		in.mentioned = true
	}
	if group && (in.forOther || !(in.mentioned || in.command)) {
		return
	}
	to := target{chatID: m.Chat.ID, group: group}
	if m.IsTopicMessage {
		to.threadID = m.MessageThreadID
	}
	quote := 0
	if group {
		quote = m.ID
	}
	if !isText {
		if kind := mediaKind(m); kind != "" {
			b.notify(to, quote, fmt.Sprintf(nonTextReply, kind))
		}
		return
	}
	if strings.TrimSpace(in.text) == "" {
		b.notify(to, quote, emptyMentionTR)
		return
	}
	msg := b.toMessage(m, in, to)
	r := newReply(b, to, quote)
	b.spawn("reply", func() { r.run(b.sendCtx) })
	b.h.Submit(ctx, msg, r)
}

// toMessage fills the brain's view of a message.
func (b *Bot) toMessage(m *models.Message, in incoming, to target) brain.Message {
	msg := brain.Message{
		Platform:          brain.PlatformTelegram,
		ChatID:            strconv.FormatInt(m.Chat.ID, 10),
		ChatKind:          brain.ChatPrivate,
		Text:              strings.ToValidUTF8(in.text, "\uFFFD"),
		PlatformMessageID: strconv.Itoa(m.ID),
		Mentioned:         in.mentioned,
		Time:              time.Unix(int64(m.Date), 0),
	}
	if m.Date == 0 {
		msg.Time = b.clock.Now()
	}
	if to.group {
		msg.ChatKind = brain.ChatGroup
	}
	if to.threadID != 0 {
		msg.ChatKind = brain.ChatThread
		msg.ChatID += ":" + strconv.Itoa(to.threadID)
	}
	switch {
	case m.SenderChat != nil: // an anonymous admin or a channel
		msg.UserID = strconv.FormatInt(m.SenderChat.ID, 10)
		msg.UserName = m.SenderChat.Title
	case m.From != nil:
		msg.UserID = strconv.FormatInt(m.From.ID, 10)
		msg.UserName = strings.TrimSpace(m.From.FirstName + " " + m.From.LastName)
		msg.Handle = m.From.Username
		if msg.UserName == "" {
			msg.UserName = m.From.Username
		}
		msg.Admin = b.admins[m.From.ID]
	}
	return msg
}

// classify reads the entities of a text: mentions of the bot (removed from
// the text), a leading command (its "@botname" removed) and whether that
// command is meant for another bot. Offsets are in UTF-16 units.
func (b *Bot) classify(text string, entities []models.MessageEntity) incoming {
	in := incoming{text: text}
	units := utf16.Encode([]rune(text))
	type cut struct {
		from, to int
		with     string
	}
	var cuts []cut
	for _, e := range entities {
		from, to := e.Offset, e.Offset+e.Length
		if from < 0 || e.Length <= 0 || to > len(units) {
			continue
		}
		word := string(utf16.Decode(units[from:to]))
		switch e.Type {
		case models.MessageEntityTypeMention:
			if b.me.Username != "" && strings.EqualFold(word, "@"+b.me.Username) {
				in.mentioned = true
				cuts = append(cuts, cut{from: from, to: to})
			}
		case models.MessageEntityTypeTextMention:
			if e.User != nil && e.User.ID == b.me.ID {
				in.mentioned = true
				cuts = append(cuts, cut{from: from, to: to})
			}
		case models.MessageEntityTypeBotCommand:
			if from != 0 {
				continue
			}
			name, addressee, hasAt := strings.Cut(word, "@")
			switch {
			case !hasAt:
				in.command = true
			case strings.EqualFold(addressee, b.me.Username):
				in.command, in.mentioned = true, true
				cuts = append(cuts, cut{from: from, to: to, with: name})
			default:
				in.forOther = true
			}
		}
	}
	if len(cuts) == 0 {
		return in
	}
	var out []uint16
	pos := 0
	for _, c := range cuts {
		if c.from < pos {
			continue
		}
		out = append(out, units[pos:c.from]...)
		out = append(out, utf16.Encode([]rune(c.with))...)
		pos = c.to
		// "@bot, soru" → "soru": drop what joined the mention to the text.
		if len(out) == 0 || isBlankUnits(out) {
			for pos < len(units) && (units[pos] == ',' || units[pos] == ':' || units[pos] == ' ') {
				pos++
			}
		} else if out[len(out)-1] == ' ' && pos < len(units) && units[pos] == ' ' {
			pos++
		}
	}
	out = append(out, units[pos:]...)
	in.text = strings.TrimSpace(string(utf16.Decode(out)))
	return in
}

func isBlankUnits(u []uint16) bool {
	for _, c := range u {
		if c != ' ' && c != '\n' && c != '\t' {
			return false
		}
	}
	return true
}

// mediaKind names, in Turkish, what a message without text carries; ""
// for service messages, which get no answer.
func mediaKind(m *models.Message) string {
	switch {
	case len(m.Photo) > 0:
		return "fotoğraf"
	case m.Sticker != nil:
		return "çıkartma"
	case m.Voice != nil:
		return "sesli mesaj"
	case m.Audio != nil:
		return "ses dosyası"
	case m.Animation != nil:
		return "GIF"
	case m.Video != nil:
		return "video"
	case m.VideoNote != nil:
		return "görüntülü mesaj"
	case m.Document != nil:
		return "belge"
	case m.Location != nil || m.Venue != nil:
		return "konum"
	case m.Contact != nil:
		return "kişi kartı"
	case m.Poll != nil:
		return "anket"
	case m.Dice != nil:
		return "zar"
	}
	return ""
}

// notify sends a short Turkish text of the adapter's own, off the update
// loop.
func (b *Bot) notify(to target, quote int, text string) {
	b.spawn("notice", func() {
		ctx := b.sendCtx
		if err := b.pace(ctx, to); err != nil {
			return
		}
		if _, err := b.send(ctx, to, escape(text), quote); err != nil {
			b.log.Warn("telegram notice failed", "chat", to.chatID, "err", err)
		}
	})
}

// spawn runs fn in a goroutine that Run waits for at shutdown; a panic is
// logged, never fatal. Once Run has stopped waiting for deliveries, fn is
// not run and spawn reports false.
func (b *Bot) spawn(what string, fn func()) bool {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.log.Warn("telegram " + what + " after shutdown; dropped")
		return false
	}
	b.replies.Add(1)
	b.inflight.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.replies.Done()
		defer b.inflight.Add(-1)
		defer func() {
			if p := recover(); p != nil {
				b.log.Error("telegram "+what+" panicked", "panic", p)
			}
		}()
		fn()
	}()
	return true
}
