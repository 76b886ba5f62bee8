package discordtest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxContent is Discord's limit on message content, in characters.
const maxContent = 2000

// Request is one recorded REST request.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Body     []byte
	// Auth is the Authorization header.
	Auth   string
	Status int
	Time   time.Time
}

// RateLimit makes the next Count requests whose method matches (empty for
// any) and whose path contains Path fail with 429, as Discord answers.
type RateLimit struct {
	Method string
	Path   string
	Count  int
	// RetryAfter is in seconds, as Discord sends it (a float).
	RetryAfter float64
	Global     bool
}

// AddRateLimit scripts 429 answers.
func (s *Server) AddRateLimit(rl RateLimit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, &rl)
}

// apiError is Discord's error body.
type apiError struct {
	status  int
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Errors  map[string]any `json:"errors,omitempty"`
}

func errorf(status, code int, format string, args ...any) *apiError {
	return &apiError{status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func formError(field, code, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, Code: 50035, Message: "Invalid Form Body",
		Errors: map[string]any{field: map[string]any{"_errors": []any{map[string]any{"code": code, "message": msg}}}}}
}

// reply is a handler's answer: status and JSON body (nil for 204).
type reply struct {
	status int
	body   any
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	raw := body
	body, files, err := readMultipart(r.Header.Get("Content-Type"), body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorf(http.StatusBadRequest, 50109, "The request body contains invalid JSON."))
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v9/")
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Body: raw,
		Auth: r.Header.Get("Authorization"), Time: time.Now()}
	defer func() {
		s.requests = append(s.requests, rec)
		s.notifyLocked()
	}()
	if rl := s.rateLimitLocked(r.Method, r.URL.Path); rl != nil {
		rec.Status = http.StatusTooManyRequests
		writeRateLimited(w, rl)
		return
	}
	rep, apiErr := s.routeLocked(r.Method, strings.Split(strings.Trim(path, "/"), "/"), r, body, files)
	if apiErr != nil {
		rec.Status = apiErr.status
		writeJSON(w, apiErr.status, apiErr)
		return
	}
	rec.Status = rep.status
	writeJSON(w, rep.status, rep.body)
}

func (s *Server) rateLimitLocked(method, path string) *RateLimit {
	for _, rl := range s.limits {
		if rl.Count > 0 && (rl.Method == "" || rl.Method == method) && strings.Contains(path, rl.Path) {
			rl.Count--
			return rl
		}
	}
	return nil
}

func writeRateLimited(w http.ResponseWriter, rl *RateLimit) {
	h := w.Header()
	after := strconv.FormatFloat(rl.RetryAfter, 'f', 3, 64)
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(rl.RetryAfter))))
	h.Set("X-RateLimit-Limit", "5")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(time.Now().UnixMilli())/1000+rl.RetryAfter, 'f', 3, 64))
	h.Set("X-RateLimit-Reset-After", after)
	h.Set("X-RateLimit-Bucket", "fakebucket")
	scope := "user"
	if rl.Global {
		h.Set("X-RateLimit-Global", "true")
		scope = "global"
	}
	h.Set("X-RateLimit-Scope", scope)
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"message": "You are being rate limited.", "retry_after": rl.RetryAfter, "global": rl.Global,
	})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	h := w.Header()
	if h.Get("X-RateLimit-Remaining") == "" {
		h.Set("X-RateLimit-Limit", "5")
		h.Set("X-RateLimit-Remaining", "4")
		h.Set("X-RateLimit-Reset-After", "1.000")
		h.Set("X-RateLimit-Bucket", "fakebucket")
	}
	if status == http.StatusNoContent || body == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func ok(body any) (reply, *apiError) { return reply{status: http.StatusOK, body: body}, nil }
func noContent() (reply, *apiError)  { return reply{status: http.StatusNoContent}, nil }

var errNotFound = errorf(http.StatusNotFound, 0, "404: Not Found")

