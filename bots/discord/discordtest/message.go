package discordtest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Message is a stored message with its final content.
type Message struct {
	ID        string
	ChannelID string
	GuildID   string
	Author    User
	Nick      string
	Content   string
	// Reference is the id of the message this one replies to.
	Reference string
	// Mentions are the users the gateway listed as mentioned.
	Mentions        []User
	MentionRoles    []string
	MentionEveryone bool
	// AllowedMentions is what the last create or edit request carried;
	// nil when it carried none (Discord then parses every mention).
	AllowedMentions *AllowedMentions
	Created         time.Time
	Edits           int
	EditTimes       []time.Time
	Deleted         bool
	// Interaction is the id of the slash command this message answers.
	Interaction string
	WebhookID   string
	// Flags are the message flags the bot set (FlagEphemeral: only the
	// user who ran the command sees it).
	Flags int
	// Attachments are the files uploaded with the message.
	Attachments []Attachment
}

// Ephemeral reports whether only the user who ran the command sees m.
func (m Message) Ephemeral() bool { return m.Flags&FlagEphemeral != 0 }

// AllowedMentions is the allowed_mentions object of a request.
type AllowedMentions struct {
	// Parse is nil when the request left "parse" out or null.
	Parse       []string `json:"parse"`
	Roles       []string `json:"roles"`
	Users       []string `json:"users"`
	RepliedUser bool     `json:"replied_user"`
}

var (
	userMention = regexp.MustCompile(`<@!?(\d+)>`)
	roleMention = regexp.MustCompile(`<@&(\d+)>`)
)

// Pings lists who Discord would notify for this message's content under
// its allowed_mentions: "everyone" (for @everyone or @here), "role:ID",
// "user:ID", and "replied:ID" for the author of the message replied to.
func (m Message) Pings(repliedTo string) []string {
	am := m.AllowedMentions
	parse := func(kind string) bool {
		return am == nil || slices.Contains(am.Parse, kind)
	}
	var out []string
	if (strings.Contains(m.Content, "@everyone") || strings.Contains(m.Content, "@here")) && parse("everyone") {
		out = append(out, "everyone")
	}
	for _, g := range roleMention.FindAllStringSubmatch(m.Content, -1) {
		if parse("roles") || (am != nil && slices.Contains(am.Roles, g[1])) {
			out = append(out, "role:"+g[1])
		}
	}
	for _, g := range userMention.FindAllStringSubmatch(m.Content, -1) {
		if parse("users") || (am != nil && slices.Contains(am.Users, g[1])) {
			out = append(out, "user:"+g[1])
		}
	}
	if m.Reference != "" && repliedTo != "" && (am == nil || am.RepliedUser) {
		out = append(out, "replied:"+repliedTo)
	}
	return out
}

