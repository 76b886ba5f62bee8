// Package discordtest is a fake Discord for tests: an HTTP server speaking
// the parts of Discord's REST API and websocket gateway (v9, JSON encoding)
// that a bot built on discordgo uses. It records every REST request and the
// final content of every message, and lets a test post user messages, run
// slash commands, force gateway reconnects and script 429 rate limits.
//
// One Server can host several bots at once (each logs in with its own
// token), so parallel tests can share the one server that discordgo's
// package-level endpoints point at.
package discordtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Channel types, as Discord numbers them.
const (
	ChannelGuildText     = 0
	ChannelDM            = 1
	ChannelGuildNews     = 5
	ChannelNewsThread    = 10
	ChannelPublicThread  = 11
	ChannelPrivateThread = 12
)

// User is a Discord account.
type User struct {
	ID         string
	Username   string
	GlobalName string
	Bot        bool
}

// Channel is a text channel, thread or DM. Bot is the token of the bot
// that sees it: events in the channel go to that bot's gateway session.
type Channel struct {
	ID       string
	Type     int
	GuildID  string
	ParentID string
	Name     string
	Bot      string
}

// Options tune a Server; the zero value is usable.
type Options struct {
	// HeartbeatInterval is sent in Hello; default 41.25 s as Discord does.
	HeartbeatInterval time.Duration
	// NoEcho stops the gateway from dispatching MESSAGE_CREATE and
	// MESSAGE_UPDATE for the bots' own messages (Discord does send them).
	NoEcho bool
}

// Server is a running fake Discord.
type Server struct {
	// URL is the base URL to give discordgo (the /api/v9/ path is below it).
	URL string

	opts Options
	http *httptest.Server

	mu           sync.Mutex
	changed      chan struct{}
	nextID       int64
	bots         map[string]*botAccount // by token
	channels     map[string]Channel
	messages     []*Message
	byID         map[string]*Message
	requests     []Request
	interactions []*Interaction
	limits       []*RateLimit
}

type botAccount struct {
	token    string
	user     User
	appID    string
	commands []Command
	session  *session
	// roles are the bot's roles by guild (its integration role, say).
	roles map[string][]Role
}

// Role is a guild role.
type Role struct {
	ID   string
	Name string
}

// SetBotRoles gives the bot roles in a guild: GUILD_CREATE lists them and
// the bot's member, and GET /guilds/{guild}/members/{bot} returns it.
func (s *Server) SetBotRoles(token, guildID string, roles ...Role) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bots[token]
	if !ok {
		panic("discordtest: SetBotRoles of an unknown bot")
	}
	if b.roles == nil {
		b.roles = map[string][]Role{}
	}
	b.roles[guildID] = append([]Role(nil), roles...)
}

// New starts a fake Discord; Close stops it.
func New(opts Options) *Server {
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 41250 * time.Millisecond
	}
	s := &Server{
		opts:     opts,
		changed:  make(chan struct{}),
		nextID:   1_100_000_000_000_000_000,
		bots:     map[string]*botAccount{},
		channels: map[string]Channel{},
		byID:     map[string]*Message{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/gateway", s.serveGateway)
	mux.HandleFunc("/gateway/", s.serveGateway)
	mux.HandleFunc("/api/v9/", s.serveREST)
	s.http = httptest.NewServer(mux)
	s.URL = s.http.URL
	return s
}

// Close drops every gateway connection and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	for _, b := range s.bots {
		if b.session != nil && b.session.conn != nil {
			b.session.conn.close()
		}
	}
	s.mu.Unlock()
	s.http.CloseClientConnections()
	s.http.Close()
}

// AddBot registers a bot account that logs in with token ("Bot " prefix
// optional). Its application id is its user id.
func (s *Server) AddBot(token string, u User) {
	u.Bot = true
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bots[bareToken(token)] = &botAccount{token: bareToken(token), user: u, appID: u.ID}
	s.notifyLocked()
}

// AddChannel registers a channel, thread or DM.
func (s *Server) AddChannel(c Channel) {
	c.Bot = bareToken(c.Bot)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[c.ID] = c
	s.notifyLocked()
}

// NewID returns a fresh snowflake.
func (s *Server) NewID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newIDLocked()
}

func (s *Server) newIDLocked() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

func bareToken(t string) string { return strings.TrimPrefix(t, "Bot ") }

// notifyLocked wakes every Wait; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Wait blocks until cond holds for a snapshot of the server, or ctx ends.
func (s *Server) Wait(ctx context.Context, cond func(v View) bool) (View, error) {
	for {
		s.mu.Lock()
		v := s.viewLocked()
		ch := s.changed
		s.mu.Unlock()
		if cond(v) {
			return v, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return v, fmt.Errorf("wait for fake discord: %w", ctx.Err())
		}
	}
}

// Snapshot returns the server's current state.
func (s *Server) Snapshot() View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.viewLocked()
}

// View is a copy of the server's state at one moment.
type View struct {
	Messages     []Message
	Requests     []Request
	Interactions []Interaction
	Sessions     map[string]SessionStats // by bot token
	Commands     map[string][]Command    // by application id
}

// SessionStats describes one bot's gateway session.
type SessionStats struct {
	Connected  bool
	SessionID  string
	Identifies int
	Resumes    int
	Heartbeats int
	Acks       int
	Intents    int
	Seq        int64
	Connects   int
}

func (s *Server) viewLocked() View {
	v := View{Sessions: map[string]SessionStats{}, Commands: map[string][]Command{}}
	for _, m := range s.messages {
		c := *m
		c.EditTimes = slices.Clone(m.EditTimes)
		v.Messages = append(v.Messages, c)
	}
	v.Requests = slices.Clone(s.requests)
	for _, i := range s.interactions {
		c := *i
		c.Callbacks = slices.Clone(i.Callbacks)
		c.Followups = slices.Clone(i.Followups)
		v.Interactions = append(v.Interactions, c)
	}
	for tok, b := range s.bots {
		if b.session != nil {
			v.Sessions[tok] = b.session.stats()
		}
		if b.commands != nil {
			v.Commands[b.appID] = slices.Clone(b.commands)
		}
	}
	return v
}

// InChannel returns the messages of one channel, oldest first.
func (v View) InChannel(channelID string) []Message {
	var out []Message
	for _, m := range v.Messages {
		if m.ChannelID == channelID && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// By returns the live messages written by userID in channelID.
func (v View) By(channelID, userID string) []Message {
	var out []Message
	for _, m := range v.InChannel(channelID) {
		if m.Author.ID == userID {
			out = append(out, m)
		}
	}
	return out
}

// Message returns the message with id.
func (v View) Message(id string) (Message, bool) {
	for _, m := range v.Messages {
		if m.ID == id {
			return m, true
		}
	}
	return Message{}, false
}

// RequestsTo returns the recorded requests whose method matches (empty
// for any) and whose path contains part.
func (v View) RequestsTo(method, part string) []Request {
	var out []Request
	for _, r := range v.Requests {
		if (method == "" || r.Method == method) && strings.Contains(r.Path, part) {
			out = append(out, r)
		}
	}
	return out
}

// Interaction returns the interaction with id.
func (v View) Interaction(id string) (Interaction, bool) {
	for _, i := range v.Interactions {
		if i.ID == id {
			return i, true
		}
	}
	return Interaction{}, false
}
