package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/evo-tr/evo/brain"
)

// errBlocked means Telegram answered 403: the user blocked the bot or it
// left the chat. Such calls are never retried.
var errBlocked = errors.New("forbidden: the bot was blocked or removed")

// errGone means the message to edit no longer exists.
var errGone = errors.New("message to edit not found")

// target is where a reply goes.
type target struct {
	chatID   int64
	threadID int
	group    bool
}

// key is the chat the pacer counts against.
func (t target) key() string { return strconv.FormatInt(t.chatID, 10) }

// groupGap spreads a group's budget evenly over its minute.
func (b *Bot) groupGap() time.Duration {
	return max(b.cfg.EditInterval, time.Minute/time.Duration(max(b.cfg.GroupPerMinute, 1)))
}

// pace waits for a slot under Telegram's limits.
func (b *Bot) pace(ctx context.Context, to target) error {
	for {
		d := b.pacer.acquire(to.key(), to.group, b.clock.Now())
		if d <= 0 {
			return nil
		}
		if err := b.cfg.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// do runs one API call with Telegram's error rules: 429 is retried after
// retry_after (up to MaxRetries times), "message is not modified" is
// success, 403 is errBlocked, network and server errors are retried twice,
// other errors are returned.
func (b *Bot) do(ctx context.Context, to target, op string, call func(ctx context.Context) error) error {
	transient := 0
	for attempt := 0; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, b.cfg.RequestTimeout)
		err := call(rctx)
		cancel()
		if err == nil || isNotModified(err) {
			return nil
		}
		if errors.Is(err, tgbot.ErrorForbidden) {
			return fmt.Errorf("%s: %w", op, errBlocked)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
		var tooMany *tgbot.TooManyRequestsError
		switch {
		case errors.As(err, &tooMany):
			if attempt >= b.cfg.MaxRetries {
				return fmt.Errorf("%s: still rate limited after %d retries: %w", op, attempt, err)
			}
			wait := time.Duration(max(tooMany.RetryAfter, 1)) * time.Second
			b.pacer.hold(to.key(), b.clock.Now().Add(wait))
			b.log.Warn("telegram rate limit; retrying", "op", op, "chat", to.chatID, "retry_after", wait)
			if err := b.cfg.Sleep(ctx, wait); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
		case isPermanent(err) || transient >= 2:
			return fmt.Errorf("%s: %w", op, err)
		default:
			transient++
			b.log.Warn("telegram request failed; retrying", "op", op, "chat", to.chatID, "err", err)
			if err := b.cfg.Sleep(ctx, time.Duration(transient)*500*time.Millisecond); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
		}
	}
}

func isPermanent(err error) bool {
	for _, e := range []error{tgbot.ErrorBadRequest, tgbot.ErrorUnauthorized, tgbot.ErrorNotFound, tgbot.ErrorConflict} {
		if errors.Is(err, e) {
			return true
		}
	}
	var migrate *tgbot.MigrateError
	return errors.As(err, &migrate)
}

func isNotModified(err error) bool {
	return errors.Is(err, tgbot.ErrorBadRequest) && strings.Contains(err.Error(), "message is not modified")
}

// needsPlain reports whether Telegram refused the HTML itself, so that the
// text is worth sending again without formatting.
func needsPlain(err error) bool {
	return errors.Is(err, tgbot.ErrorBadRequest) &&
		(strings.Contains(err.Error(), "can't parse entities") || strings.Contains(err.Error(), "message is too long"))
}

var noPreview = &models.LinkPreviewOptions{IsDisabled: tgbot.True()}

// send sends one HTML message, quoting replyTo when it is not 0, and
// returns its id. If Telegram refuses the HTML, the visible text is sent
// unformatted instead.
func (b *Bot) send(ctx context.Context, to target, html string, replyTo int) (int, error) {
	params := &tgbot.SendMessageParams{
		ChatID: to.chatID, MessageThreadID: to.threadID, Text: html,
		ParseMode: models.ParseModeHTML, LinkPreviewOptions: noPreview,
	}
	if replyTo != 0 {
		params.ReplyParameters = &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
	}
	var id int
	call := func(ctx context.Context) error {
		m, err := b.tg.SendMessage(ctx, params)
		if err == nil {
			id = m.ID
		}
		return err
	}
	err := b.do(ctx, to, "sendMessage", call)
	if err != nil && needsPlain(err) {
		b.log.Warn("telegram refused the HTML; sending plain text", "chat", to.chatID, "err", err)
		params.Text, params.ParseMode = plainFallback(html), ""
		err = b.do(ctx, to, "sendMessage", call)
	}
	return id, err
}

// edit replaces a message's text with html; errGone when it is missing.
func (b *Bot) edit(ctx context.Context, to target, id int, html string) error {
	params := &tgbot.EditMessageTextParams{
		ChatID: to.chatID, MessageID: id, Text: html,
		ParseMode: models.ParseModeHTML, LinkPreviewOptions: noPreview,
	}
	call := func(ctx context.Context) error {
		_, err := b.tg.EditMessageText(ctx, params)
		return err
	}
	err := b.do(ctx, to, "editMessageText", call)
	if err != nil && needsPlain(err) {
		b.log.Warn("telegram refused the HTML; editing to plain text", "chat", to.chatID, "err", err)
		params.Text, params.ParseMode = plainFallback(html), ""
		err = b.do(ctx, to, "editMessageText", call)
	}
	if err != nil && errors.Is(err, tgbot.ErrorBadRequest) && strings.Contains(err.Error(), "message to edit not found") {
		return fmt.Errorf("%w: %w", errGone, err)
	}
	return err
}

// sendDocument uploads f to the chat as a document (multipart).
func (b *Bot) sendDocument(ctx context.Context, to target, f *brain.File) error {
	return b.do(ctx, to, "sendDocument", func(ctx context.Context) error {
		_, err := b.tg.SendDocument(ctx, &tgbot.SendDocumentParams{
			ChatID: to.chatID, MessageThreadID: to.threadID,
			// A fresh reader each attempt: a retry uploads the file again.
			Document: &models.InputFileUpload{Filename: f.Name, Data: bytes.NewReader(f.Data)},
		})
		return err
	})
}

// remove deletes a message.
func (b *Bot) remove(ctx context.Context, to target, id int) error {
	return b.do(ctx, to, "deleteMessage", func(ctx context.Context) error {
		_, err := b.tg.DeleteMessage(ctx, &tgbot.DeleteMessageParams{ChatID: to.chatID, MessageID: id})
		return err
	})
}

// typing shows "typing…" once; failures only matter to the logs.
func (b *Bot) typing(ctx context.Context, to target) {
	rctx, cancel := context.WithTimeout(ctx, b.cfg.RequestTimeout)
	defer cancel()
	_, err := b.tg.SendChatAction(rctx, &tgbot.SendChatActionParams{
		ChatID: to.chatID, MessageThreadID: to.threadID, Action: models.ChatActionTyping,
	})
	if err != nil && ctx.Err() == nil {
		b.log.Debug("telegram typing failed", "chat", to.chatID, "err", err)
	}
}

// plainFallback is html's visible text cut to Telegram's limit.
func plainFallback(html string) string {
	s := plainText(html)
	if utf16Len(s) <= maxMessageLen {
		return s
	}
	n := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if n+w > maxMessageLen-1 {
			return s[:i] + "…"
		}
		n += w
	}
	return s
}
