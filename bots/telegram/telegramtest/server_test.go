package telegramtest

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
)

type reply struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// post calls method with params in the given encoding.
func post(t *testing.T, s *Server, method, encoding string, params map[string]string) reply {
	t.Helper()
	var body bytes.Buffer
	var ct string
	switch encoding {
	case "multipart":
		w := multipart.NewWriter(&body)
		for k, v := range params {
			if err := w.WriteField(k, v); err != nil {
				t.Fatal(err)
			}
		}
		w.Close()
		ct = w.FormDataContentType()
	case "json":
		if err := json.NewEncoder(&body).Encode(params); err != nil {
			t.Fatal(err)
		}
		ct = "application/json"
	default:
		vals := url.Values{}
		for k, v := range params {
			vals.Set(k, v)
		}
		body.WriteString(vals.Encode())
		ct = "application/x-www-form-urlencoded"
	}
	resp, err := http.Post(s.URL()+"/bot"+DefaultToken+"/"+method, ct, &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r reply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

func newServer(t *testing.T) *Server {
	t.Helper()
	s := NewServer(DefaultToken, "evo_test_bot")
	t.Cleanup(s.Close)
	return s
}

func TestSendMessageRules(t *testing.T) {
	tests := []struct {
		name     string
		encoding string
		params   map[string]string
		wantOK   bool
		wantDesc string
	}{
		{"multipart html", "multipart", map[string]string{"chat_id": "5", "text": "<b>a</b> &lt;", "parse_mode": "HTML"}, true, ""},
		{"json", "json", map[string]string{"chat_id": "5", "text": "merhaba"}, true, ""},
		{"urlencoded", "form", map[string]string{"chat_id": "5", "text": "merhaba"}, true, ""},
		{"too long after entities", "multipart", map[string]string{"chat_id": "5", "parse_mode": "HTML",
			"text": "<b>" + strings.Repeat("&amp;", 4097) + "</b>"}, false, "Bad Request: message is too long"},
		{"fits after entities", "multipart", map[string]string{"chat_id": "5", "parse_mode": "HTML",
			"text": "<b>" + strings.Repeat("&amp;", 4096) + "</b>"}, true, ""},
		{"surrogates count twice", "multipart", map[string]string{"chat_id": "5", "text": strings.Repeat("😀", 2049)}, false, "Bad Request: message is too long"},
		{"unbalanced tag", "multipart", map[string]string{"chat_id": "5", "text": "<b>a", "parse_mode": "HTML"}, false, "Bad Request: can't parse entities"},
		{"unknown tag", "multipart", map[string]string{"chat_id": "5", "text": "<script>a</script>", "parse_mode": "HTML"}, false, "Bad Request: can't parse entities"},
		{"bare ampersand", "multipart", map[string]string{"chat_id": "5", "text": "a & b", "parse_mode": "HTML"}, false, "Bad Request: can't parse entities"},
		{"empty", "multipart", map[string]string{"chat_id": "5", "text": "  "}, false, "Bad Request: message text is empty"},
		{"no chat", "multipart", map[string]string{"text": "x"}, false, "Bad Request: chat not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			r := post(t, s, "sendMessage", tt.encoding, tt.params)
			if r.OK != tt.wantOK || !strings.HasPrefix(r.Description, tt.wantDesc) {
				t.Errorf("ok=%v desc=%q, want ok=%v desc starting %q", r.OK, r.Description, tt.wantOK, tt.wantDesc)
			}
			if !r.OK && r.ErrorCode != http.StatusBadRequest {
				t.Errorf("error_code = %d, want 400", r.ErrorCode)
			}
		})
	}
}

func TestEditMessageText(t *testing.T) {
	s := newServer(t)
	r := post(t, s, "sendMessage", "multipart", map[string]string{"chat_id": "5", "text": "<i>bir</i>", "parse_mode": "HTML"})
	var m models.Message
	if err := json.Unmarshal(r.Result, &m); err != nil || m.ID == 0 {
		t.Fatalf("sendMessage result %s: %v", r.Result, err)
	}
	id := strconv.Itoa(m.ID)
	tests := []struct {
		name     string
		params   map[string]string
		wantDesc string
	}{
		{"edit", map[string]string{"chat_id": "5", "message_id": id, "text": "<i>iki</i>", "parse_mode": "HTML"}, ""},
		{"same text", map[string]string{"chat_id": "5", "message_id": id, "text": "<i>iki</i>", "parse_mode": "HTML"}, "Bad Request: message is not modified"},
		{"unknown message", map[string]string{"chat_id": "5", "message_id": "999", "text": "x"}, "Bad Request: message to edit not found"},
		{"other chat", map[string]string{"chat_id": "6", "message_id": id, "text": "x"}, "Bad Request: message to edit not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, s, "editMessageText", "multipart", tt.params)
			if tt.wantDesc == "" && !r.OK || !strings.HasPrefix(r.Description, tt.wantDesc) {
				t.Errorf("ok=%v desc=%q, want desc starting %q", r.OK, r.Description, tt.wantDesc)
			}
		})
	}
	got := s.BotMessages(5)
	if len(got) != 1 || got[0].Visible != "iki" || len(got[0].Versions) != 2 {
		t.Errorf("stored %+v, want one message showing %q after one edit", got, "iki")
	}
}

