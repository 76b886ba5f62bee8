package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/go-telegram/bot/models"
)

// Post records m as a user's message and queues it as an update; it
// returns the message as delivered. See Record for what is filled in.
func (s *Server) Post(m models.Message) models.Message {
	u := s.Record(m)
	s.Queue(u)
	return *u.Message
}

// Record stores m as a user's message and returns the update that carries
// it, without queuing it (for webhook delivery). It fills the message id,
// the date (now), the entities Telegram would detect (bot commands and
// @mentions) when m has none, and ReplyToMessage from the stored message
// of that id. m.Chat.ID and m.From are required.
func (s *Server) Record(m models.Message) models.Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.Chat.Type == "" {
		m.Chat.Type = models.ChatTypePrivate
		if m.Chat.ID < 0 {
			m.Chat.Type = models.ChatTypeSupergroup
		}
	}
	s.chats[m.Chat.ID] = m.Chat
	m.ID = s.newMessageID(m.Chat.ID)
	if m.Date == 0 {
		m.Date = int(time.Now().Unix())
	}
	if m.Entities == nil && m.Text != "" {
		m.Entities = detectEntities(m.Text)
	}
	if m.CaptionEntities == nil && m.Caption != "" {
		m.CaptionEntities = detectEntities(m.Caption)
	}
	if m.ReplyToMessage != nil {
		if r := s.find(m.Chat.ID, m.ReplyToMessage.ID); r != nil {
			rm := s.toModel(r)
			m.ReplyToMessage = &rm
		}
	}
	var from models.User
	if m.From != nil {
		from = *m.From
	}
	stored := &Message{
		ID: m.ID, ChatID: m.Chat.ID, ThreadID: m.MessageThreadID, From: from,
		Text: m.Text, Visible: m.Text, Versions: []string{m.Text}, At: []time.Time{time.Unix(int64(m.Date), 0)},
	}
	if m.ReplyToMessage != nil {
		stored.ReplyTo = m.ReplyToMessage.ID
	}
	s.messages[m.Chat.ID] = append(s.messages[m.Chat.ID], stored)
	return models.Update{Message: &m}
}

// Queue queues an update for getUpdates, giving it the next update id.
func (s *Server) Queue(u models.Update) int64 {
	return s.queue(u, 1)
}

// QueueTwice queues an update for getUpdates twice under one new update
// id, as Telegram may send an update again when it is not sure it was
// received: both copies come in the same answer, and one offset past the
// id confirms both.
func (s *Server) QueueTwice(u models.Update) int64 {
	return s.queue(u, 2)
}

// PostTwice is Post with the update queued twice (QueueTwice).
func (s *Server) PostTwice(m models.Message) models.Message {
	u := s.Record(m)
	s.QueueTwice(u)
	return *u.Message
}

func (s *Server) queue(u models.Update, copies int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextUpdate++
	u.ID = s.nextUpdate
	for range copies {
		s.updates = append(s.updates, u)
	}
	close(s.notify)
	s.notify = make(chan struct{})
	return u.ID
}

// Pending reports how many queued updates no getUpdates call has
// confirmed yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// getUpdates answers with the updates at or after offset, blocking until
// one is queued, PollWait passes or the request's timeout passes. As on
// Telegram, an offset confirms every update with a lower id: they are
// never sent again. timeout 0 answers at once (short polling).
func (s *Server) getUpdates(r *http.Request, p map[string]string) (any, *apiError) {
	offset, _ := strconv.ParseInt(p["offset"], 10, 64)
	limit, _ := strconv.Atoi(p["limit"])
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	wait := s.PollWait
	if t, err := strconv.Atoi(p["timeout"]); err == nil && t >= 0 && time.Duration(t)*time.Second < wait {
		wait = time.Duration(t) * time.Second
	}
	s.mu.Lock()
	s.offsets = append(s.offsets, offset)
	s.setAllowedLocked(p)
	s.mu.Unlock()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if offset > 0 {
			kept := s.updates[:0]
			for _, u := range s.updates {
				if u.ID >= offset {
					kept = append(kept, u)
				}
			}
			s.updates = kept
		}
		s.dropUnwantedLocked()
		out := append([]models.Update{}, s.updates[:min(limit, len(s.updates))]...)
		ch := s.notify
		s.mu.Unlock()
		if len(out) > 0 || wait <= 0 {
			return out, nil
		}
		select {
		case <-ch:
		case <-timer.C:
			return out, nil
		case <-r.Context().Done():
			return out, nil
		}
	}
}

// Deliver posts an update to the webhook set with setWebhook, with the
// given secret token header, and returns the HTTP status. An update
// without an id gets the next one; one with an id keeps it, as when
// Telegram retries a delivery that got no 2xx.
func (s *Server) Deliver(ctx context.Context, u models.Update, secret string) (int, error) {
	hookURL, _ := s.Webhook()
	if hookURL == "" {
		return 0, fmt.Errorf("deliver update: no webhook set")
	}
	s.mu.Lock()
	if !s.wantedLocked(u) {
		s.mu.Unlock()
		return 0, fmt.Errorf("deliver update: the bot did not ask for %s updates (allowed_updates) or may not see them here", kindOf(u))
	}
	if u.ID == 0 {
		s.nextUpdate++
		u.ID = s.nextUpdate
	}
	s.nextUpdate = max(s.nextUpdate, u.ID)
	s.mu.Unlock()
	body, err := json.Marshal(u)
	if err != nil {
		return 0, fmt.Errorf("deliver update: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hookURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("deliver update: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("deliver update: %w", err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

var (
	commandRe = regexp.MustCompile(`^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?`)
	mentionRe = regexp.MustCompile(`@[A-Za-z0-9_]{5,32}`)
)

// detectEntities finds what Telegram marks in a plain text: a bot command
// at the start and @mentions, with offsets in UTF-16 code units.
func detectEntities(text string) []models.MessageEntity {
	var out []models.MessageEntity
	cmdEnd := 0
	if loc := commandRe.FindStringIndex(text); loc != nil {
		cmdEnd = loc[1]
		out = append(out, models.MessageEntity{
			Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: UTF16Len(text[:loc[1]]),
		})
	}
	for _, loc := range mentionRe.FindAllStringIndex(text, -1) {
		if loc[0] > 0 && isWordByte(text[loc[0]-1]) {
			continue
		}
		if loc[0] < cmdEnd {
			continue
		}
		out = append(out, models.MessageEntity{
			Type: models.MessageEntityTypeMention, Offset: UTF16Len(text[:loc[0]]), Length: UTF16Len(text[loc[0]:loc[1]]),
		})
	}
	return out
}

func isWordByte(b byte) bool {
	return b == '_' || b == '/' || (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')
}
