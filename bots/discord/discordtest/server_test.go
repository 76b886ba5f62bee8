package discordtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// do sends a REST request as a bot and decodes the JSON answer.
func do(t *testing.T, s *Server, method, path, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+"/api/v9/"+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bot "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return resp.StatusCode, resp.Header, out
}

func TestREST(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	s.AddBot("tok", User{ID: "10", Username: "evo"})
	s.AddChannel(Channel{ID: "20", Type: ChannelGuildText, GuildID: "30", Bot: "tok"})
	s.AddRateLimit(RateLimit{Method: "POST", Path: "/channels/20/messages", Count: 1, RetryAfter: 0.25})
	tests := []struct {
		name       string
		method     string
		path       string
		token      string
		body       any
		wantStatus int
		wantCode   float64
	}{
		{name: "rate limited once", method: "POST", path: "channels/20/messages", token: "tok", body: map[string]any{"content": "x"}, wantStatus: 429},
		{name: "send", method: "POST", path: "channels/20/messages", token: "tok", body: map[string]any{"content": "x"}, wantStatus: 200},
		{name: "too long", method: "POST", path: "channels/20/messages", token: "tok", body: map[string]any{"content": strings.Repeat("ğ", 2001)}, wantStatus: 400, wantCode: 50035},
		{name: "empty", method: "POST", path: "channels/20/messages", token: "tok", body: map[string]any{"content": "  "}, wantStatus: 400, wantCode: 50006},
		{name: "unknown reply target", method: "POST", path: "channels/20/messages", token: "tok",
			body: map[string]any{"content": "x", "message_reference": map[string]any{"message_id": "1"}}, wantStatus: 400, wantCode: 50035},
		{name: "unknown channel", method: "POST", path: "channels/21/messages", token: "tok", body: map[string]any{"content": "x"}, wantStatus: 404, wantCode: 10003},
		{name: "bad token", method: "GET", path: "gateway", token: "nope", wantStatus: 401},
		{name: "typing", method: "POST", path: "channels/20/typing", token: "tok", wantStatus: 204},
		{name: "gateway", method: "GET", path: "gateway/bot", token: "tok", wantStatus: 200},
		{name: "bad command name", method: "PUT", path: "applications/10/commands", token: "tok",
			body: []any{map[string]any{"name": "Reset", "description": "x"}}, wantStatus: 400, wantCode: 50035},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := do(t, s, tt.method, tt.path, tt.token, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%v)", status, tt.wantStatus, body)
			}
			if tt.wantCode != 0 && body["code"] != tt.wantCode {
				t.Errorf("code = %v, want %v", body["code"], tt.wantCode)
			}
			if status == 429 {
				if body["retry_after"] != 0.25 || body["global"] != false || h.Get("X-RateLimit-Reset-After") != "0.250" {
					t.Errorf("429 body %v headers %v, want retry_after 0.25, global false", body, h)
				}
			}
		})
	}
	v := s.Snapshot()
	if got := v.By("20", "10"); len(got) != 1 || got[0].Content != "x" {
		t.Errorf("stored %+v, want one message x", got)
	}
	if n := len(v.RequestsTo("", "/api/v9/")); n != len(tests) {
		t.Errorf("recorded %d requests, want %d", n, len(tests))
	}
}

func readFrame(t *testing.T, c *websocket.Conn) frame {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var f frame
	if err := c.ReadJSON(&f); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	return f
}

func dial(t *testing.T, s *Server) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(s.gatewayURL()+"/?v=9&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if f := readFrame(t, c); f.Op != opHello || !strings.Contains(string(f.Data), `"heartbeat_interval":1000`) {
		t.Fatalf("first frame = op %d %s, want Hello with the interval", f.Op, f.Data)
	}
	return c
}