func TestScriptedFailures(t *testing.T) {
	s := newServer(t)
	s.TooManyRequests("sendMessage", 2, 7)
	s.Block(9)
	for i := range 2 {
		r := post(t, s, "sendMessage", "multipart", map[string]string{"chat_id": "5", "text": "x"})
		if r.OK || r.ErrorCode != 429 || r.Parameters.RetryAfter != 7 || r.Description != "Too Many Requests: retry after 7" {
			t.Errorf("call %d: %+v, want 429 with retry_after 7", i, r)
		}
	}
	if r := post(t, s, "sendMessage", "multipart", map[string]string{"chat_id": "5", "text": "x"}); !r.OK {
		t.Errorf("third call failed: %+v", r)
	}
	if r := post(t, s, "sendMessage", "multipart", map[string]string{"chat_id": "9", "text": "x"}); r.OK || r.ErrorCode != 403 {
		t.Errorf("blocked chat: %+v, want 403", r)
	}
}

func TestGetUpdates(t *testing.T) {
	s := newServer(t)
	s.PollWait = 300 * time.Millisecond
	u := models.User{ID: 5, FirstName: "A"}

	start := time.Now()
	r := post(t, s, "getUpdates", "multipart", map[string]string{"timeout": "10"})
	if waited := time.Since(start); !r.OK || string(r.Result) != "[]" || waited < 250*time.Millisecond {
		t.Errorf("empty poll answered %s after %v, want [] after about PollWait", r.Result, waited)
	}

	go func() {
		time.Sleep(50 * time.Millisecond)
		s.Post(models.Message{Chat: models.Chat{ID: 5}, From: &u, Text: "/start@evo_test_bot merhaba @evo_test_bot"})
	}()
	r = post(t, s, "getUpdates", "multipart", map[string]string{"timeout": "10"})
	var ups []models.Update
	if err := json.Unmarshal(r.Result, &ups); err != nil || len(ups) != 1 || ups[0].ID == 0 {
		t.Fatalf("blocked poll got %s (%v), want one update with an id", r.Result, err)
	}
	m := ups[0].Message
	wantEnt := []models.MessageEntity{
		{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: 19},
		{Type: models.MessageEntityTypeMention, Offset: 28, Length: 13},
	}
	if m == nil || m.Chat.Type != models.ChatTypePrivate || len(m.Entities) != 2 || m.Entities[0] != wantEnt[0] || m.Entities[1] != wantEnt[1] {
		t.Errorf("message %+v, want a private message with entities %+v", m, wantEnt)
	}
	// Without the offset moving on, the update comes again; with it, not.
	r = post(t, s, "getUpdates", "multipart", map[string]string{"offset": "1"})
	if json.Unmarshal(r.Result, &ups); len(ups) != 1 {
		t.Errorf("re-poll at the same offset got %d updates, want 1", len(ups))
	}
	r = post(t, s, "getUpdates", "multipart", map[string]string{"offset": "2", "timeout": "1"})
	if string(r.Result) != "[]" || s.Pending() != 0 {
		t.Errorf("poll after confirming got %s with %d pending, want none", r.Result, s.Pending())
	}
}

