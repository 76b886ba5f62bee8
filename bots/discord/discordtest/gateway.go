package discordtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Gateway opcodes.
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opResume         = 6
	opReconnect      = 7
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatACK   = 11
)

// Intents the fake honours.
const (
	intentGuilds         = 1 << 0
	intentGuildMessages  = 1 << 9
	intentDirectMessages = 1 << 12
	intentMessageContent = 1 << 15
)

// replayLimit bounds the events kept for resumes.
const replayLimit = 1000

// writeTimeout bounds one frame write to a client.
const writeTimeout = 2 * time.Second

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// session is one bot's gateway session; it outlives connections so that
// a client can resume it.
type session struct {
	id      string
	seq     int64
	events  []frame
	conn    *gwConn
	intents int
	counts  SessionStats
}

type frame struct {
	Op   int             `json:"op"`
	Seq  *int64          `json:"s"`
	Type *string         `json:"t"`
	Data json.RawMessage `json:"d"`
}

type gwConn struct {
	ws     *websocket.Conn
	closed bool
}

func (c *gwConn) write(v any) error {
	if c.closed {
		return errors.New("connection closed")
	}
	if err := c.ws.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	return c.ws.WriteJSON(v)
}

func (c *gwConn) close() {
	c.closed = true
	_ = c.ws.Close()
}

func (ss *session) stats() SessionStats {
	st := ss.counts
	st.Connected = ss.conn != nil
	st.SessionID = ss.id
	st.Seq = ss.seq
	st.Intents = ss.intents
	return st
}

func (s *Server) gatewayURL() string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + "/gateway"
}

// serveGateway runs one websocket connection.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	if q := r.URL.Query(); q.Get("v") != "9" || q.Get("encoding") != "json" {
		http.Error(w, "want ?v=9&encoding=json", http.StatusBadRequest)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &gwConn{ws: ws}
	s.mu.Lock()
	err = c.write(map[string]any{"op": opHello, "s": nil, "t": nil,
		"d": map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds()}})
	s.mu.Unlock()
	if err != nil {
		_ = ws.Close()
		return
	}
	var bot *botAccount
	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		c.close()
		if bot != nil && bot.session != nil && bot.session.conn == c {
			bot.session.conn = nil
		}
		s.notifyLocked()
	}()
	for {
		var f frame
		if err := ws.ReadJSON(&f); err != nil {
			return
		}
		s.mu.Lock()
		bot, err = s.gatewayFrameLocked(c, bot, f)
		s.notifyLocked()
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// gatewayFrameLocked handles one client frame; an error ends the
// connection.
func (s *Server) gatewayFrameLocked(c *gwConn, bot *botAccount, f frame) (*botAccount, error) {
	switch f.Op {
	case opHeartbeat:
		if bot != nil && bot.session != nil {
			bot.session.counts.Heartbeats++
		}
		if err := c.write(map[string]any{"op": opHeartbeatACK, "s": nil, "t": nil, "d": nil}); err != nil {
			return bot, err
		}
		if bot != nil && bot.session != nil {
			bot.session.counts.Acks++
		}
	case opIdentify:
		var d struct {
			Token   string `json:"token"`
			Intents int    `json:"intents"`
		}
		if err := json.Unmarshal(f.Data, &d); err != nil {
			return bot, c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4002, "Error while decoding payload."))
		}
		b, ok := s.bots[bareToken(d.Token)]
		if !ok || !strings.HasPrefix(d.Token, "Bot ") {
			_ = c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."))
			return nil, errors.New("authentication failed")
		}
		return b, s.identifyLocked(c, b, d.Intents)
	case opResume:
		var d struct {
			Token     string `json:"token"`
			SessionID string `json:"session_id"`
			Seq       int64  `json:"seq"`
		}
		if err := json.Unmarshal(f.Data, &d); err != nil {
			return bot, err
		}
		b, ok := s.bots[bareToken(d.Token)]
		if !ok || b.session == nil || b.session.id != d.SessionID {
			return b, c.write(map[string]any{"op": opInvalidSession, "s": nil, "t": nil, "d": false})
		}
		return b, s.resumeLocked(c, b, d.Seq)
	}
	return bot, nil
}

