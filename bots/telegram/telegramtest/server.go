// Package telegramtest is a fake Telegram Bot API server for tests: it
// speaks the wire format the real server speaks (multipart, JSON or
// urlencoded requests at /bot{token}/{method}, {"ok":...} answers), keeps
// chats and messages in memory, validates HTML parse mode and message
// lengths as Telegram does, and can be scripted to answer 429 or 403.
//
// It is a non-test package so that end-to-end tests in other packages can
// start it too.
package telegramtest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// DefaultToken is a well-formed token for tests.
const DefaultToken = "123456:TEST-token"

// MaxMessageLength is Telegram's limit on a message's visible text, in
// UTF-16 code units after entity parsing.
const MaxMessageLength = 4096

// Call is one request the server received.
type Call struct {
	Method      string
	ContentType string
	Params      map[string]string
	At          time.Time
}

// failure is a scripted error answer.
type failure struct {
	times       int
	code        int
	description string
	retryAfter  int
}

// Server is a fake Bot API. Create it with NewServer; all methods are safe
// for concurrent use.
type Server struct {
	// PollWait is how long getUpdates blocks when no update is queued
	// (bounded by the request's own timeout). Set it before the first
	// request.
	PollWait time.Duration

	token string
	me    models.User
	srv   *httptest.Server

	mu         sync.Mutex
	calls      []Call
	failures   map[string]*failure
	blocked    map[int64]bool
	updates    []models.Update
	nextUpdate int64
	offsets    []int64 // of every getUpdates call, 0 when it had none
	notify     chan struct{}
	nextMsgID  map[int64]int
	messages   map[int64][]*Message // by chat, in send order (users' and the bot's)
	chats      map[int64]models.Chat
	commands   []models.BotCommand
	webhook    webhook
	drafts     []Draft
	documents  []Document

	// allowed is the allowed_updates setting of the last getUpdates or
	// setWebhook that named one (reactions.go).
	allowed []string
	// botAdmin marks the groups where the bot is an administrator.
	botAdmin map[int64]bool
}

type webhook struct {
	url    string
	secret string
}

// NewServer starts a fake Bot API for token with the bot's username.
// Close it when done.
func NewServer(token, username string) *Server {
	id, _ := strconv.ParseInt(strings.SplitN(token, ":", 2)[0], 10, 64)
	s := &Server{
		PollWait:  500 * time.Millisecond,
		token:     token,
		me:        models.User{ID: id, IsBot: true, FirstName: "EVO", Username: username},
		failures:  map[string]*failure{},
		blocked:   map[int64]bool{},
		notify:    make(chan struct{}),
		nextMsgID: map[int64]int{},
		messages:  map[int64][]*Message{},
		chats:     map[int64]models.Chat{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL is the server's base URL, for TELEGRAM_API_URL.
func (s *Server) URL() string { return s.srv.URL }

// Me is the bot's own user.
func (s *Server) Me() models.User { return s.me }

// Close stops the server.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Fail makes the next times calls of method fail with code and
// description; retryAfter > 0 adds parameters.retry_after.
func (s *Server) Fail(method string, times, code int, description string, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = &failure{times: times, code: code, description: description, retryAfter: retryAfter}
}

// TooManyRequests makes the next times calls of method answer 429 with
// retry_after seconds, as Telegram's flood control does.
func (s *Server) TooManyRequests(method string, times, retryAfter int) {
	s.Fail(method, times, http.StatusTooManyRequests,
		"Too Many Requests: retry after "+strconv.Itoa(retryAfter), retryAfter)
}

// Block makes every call that targets chatID answer 403, as when the user
// blocked the bot.
func (s *Server) Block(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[chatID] = true
}

// Calls returns the requests received for method ("" for all), oldest first.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Offsets returns the offset of every getUpdates call received, oldest
// first; 0 stands for a call without one.
func (s *Server) Offsets() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.offsets...)
}

// Commands returns the commands last registered with setMyCommands.
func (s *Server) Commands() []models.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]models.BotCommand(nil), s.commands...)
}