// routeLocked dispatches a request on its path segments after /api/v9/.
func (s *Server) routeLocked(method string, p []string, r *http.Request, body []byte, files []Attachment) (reply, *apiError) {
	// Interaction callbacks and webhooks authenticate by their token.
	switch {
	case len(p) == 4 && p[0] == "interactions" && p[3] == "callback" && method == http.MethodPost:
		return s.interactionCallbackLocked(p[1], p[2], body)
	case len(p) >= 3 && p[0] == "webhooks":
		return s.webhookLocked(method, p[1:], r, body, files)
	}
	b := s.authLocked(r.Header.Get("Authorization"))
	if b == nil {
		return reply{}, errorf(http.StatusUnauthorized, 0, "401: Unauthorized")
	}
	switch {
	case len(p) == 1 && p[0] == "gateway" && method == http.MethodGet:
		return ok(map[string]any{"url": s.gatewayURL()})
	case len(p) == 2 && p[0] == "gateway" && p[1] == "bot" && method == http.MethodGet:
		return ok(map[string]any{"url": s.gatewayURL(), "shards": 1, "session_start_limit": map[string]any{
			"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}})
	case len(p) == 2 && p[0] == "users" && p[1] == "@me" && method == http.MethodGet:
		return ok(userJSON(b.user))
	case len(p) == 4 && p[0] == "guilds" && p[2] == "members" && method == http.MethodGet:
		if p[3] != b.user.ID {
			return reply{}, errorf(http.StatusNotFound, 10007, "Unknown Member")
		}
		if !s.botInGuildLocked(b, p[1]) {
			return reply{}, errorf(http.StatusNotFound, 10004, "Unknown Guild")
		}
		return ok(s.botMemberJSONLocked(b, p[1]))
	case len(p) >= 2 && p[0] == "channels":
		return s.channelLocked(b, method, p[1], p[2:], body, files)
	case len(p) == 3 && p[0] == "applications" && p[2] == "commands":
		if p[1] != b.appID {
			return reply{}, errorf(http.StatusForbidden, 50001, "Missing Access")
		}
		return s.commandsLocked(b, method, body)
	}
	return reply{}, errNotFound
}

// botInGuildLocked tells whether the bot has a channel or roles in the guild.
func (s *Server) botInGuildLocked(b *botAccount, guildID string) bool {
	if _, ok := b.roles[guildID]; ok {
		return true
	}
	for _, c := range s.channels {
		if c.Bot == b.token && c.GuildID == guildID {
			return true
		}
	}
	return false
}

func (s *Server) authLocked(h string) *botAccount {
	if !strings.HasPrefix(h, "Bot ") {
		return nil
	}
	return s.bots[bareToken(h)]
}

func (s *Server) channelLocked(b *botAccount, method, id string, rest []string, body []byte, files []Attachment) (reply, *apiError) {
	c, found := s.channels[id]
	if !found {
		return reply{}, errorf(http.StatusNotFound, 10003, "Unknown Channel")
	}
	if c.Bot != b.token {
		return reply{}, errorf(http.StatusForbidden, 50001, "Missing Access")
	}
	switch {
	case len(rest) == 0 && method == http.MethodGet:
		return ok(channelJSON(c))
	case len(rest) == 1 && rest[0] == "typing" && method == http.MethodPost:
		return noContent()
	case len(rest) == 1 && rest[0] == "messages" && method == http.MethodPost:
		return s.createMessageLocked(b, c, body, files)
	case len(rest) == 2 && rest[0] == "messages":
		m, found := s.byID[rest[1]]
		if !found || m.ChannelID != c.ID || m.Deleted {
			return reply{}, errorf(http.StatusNotFound, 10008, "Unknown Message")
		}
		switch method {
		case http.MethodGet:
			return ok(s.messageJSONLocked(m, true))
		case http.MethodPatch:
			if m.Author.ID != b.user.ID {
				return reply{}, errorf(http.StatusForbidden, 50005, "Cannot edit a message authored by another user")
			}
			return s.editMessageLocked(m, body)
		case http.MethodDelete:
			m.Deleted = true
			s.notifyLocked()
			return noContent()
		}
	}
	return reply{}, errNotFound
}

// messageBody is the JSON of a create or edit request.
type messageBody struct {
	Content         *string          `json:"content"`
	AllowedMentions *AllowedMentions `json:"allowed_mentions"`
	Reference       *struct {
		MessageID string `json:"message_id"`
		// FailIfNotExists false sends the message without a reference
		// when the referenced one is unknown; left out, Discord fails.
		FailIfNotExists *bool `json:"fail_if_not_exists"`
	} `json:"message_reference"`
	Embeds []json.RawMessage `json:"embeds"`
	Flags  int               `json:"flags"`
}

func parseMessageBody(body []byte) (messageBody, *apiError) {
	var mb messageBody
	if err := json.Unmarshal(body, &mb); err != nil {
		return mb, errorf(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
	}
	if mb.Content != nil {
		if !utf8.ValidString(*mb.Content) {
			return mb, formError("content", "BASE_TYPE_BAD_UNICODE", "Invalid unicode.")
		}
		if n := utf8.RuneCountInString(*mb.Content); n > maxContent {
			return mb, formError("content", "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", maxContent))
		}
	}
	return mb, nil
}

func (s *Server) createMessageLocked(b *botAccount, c Channel, body []byte, files []Attachment) (reply, *apiError) {
	mb, apiErr := parseMessageBody(body)
	if apiErr != nil {
		return reply{}, apiErr
	}
	if mb.Content == nil || strings.TrimSpace(*mb.Content) == "" {
		if len(mb.Embeds) == 0 && len(files) == 0 {
			return reply{}, errorf(http.StatusBadRequest, 50006, "Cannot send an empty message")
		}
	}
	m := &Message{ID: s.newIDLocked(), ChannelID: c.ID, GuildID: c.GuildID, Author: b.user,
		AllowedMentions: mb.AllowedMentions, Created: time.Now(), Attachments: files}
	if mb.Content != nil {
		m.Content = *mb.Content
	}
	if mb.Reference != nil {
		ref, found := s.byID[mb.Reference.MessageID]
		switch {
		case found && ref.ChannelID == c.ID && !ref.Deleted:
			m.Reference = ref.ID
		case mb.Reference.FailIfNotExists == nil || *mb.Reference.FailIfNotExists:
			return reply{}, formError("message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
		}
	}
	s.storeLocked(m)
	s.echoLocked("MESSAGE_CREATE", m)
	return ok(s.messageJSONLocked(m, true))
}

func (s *Server) editMessageLocked(m *Message, body []byte) (reply, *apiError) {
	mb, apiErr := parseMessageBody(body)
	if apiErr != nil {
		return reply{}, apiErr
	}
	content := m.Content
	if mb.Content != nil {
		content = *mb.Content
	}
	if strings.TrimSpace(content) == "" {
		return reply{}, errorf(http.StatusBadRequest, 50006, "Cannot send an empty message")
	}
	m.Content = content
	m.AllowedMentions = mb.AllowedMentions
	m.Edits++
	m.EditTimes = append(m.EditTimes, time.Now())
	s.notifyLocked()
	s.echoLocked("MESSAGE_UPDATE", m)
	return ok(s.messageJSONLocked(m, true))
}