func TestUnauthorizedAndUnknownMethod(t *testing.T) {
	s := newServer(t)
	resp, err := http.Post(s.URL()+"/bot1:wrong/getMe", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: status %d, want 401", resp.StatusCode)
	}
	if r := post(t, s, "noSuchMethod", "json", nil); r.OK || r.ErrorCode != 404 {
		t.Errorf("unknown method: %+v, want 404", r)
	}
}

func TestParseHTML(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`<b>a</b><i>b</i><pre><code class="language-go">c</code></pre>`, "abc", true},
		{`<a href="https://x.y/?a=1&amp;b=2">l</a>`, "l", true},
		{"&#128512;&#x41;&quot;", `😀A"`, true},
		{"<b><i>a</b></i>", "", false},
		{"<a href=\"x\"><a href=\"y\">z</a></a>", "", false},
		{"<code class=\"language-go\">x</code>", "", false},
		{"a > b", "", false},
		{"&nosuch;", "", false},
		{"<b", "", false},
	}
	for _, tt := range tests {
		got, err := ParseHTML(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseHTML(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestOffsetsConfirmAndResends(t *testing.T) {
	s := newServer(t)
	s.PollWait = 5 * time.Second // timeout 0 must not wait for it
	u := models.User{ID: 5, FirstName: "A"}
	first := s.PostTwice(models.Message{Chat: models.Chat{ID: 5}, From: &u, Text: "bir"})
	s.Post(models.Message{Chat: models.Chat{ID: 5}, From: &u, Text: "iki"})
	ids := func(r reply) []int64 {
		t.Helper()
		var ups []models.Update
		if err := json.Unmarshal(r.Result, &ups); err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, u := range ups {
			out = append(out, u.ID)
		}
		return out
	}
	tests := []struct {
		name   string
		params map[string]string
		want   []int64
	}{
		{name: "no offset: oldest unconfirmed, the resend included", params: map[string]string{"timeout": "0"}, want: []int64{1, 1, 2}},
		{name: "offset 1 confirms nothing", params: map[string]string{"offset": "1", "timeout": "0"}, want: []int64{1, 1, 2}},
		{name: "offset 2 confirms both copies", params: map[string]string{"offset": "2", "timeout": "0"}, want: []int64{2}},
		{name: "a lower offset never brings a confirmed update back", params: map[string]string{"offset": "1", "timeout": "0"}, want: []int64{2}},
		{name: "limit", params: map[string]string{"offset": "2", "limit": "1", "timeout": "0"}, want: []int64{2}},
		{name: "offset 3 confirms all", params: map[string]string{"offset": "3", "timeout": "0"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			got := ids(post(t, s, "getUpdates", "json", tt.params))
			if !slices.Equal(got, tt.want) {
				t.Errorf("update ids = %v, want %v", got, tt.want)
			}
			if waited := time.Since(start); waited > 2*time.Second {
				t.Errorf("timeout 0 answered after %v, want at once", waited)
			}
		})
	}
	if got, want := s.Offsets(), []int64{0, 1, 2, 1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("Offsets() = %v, want %v", got, want)
	}
	if first.ID == 0 {
		t.Errorf("PostTwice returned a message without an id")
	}
}