// Webhook returns the URL and secret token last set with setWebhook.
func (s *Server) Webhook() (hookURL, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook.url, s.webhook.secret
}

// answer is the Bot API's envelope.
type answer struct {
	OK          bool          `json:"ok"`
	Result      any           `json:"result,omitempty"`
	ErrorCode   int           `json:"error_code,omitempty"`
	Description string        `json:"description,omitempty"`
	Parameters  *answerParams `json:"parameters,omitempty"`
}

type answerParams struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

// apiError is an error answer.
type apiError struct {
	code        int
	description string
	retryAfter  int
}

func badRequest(desc string) *apiError {
	return &apiError{code: http.StatusBadRequest, description: "Bad Request: " + desc}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	token, method, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	if !ok || !strings.HasPrefix(r.URL.Path, "/bot") {
		http.NotFound(w, r)
		return
	}
	if token != s.token {
		writeAnswer(w, answer{ErrorCode: http.StatusUnauthorized, Description: "Unauthorized"})
		return
	}
	params, files, err := readParams(r)
	if err != nil {
		writeAnswer(w, answer{ErrorCode: http.StatusBadRequest, Description: "Bad Request: " + err.Error()})
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: method, ContentType: r.Header.Get("Content-Type"), Params: params, At: time.Now()})
	if f := s.failures[method]; f != nil && f.times > 0 {
		f.times--
		s.mu.Unlock()
		a := answer{ErrorCode: f.code, Description: f.description}
		if f.retryAfter > 0 {
			a.Parameters = &answerParams{RetryAfter: f.retryAfter}
		}
		writeAnswer(w, a)
		return
	}
	if chat, err := strconv.ParseInt(params["chat_id"], 10, 64); err == nil && s.blocked[chat] {
		s.mu.Unlock()
		writeAnswer(w, answer{ErrorCode: http.StatusForbidden, Description: "Forbidden: bot was blocked by the user"})
		return
	}
	s.mu.Unlock()

	var result any
	var aerr *apiError
	switch method {
	case "getUpdates":
		result, aerr = s.getUpdates(r, params)
	case "sendDocument":
		result, aerr = s.sendDocument(params, files)
	default:
		result, aerr = s.call(method, params)
	}
	if aerr != nil {
		a := answer{ErrorCode: aerr.code, Description: aerr.description}
		if aerr.retryAfter > 0 {
			a.Parameters = &answerParams{RetryAfter: aerr.retryAfter}
		}
		writeAnswer(w, a)
		return
	}
	writeAnswer(w, answer{OK: true, Result: result})
}

func writeAnswer(w http.ResponseWriter, a answer) {
	w.Header().Set("Content-Type", "application/json")
	status := http.StatusOK
	if !a.OK {
		status = a.ErrorCode
	}
	body, err := json.Marshal(a)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// readParams reads a request's parameters from multipart, JSON,
// urlencoded or query form; JSON values that are not strings are kept as
// their JSON text, as multipart clients send them. Files come only in
// multipart form, by field name.
func readParams(r *http.Request) (map[string]string, map[string]Upload, error) {
	out := map[string]string{}
	files := map[string]Upload{}
	for k, v := range r.URL.Query() {
		out[k] = v[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return nil, nil, err
		}
		for k, v := range r.MultipartForm.Value {
			out[k] = v[0]
		}
		for k, fhs := range r.MultipartForm.File {
			u, err := readUpload(fhs[0])
			if err != nil {
				return nil, nil, err
			}
			files[k] = u
		}
	case "application/json":
		var m map[string]json.RawMessage
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			return nil, nil, err
		}
		if len(body) > 0 {
			if err := json.Unmarshal(body, &m); err != nil {
				return nil, nil, err
			}
		}
		for k, v := range m {
			var str string
			if json.Unmarshal(v, &str) == nil {
				out[k] = str
			} else {
				out[k] = string(v)
			}
		}
	case "application/x-www-form-urlencoded":
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			return nil, nil, err
		}
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, nil, err
		}
		for k, v := range vals {
			out[k] = v[0]
		}
	}
	return out, files, nil
}
