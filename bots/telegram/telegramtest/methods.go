package telegramtest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// Message is one message of a chat as the server keeps it: a user's
// (posted by the test) or the bot's (sent through the API).
type Message struct {
	ID       int
	ChatID   int64
	ThreadID int
	FromBot  bool
	From     models.User
	// ReplyTo is the id of the message this one replies to, or 0.
	ReplyTo   int
	ParseMode string
	// Text is the raw text of the current version (HTML for parse_mode
	// HTML); Visible is what the user sees after entity parsing.
	Text    string
	Visible string
	// Versions holds the raw text of every version, the sent one first,
	// and At when each arrived.
	Versions []string
	At       []time.Time
	Deleted  bool
}

// Draft is one sendMessageDraft call.
type Draft struct {
	ChatID  int64
	DraftID string
	Text    string
}

// Messages returns a copy of every message of a chat, oldest first.
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.messages[chatID]))
	for _, m := range s.messages[chatID] {
		c := *m
		c.Versions = append([]string(nil), m.Versions...)
		c.At = append([]time.Time(nil), m.At...)
		out = append(out, c)
	}
	return out
}

// BotMessages returns the bot's messages in a chat that are not deleted,
// oldest first.
func (s *Server) BotMessages(chatID int64) []Message {
	var out []Message
	for _, m := range s.Messages(chatID) {
		if m.FromBot && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// Drafts returns every sendMessageDraft call, oldest first.
func (s *Server) Drafts() []Draft {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Draft(nil), s.drafts...)
}

// call serves every method but getUpdates.
func (s *Server) call(method string, p map[string]string) (any, *apiError) {
	switch method {
	case "getMe":
		return s.me, nil
	case "deleteWebhook":
		s.mu.Lock()
		s.webhook = webhook{}
		s.mu.Unlock()
		return true, nil
	case "setWebhook":
		if p["url"] == "" {
			return nil, badRequest("bad webhook: an HTTPS URL must be provided for webhook")
		}
		s.mu.Lock()
		s.webhook = webhook{url: p["url"], secret: p["secret_token"]}
		s.setAllowedLocked(p)
		s.mu.Unlock()
		return true, nil
	case "setMyCommands":
		return s.setMyCommands(p)
	case "sendChatAction":
		if _, err := chatID(p); err != nil {
			return nil, err
		}
		if p["action"] == "" {
			return nil, badRequest("wrong parameter action in request")
		}
		return true, nil
	case "sendMessage":
		return s.sendMessage(p)
	case "editMessageText":
		return s.editMessageText(p)
	case "deleteMessage":
		return s.deleteMessage(p)
	case "sendMessageDraft":
		id, err := chatID(p)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.drafts = append(s.drafts, Draft{ChatID: id, DraftID: p["draft_id"], Text: p["text"]})
		s.mu.Unlock()
		return true, nil
	}
	return nil, &apiError{code: http.StatusNotFound, description: "Not Found: method not found"}
}

var commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (s *Server) setMyCommands(p map[string]string) (any, *apiError) {
	var cmds []models.BotCommand
	if err := json.Unmarshal([]byte(p["commands"]), &cmds); err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	for _, c := range cmds {
		if !commandName.MatchString(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf8.RuneCountInString(c.Description); n < 1 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	s.mu.Lock()
	s.commands = cmds
	s.mu.Unlock()
	return true, nil
}

func chatID(p map[string]string) (int64, *apiError) {
	id, err := strconv.ParseInt(strings.Trim(p["chat_id"], `"`), 10, 64)
	if err != nil || id == 0 {
		return 0, badRequest("chat not found")
	}
	return id, nil
}

// visible parses a message text by its parse mode and checks Telegram's
// rules on it.
func visible(text, parseMode string) (string, *apiError) {
	vis := text
	switch parseMode {
	case "":
	case "HTML":
		var err error
		if vis, err = ParseHTML(text); err != nil {
			return "", badRequest(err.Error())
		}
	default:
		return "", badRequest("unsupported parse_mode " + parseMode + " in this fake")
	}
	if strings.TrimSpace(vis) == "" {
		return "", badRequest("message text is empty")
	}
	if UTF16Len(vis) > MaxMessageLength {
		return "", badRequest("message is too long")
	}
	return vis, nil
}

func (s *Server) sendMessage(p map[string]string) (any, *apiError) {
	chat, aerr := chatID(p)
	if aerr != nil {
		return nil, aerr
	}
	vis, aerr := visible(p["text"], p["parse_mode"])
	if aerr != nil {
		return nil, aerr
	}
	thread, _ := strconv.Atoi(p["message_thread_id"])
	var reply struct {
		MessageID                int  `json:"message_id"`
		AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
	}
	if raw := p["reply_parameters"]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &reply); err != nil {
			return nil, badRequest("can't parse reply parameters JSON object")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if reply.MessageID != 0 && s.find(chat, reply.MessageID) == nil && !reply.AllowSendingWithoutReply {
		return nil, badRequest("message to be replied not found")
	}
	now := time.Now()
	m := &Message{
		ID: s.newMessageID(chat), ChatID: chat, ThreadID: thread, FromBot: true, From: s.me,
		ReplyTo: reply.MessageID, ParseMode: p["parse_mode"], Text: p["text"], Visible: vis,
		Versions: []string{p["text"]}, At: []time.Time{now},
	}
	s.messages[chat] = append(s.messages[chat], m)
	return s.toModel(m), nil
}

func (s *Server) editMessageText(p map[string]string) (any, *apiError) {
	chat, aerr := chatID(p)
	if aerr != nil {
		return nil, aerr
	}
	id, _ := strconv.Atoi(p["message_id"])
	vis, aerr := visible(p["text"], p["parse_mode"])
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.find(chat, id)
	if m == nil || !m.FromBot {
		return nil, badRequest("message to edit not found")
	}
	if m.Text == p["text"] && m.ParseMode == p["parse_mode"] {
		return nil, badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	}
	m.Text, m.Visible, m.ParseMode = p["text"], vis, p["parse_mode"]
	m.Versions = append(m.Versions, p["text"])
	m.At = append(m.At, time.Now())
	return s.toModel(m), nil
}

func (s *Server) deleteMessage(p map[string]string) (any, *apiError) {
	chat, aerr := chatID(p)
	if aerr != nil {
		return nil, aerr
	}
	id, _ := strconv.Atoi(p["message_id"])
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.find(chat, id)
	if m == nil {
		return nil, badRequest("message to delete not found")
	}
	m.Deleted = true
	return true, nil
}

// find returns a live message; s.mu must be held.
func (s *Server) find(chat int64, id int) *Message {
	for _, m := range s.messages[chat] {
		if m.ID == id && !m.Deleted {
			return m
		}
	}
	return nil
}

// newMessageID allocates a message id in a chat; s.mu must be held.
func (s *Server) newMessageID(chat int64) int {
	s.nextMsgID[chat]++
	return s.nextMsgID[chat]
}

// chat returns what the server knows of a chat; s.mu must be held.
func (s *Server) chat(id int64) models.Chat {
	if c, ok := s.chats[id]; ok {
		return c
	}
	if id > 0 {
		return models.Chat{ID: id, Type: models.ChatTypePrivate}
	}
	return models.Chat{ID: id, Type: models.ChatTypeSupergroup}
}

// toModel renders a stored message as the API returns it; s.mu must be held.
func (s *Server) toModel(m *Message) models.Message {
	from := m.From
	out := models.Message{
		ID: m.ID, MessageThreadID: m.ThreadID, From: &from, Chat: s.chat(m.ChatID),
		Date: int(m.At[0].Unix()), Text: m.Visible,
	}
	if len(m.At) > 1 {
		out.EditDate = int(m.At[len(m.At)-1].Unix())
	}
	return out
}

// DeleteMessage deletes a message as a chat admin would, so that the bot's
// next edit of it fails with "message to edit not found".
func (s *Server) DeleteMessage(chatID int64, id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.find(chatID, id); m != nil {
		m.Deleted = true
	}
}