func (s *Server) identifyLocked(c *gwConn, b *botAccount, intents int) error {
	if b.session != nil && b.session.conn != nil && b.session.conn != c {
		b.session.conn.close()
	}
	counts := SessionStats{}
	if b.session != nil {
		counts = b.session.counts
	}
	counts.Identifies++
	counts.Connects++
	b.session = &session{id: randomHex(16), conn: c, intents: intents, counts: counts}
	guilds := s.guildsLocked(b.token)
	ready := map[string]any{
		"v":                  9,
		"user":               userJSON(b.user),
		"session_id":         b.session.id,
		"resume_gateway_url": s.gatewayURL(),
		"guilds":             []any{},
		"private_channels":   []any{},
		"application":        map[string]any{"id": b.appID, "flags": 0},
		"shard":              []int{0, 1},
	}
	var list []any
	for _, g := range guilds {
		list = append(list, map[string]any{"id": g, "unavailable": true})
	}
	if list != nil {
		ready["guilds"] = list
	}
	if err := s.dispatchLocked(b.token, "READY", ready); err != nil {
		return err
	}
	if intents&intentGuilds == 0 {
		return nil
	}
	for _, g := range guilds {
		if err := s.dispatchLocked(b.token, "GUILD_CREATE", s.guildJSONLocked(b.token, g)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) resumeLocked(c *gwConn, b *botAccount, seq int64) error {
	ss := b.session
	if ss.conn != nil && ss.conn != c {
		ss.conn.close()
	}
	ss.conn = c
	ss.counts.Resumes++
	ss.counts.Connects++
	for _, f := range ss.events {
		if *f.Seq > seq {
			if err := c.write(f); err != nil {
				return err
			}
		}
	}
	return s.dispatchLocked(b.token, "RESUMED", map[string]any{})
}

// guildsLocked lists the guilds of the channels a bot sees.
func (s *Server) guildsLocked(token string) []string {
	var out []string
	for _, c := range s.channels {
		if c.Bot == token && c.GuildID != "" && !slices.Contains(out, c.GuildID) {
			out = append(out, c.GuildID)
		}
	}
	slices.Sort(out)
	return out
}

func (s *Server) guildJSONLocked(token, guildID string) map[string]any {
	channels, threads := []any{}, []any{}
	for _, c := range s.channels {
		if c.Bot != token || c.GuildID != guildID {
			continue
		}
		if c.Type >= ChannelNewsThread && c.Type <= ChannelPrivateThread {
			threads = append(threads, channelJSON(c))
		} else {
			channels = append(channels, channelJSON(c))
		}
	}
	roles := []any{}
	b := s.bots[token]
	for _, r := range b.roles[guildID] {
		roles = append(roles, roleJSON(r))
	}
	return map[string]any{
		"id": guildID, "name": "guild " + guildID, "unavailable": false, "member_count": 2,
		"joined_at": "2024-01-01T00:00:00.000000+00:00", "roles": roles, "emojis": []any{},
		// Discord always lists the current user's own member.
		"members": []any{s.botMemberJSONLocked(b, guildID)}, "presences": []any{}, "voice_states": []any{},
		"channels": channels, "threads": threads,
	}
}

// botMemberJSONLocked is the bot's guild member object.
func (s *Server) botMemberJSONLocked(b *botAccount, guildID string) map[string]any {
	ids := []string{}
	for _, r := range b.roles[guildID] {
		ids = append(ids, r.ID)
	}
	return map[string]any{"user": userJSON(b.user), "roles": ids, "joined_at": "2024-01-01T00:00:00.000000+00:00",
		"deaf": false, "mute": false, "flags": 0}
}

func roleJSON(r Role) map[string]any {
	return map[string]any{"id": r.ID, "name": r.Name, "color": 0, "hoist": false, "position": 1,
		"permissions": "0", "managed": true, "mentionable": true}
}

// dispatchLocked numbers an event, keeps it for resumes and sends it if
// the bot is connected.
func (s *Server) dispatchLocked(token, event string, data any) error {
	b, ok := s.bots[token]
	if !ok {
		return fmt.Errorf("dispatch %s: unknown bot", event)
	}
	ss := b.session
	if ss == nil {
		return fmt.Errorf("dispatch %s: bot %s never connected", event, b.user.ID)
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("dispatch %s: %w", event, err)
	}
	ss.seq++
	seq, typ := ss.seq, event
	f := frame{Op: opDispatch, Seq: &seq, Type: &typ, Data: raw}
	ss.events = append(ss.events, f)
	if len(ss.events) > replayLimit {
		ss.events = ss.events[len(ss.events)-replayLimit:]
	}
	if ss.conn != nil {
		if err := ss.conn.write(f); err != nil {
			ss.conn.close()
			ss.conn = nil
		}
	}
	s.notifyLocked()
	return nil
}

// Reconnect sends opcode 7 (Reconnect) to a bot's connection.
func (s *Server) Reconnect(botToken string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bots[bareToken(botToken)]
	if !ok || b.session == nil || b.session.conn == nil {
		return errors.New("reconnect: bot not connected")
	}
	return b.session.conn.write(map[string]any{"op": opReconnect, "s": nil, "t": nil, "d": nil})
}

// Drop cuts a bot's connection without a close frame, as a network
// failure would.
func (s *Server) Drop(botToken string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bots[bareToken(botToken)]
	if !ok || b.session == nil || b.session.conn == nil {
		return errors.New("drop: bot not connected")
	}
	b.session.conn.close()
	b.session.conn = nil
	s.notifyLocked()
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