func TestGateway(t *testing.T) {
	s := New(Options{HeartbeatInterval: time.Second})
	defer s.Close()
	s.AddBot("tok", User{ID: "10", Username: "evo"})
	s.AddChannel(Channel{ID: "20", Type: ChannelGuildText, GuildID: "30", Bot: "tok"})

	c := dial(t, s)
	if err := c.WriteJSON(map[string]any{"op": opHeartbeat, "d": nil}); err != nil {
		t.Fatal(err)
	}
	if f := readFrame(t, c); f.Op != opHeartbeatACK {
		t.Fatalf("heartbeat answered with op %d, want 11", f.Op)
	}
	if err := c.WriteJSON(map[string]any{"op": opIdentify, "d": map[string]any{"token": "Bot tok", "intents": intentGuilds | intentGuildMessages}}); err != nil {
		t.Fatal(err)
	}
	ready := readFrame(t, c)
	var rd struct {
		SessionID string `json:"session_id"`
		Resume    string `json:"resume_gateway_url"`
		User      struct{ ID string }
	}
	if err := json.Unmarshal(ready.Data, &rd); err != nil || *ready.Type != "READY" || *ready.Seq != 1 || rd.User.ID != "10" || rd.SessionID == "" || rd.Resume == "" {
		t.Fatalf("READY = %s %s (%v)", *ready.Type, ready.Data, err)
	}
	if f := readFrame(t, c); *f.Type != "GUILD_CREATE" || !strings.Contains(string(f.Data), `"id":"20"`) {
		t.Fatalf("want GUILD_CREATE with the channel, got %s", f.Data)
	}
	if _, err := s.Post(Post{ChannelID: "20", Author: User{ID: "40", Username: "u"}, Content: "gizli"}); err != nil {
		t.Fatal(err)
	}
	f := readFrame(t, c)
	if *f.Type != "MESSAGE_CREATE" || !strings.Contains(string(f.Data), `"content":""`) {
		t.Errorf("without MESSAGE_CONTENT the content must be empty: %s", f.Data)
	}
	if err := s.Reconnect("tok"); err != nil {
		t.Fatal(err)
	}
	if f := readFrame(t, c); f.Op != opReconnect {
		t.Fatalf("got op %d, want 7", f.Op)
	}
	c.Close()
	// Events while away are replayed on resume, then RESUMED.
	if _, err := s.Post(Post{ChannelID: "20", Author: User{ID: "40", Username: "u"}, Content: "x"}); err != nil {
		t.Fatal(err)
	}
	c2 := dial(t, s)
	if err := c2.WriteJSON(map[string]any{"op": opResume, "d": map[string]any{"token": "Bot tok", "session_id": rd.SessionID, "seq": 3}}); err != nil {
		t.Fatal(err)
	}
	var types []string
	for range 2 {
		types = append(types, *readFrame(t, c2).Type)
	}
	if !slices.Equal(types, []string{"MESSAGE_CREATE", "RESUMED"}) {
		t.Errorf("after resume got %v, want the missed MESSAGE_CREATE then RESUMED", types)
	}
	c3 := dial(t, s)
	if err := c3.WriteJSON(map[string]any{"op": opResume, "d": map[string]any{"token": "Bot tok", "session_id": "old", "seq": 1}}); err != nil {
		t.Fatal(err)
	}
	if f := readFrame(t, c3); f.Op != opInvalidSession {
		t.Errorf("resume of an unknown session answered op %d, want 9", f.Op)
	}
}

func TestPings(t *testing.T) {
	none := &AllowedMentions{Parse: []string{}, RepliedUser: true}
	tests := []struct {
		name string
		m    Message
		want []string
	}{
		{name: "no allowed_mentions parses all", m: Message{Content: "@everyone <@&5> <@6>"}, want: []string{"everyone", "role:5", "user:6"}},
		{name: "parse empty", m: Message{Content: "@here <@&5> <@!6>", AllowedMentions: none}},
		{name: "replied user", m: Message{Content: "hi", Reference: "1", AllowedMentions: none}, want: []string{"replied:9"}},
		{name: "explicit user", m: Message{Content: "<@6>", AllowedMentions: &AllowedMentions{Parse: []string{}, Users: []string{"6"}}}, want: []string{"user:6"}},
		{name: "everyone allowed", m: Message{Content: "@everyone", AllowedMentions: &AllowedMentions{Parse: []string{"everyone"}}}, want: []string{"everyone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Pings("9"); !slices.Equal(got, tt.want) {
				t.Errorf("Pings = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMessageReference(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	s.AddBot("tok", User{ID: "10", Username: "evo"})
	s.AddChannel(Channel{ID: "20", Type: ChannelGuildText, GuildID: "30", Bot: "tok"})
	s.AddChannel(Channel{ID: "21", Type: ChannelGuildText, GuildID: "30", Bot: "tok"})
	stored := func(channel string) string {
		t.Helper()
		_, _, body := do(t, s, "POST", "channels/"+channel+"/messages", "tok", map[string]any{"content": "kullanıcı"})
		return body["id"].(string)
	}
	live, other, gone := stored("20"), stored("21"), stored("20")
	if status, _, _ := do(t, s, "DELETE", "channels/20/messages/"+gone, "tok", nil); status != 204 {
		t.Fatalf("delete status = %d, want 204", status)
	}
	no, yes := false, true
	tests := []struct {
		name       string
		id         string
		fail       *bool
		wantStatus int
		wantRef    string
	}{
		{name: "live message", id: live, wantStatus: 200, wantRef: live},
		{name: "unknown, fail left out", id: "1", wantStatus: 400},
		{name: "unknown, fail true", id: "1", fail: &yes, wantStatus: 400},
		{name: "unknown, fail false", id: "1", fail: &no, wantStatus: 200},
		{name: "deleted, fail left out", id: gone, wantStatus: 400},
		{name: "deleted, fail false", id: gone, fail: &no, wantStatus: 200},
		{name: "other channel, fail false", id: other, fail: &no, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := map[string]any{"message_id": tt.id}
			if tt.fail != nil {
				ref["fail_if_not_exists"] = *tt.fail
			}
			status, _, body := do(t, s, "POST", "channels/20/messages", "tok",
				map[string]any{"content": "cevap", "message_reference": ref})
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%v)", status, tt.wantStatus, body)
			}
			if status != 200 {
				return
			}
			m, ok := s.Snapshot().Message(body["id"].(string))
			if !ok {
				t.Fatal("message not stored")
			}
			if got, want := m.Reference, tt.wantRef; got != want {
				t.Errorf("reference = %q, want %q", got, want)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"unut", true},
		{"öğren_2", true},
		{"sıfırla-hepsi", true},
		{"", false},
		{"Unut", false},
		{"iki kelime", false},
		{"nokta.", false},
		{strings.Repeat("a", 32), true},
		{strings.Repeat("ş", 32), true},
		{strings.Repeat("a", 33), false},
		{"\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validName(tt.name); got != tt.want {
				t.Errorf("validName(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}