// json renders the message as Discord's gateway and REST send it.
func (s *Server) messageJSONLocked(m *Message, withRef bool) map[string]any {
	mentions := []any{}
	for _, u := range m.Mentions {
		mentions = append(mentions, userJSON(u))
	}
	typ := 0
	if m.Reference != "" {
		typ = 19
	}
	out := map[string]any{
		"id":               m.ID,
		"channel_id":       m.ChannelID,
		"author":           userJSON(m.Author),
		"content":          m.Content,
		"timestamp":        m.Created.UTC().Format("2006-01-02T15:04:05.000000+00:00"),
		"edited_timestamp": nil,
		"tts":              false,
		"mention_everyone": m.MentionEveryone,
		"mentions":         mentions,
		"mention_roles":    nonNil(m.MentionRoles),
		"attachments":      attachmentsJSON(m),
		"embeds":           []any{},
		"pinned":           false,
		"type":             typ,
		"flags":            m.Flags,
		"components":       []any{},
	}
	if len(m.EditTimes) > 0 {
		out["edited_timestamp"] = m.EditTimes[len(m.EditTimes)-1].UTC().Format("2006-01-02T15:04:05.000000+00:00")
	}
	if m.GuildID != "" {
		out["guild_id"] = m.GuildID
		member := map[string]any{"roles": []any{}, "joined_at": "2024-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false}
		if m.Nick != "" {
			member["nick"] = m.Nick
		}
		out["member"] = member
	}
	if m.WebhookID != "" {
		out["webhook_id"] = m.WebhookID
	}
	if m.Reference != "" {
		ref := map[string]any{"type": 0, "message_id": m.Reference, "channel_id": m.ChannelID}
		if m.GuildID != "" {
			ref["guild_id"] = m.GuildID
		}
		out["message_reference"] = ref
		if withRef {
			if r, ok := s.byID[m.Reference]; ok {
				out["referenced_message"] = s.messageJSONLocked(r, false)
			} else {
				out["referenced_message"] = nil
			}
		}
	}
	return out
}

func userJSON(u User) map[string]any {
	out := map[string]any{
		"id":            u.ID,
		"username":      u.Username,
		"discriminator": "0",
		"avatar":        nil,
		"global_name":   nil,
	}
	if u.GlobalName != "" {
		out["global_name"] = u.GlobalName
	}
	if u.Bot {
		out["bot"] = true
	}
	return out
}

func channelJSON(c Channel) map[string]any {
	out := map[string]any{"id": c.ID, "type": c.Type, "name": c.Name, "flags": 0}
	if c.GuildID != "" {
		out["guild_id"] = c.GuildID
	}
	if c.ParentID != "" {
		out["parent_id"] = c.ParentID
	}
	if c.Type == ChannelDM {
		delete(out, "name")
		out["recipients"] = []any{}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Post is a user's message to dispatch.
type Post struct {
	ChannelID string
	Author    User
	// Nick is the author's server nickname, if any.
	Nick    string
	Content string
	// Mentions are the users Discord lists as mentioned.
	Mentions        []User
	MentionRoles    []string
	MentionEveryone bool
	// ReplyTo is the id of the message this one replies to.
	ReplyTo string
}

// Post stores a user's message and dispatches MESSAGE_CREATE to the bot
// that sees the channel. It returns the stored message.
func (s *Server) Post(p Post) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[p.ChannelID]
	if !ok {
		return Message{}, fmt.Errorf("post: unknown channel %s", p.ChannelID)
	}
	if p.ReplyTo != "" {
		if _, ok := s.byID[p.ReplyTo]; !ok {
			return Message{}, fmt.Errorf("post: unknown message %s", p.ReplyTo)
		}
	}
	m := &Message{
		ID:              s.newIDLocked(),
		ChannelID:       c.ID,
		GuildID:         c.GuildID,
		Author:          p.Author,
		Nick:            p.Nick,
		Content:         p.Content,
		Reference:       p.ReplyTo,
		Mentions:        p.Mentions,
		MentionRoles:    p.MentionRoles,
		MentionEveryone: p.MentionEveryone,
		Created:         time.Now(),
	}
	s.storeLocked(m)
	return *m, s.deliverLocked(c, "MESSAGE_CREATE", m)
}

// deliverLocked dispatches a message event to the bot that sees the
// channel, honouring its intents as Discord does: no guild messages
// without GUILD_MESSAGES, no DMs without DIRECT_MESSAGES, and empty
// content without MESSAGE_CONTENT unless the bot wrote the message, is
// mentioned in it, or it is a DM.
func (s *Server) deliverLocked(c Channel, event string, m *Message) error {
	b, ok := s.bots[c.Bot]
	if !ok || b.session == nil {
		return fmt.Errorf("%s: no bot connected to channel %s", event, c.ID)
	}
	need := intentGuildMessages
	if c.Type == ChannelDM {
		need = intentDirectMessages
	}
	if b.session.intents&need == 0 {
		return nil
	}
	data := s.messageJSONLocked(m, true)
	mentioned := slices.ContainsFunc(m.Mentions, func(u User) bool { return u.ID == b.user.ID })
	if b.session.intents&intentMessageContent == 0 && c.Type != ChannelDM && !mentioned && m.Author.ID != b.user.ID {
		data["content"] = ""
	}
	return s.dispatchLocked(c.Bot, event, data)
}

// Dispatch sends any event to a bot's gateway session (queued for a
// resume when the bot is disconnected).
func (s *Server) Dispatch(botToken, event string, data any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dispatchLocked(bareToken(botToken), event, data)
}

func (s *Server) storeLocked(m *Message) {
	s.messages = append(s.messages, m)
	s.byID[m.ID] = m
	s.notifyLocked()
}

// echoLocked dispatches a bot's own message back to it, as Discord does.
func (s *Server) echoLocked(event string, m *Message) {
	if s.opts.NoEcho {
		return
	}
	c, ok := s.channels[m.ChannelID]
	if !ok || c.Bot == "" {
		return
	}
	// An error means the bot never connected: nothing to echo to.
	_ = s.deliverLocked(c, event, m)
}

// Delete deletes a message as its author would, and dispatches
// MESSAGE_DELETE to the bot that sees the channel, if it is connected.
func (s *Server) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[id]
	if !ok || m.Deleted {
		return fmt.Errorf("delete: unknown message %s", id)
	}
	m.Deleted = true
	s.notifyLocked()
	c := s.channels[m.ChannelID]
	if b, ok := s.bots[c.Bot]; !ok || b.session == nil {
		return nil
	}
	data := map[string]any{"id": m.ID, "channel_id": m.ChannelID}
	if m.GuildID != "" {
		data["guild_id"] = m.GuildID
	}
	return s.dispatchLocked(c.Bot, "MESSAGE_DELETE", data)
}
