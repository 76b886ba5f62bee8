package discordtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Interaction types and callback types, as Discord numbers them.
const (
	InteractionApplicationCommand = 2

	CallbackChannelMessage         = 4
	CallbackDeferredChannelMessage = 5
)

// Command is a registered slash command.
type Command struct {
	ID          string          `json:"id"`
	Type        int             `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Options     []CommandOption `json:"options"`
}

// CommandOption is one option of a slash command.
type CommandOption struct {
	Type        int    `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
}

// Interaction is a slash command a user ran and what the bot answered.
type Interaction struct {
	ID        string
	Token     string
	AppID     string
	ChannelID string
	GuildID   string
	User      User
	Name      string
	Options   map[string]string
	// Callbacks are the callback types the bot posted, in order.
	Callbacks []int
	// Original is the id of the response message, once there is one.
	Original string
	// Followups are the ids of follow-up messages.
	Followups []string
	Created   time.Time
}

// validName is Discord's rule for command and option names: 1 to 32
// letters, digits, '-' or '_', none upper case. (Checked by hand: a
// regexp with \p{L} would build Unicode tables of a megabyte when evo
// starts, in every process, bench or not.)
func validName(n string) bool {
	if c := utf8.RuneCountInString(n); c < 1 || c > 32 {
		return false
	}
	for _, r := range n {
		if r != '-' && r != '_' && !unicode.IsLetter(r) && !unicode.IsNumber(r) || unicode.IsUpper(r) {
			return false
		}
	}
	return true
}

func validDescription(d string) bool {
	n := utf8.RuneCountInString(d)
	return n >= 1 && n <= 100
}

func (s *Server) commandsLocked(b *botAccount, method string, body []byte) (reply, *apiError) {
	switch method {
	case http.MethodGet:
		return ok(nonNilCommands(b.commands))
	case http.MethodPut:
		var cmds []Command
		if err := json.Unmarshal(body, &cmds); err != nil {
			return reply{}, errorf(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		}
		if len(cmds) > 100 {
			return reply{}, formError("_root", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
		}
		for i := range cmds {
			if err := s.checkCommandLocked(&cmds[i]); err != nil {
				return reply{}, err
			}
		}
		b.commands = cmds
		return ok(nonNilCommands(cmds))
	case http.MethodPost:
		var c Command
		if err := json.Unmarshal(body, &c); err != nil {
			return reply{}, errorf(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		}
		if err := s.checkCommandLocked(&c); err != nil {
			return reply{}, err
		}
		b.commands = slices.DeleteFunc(b.commands, func(o Command) bool { return o.Name == c.Name })
		b.commands = append(b.commands, c)
		return reply{status: http.StatusCreated, body: c}, nil
	}
	return reply{}, errNotFound
}

func (s *Server) checkCommandLocked(c *Command) *apiError {
	if c.Type == 0 {
		c.Type = 1
	}
	if !validName(c.Name) {
		return formError("name", "APPLICATION_COMMAND_INVALID_NAME", fmt.Sprintf("Command name is invalid: %q", c.Name))
	}
	if !validDescription(c.Description) {
		return formError("description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
	}
	for _, o := range c.Options {
		if !validName(o.Name) || !validDescription(o.Description) || o.Type < 1 || o.Type > 11 {
			return formError("options", "APPLICATION_COMMAND_OPTION_INVALID", fmt.Sprintf("Invalid option %q", o.Name))
		}
	}
	c.ID = s.newIDLocked()
	return nil
}

func nonNilCommands(c []Command) []Command {
	if c == nil {
		return []Command{}
	}
	return c
}

// RunCommand has user u run a registered slash command in a channel: it
// dispatches INTERACTION_CREATE to the channel's bot. Options are string
// options by name.
func (s *Server) RunCommand(channelID string, u User, name string, options map[string]string) (Interaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, found := s.channels[channelID]
	if !found {
		return Interaction{}, fmt.Errorf("run command: unknown channel %s", channelID)
	}
	b, found := s.bots[c.Bot]
	if !found {
		return Interaction{}, fmt.Errorf("run command: no bot in channel %s", channelID)
	}
	i := slices.IndexFunc(b.commands, func(cmd Command) bool { return cmd.Name == name })
	if i < 0 {
		return Interaction{}, fmt.Errorf("run command: /%s is not registered", name)
	}
	cmd := b.commands[i]
	it := &Interaction{ID: s.newIDLocked(), Token: "itoken-" + randomHex(8), AppID: b.appID, ChannelID: c.ID,
		GuildID: c.GuildID, User: u, Name: name, Options: options, Created: time.Now()}
	opts := []any{}
	for _, o := range cmd.Options {
		if v, set := options[o.Name]; set {
			opts = append(opts, map[string]any{"name": o.Name, "type": o.Type, "value": v})
		}
	}
	data := map[string]any{
		"id": it.ID, "application_id": it.AppID, "type": InteractionApplicationCommand, "token": it.Token,
		"version": 1, "channel_id": c.ID, "channel": channelJSON(c), "locale": "tr", "app_permissions": "0",
		"data": map[string]any{"id": cmd.ID, "name": cmd.Name, "type": 1, "options": opts},
	}
	if c.GuildID != "" {
		data["guild_id"] = c.GuildID
		data["member"] = map[string]any{"user": userJSON(u), "roles": []any{}, "permissions": "0",
			"joined_at": "2024-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false}
	} else {
		data["user"] = userJSON(u)
	}
	s.interactions = append(s.interactions, it)
	if err := s.dispatchLocked(b.token, "INTERACTION_CREATE", data); err != nil {
		return *it, err
	}
	return *it, nil
}

func (s *Server) interactionLocked(id, token string) *Interaction {
	for _, it := range s.interactions {
		if it.ID == id && it.Token == token {
			return it
		}
	}
	return nil
}

func (s *Server) interactionByTokenLocked(app, token string) *Interaction {
	for _, it := range s.interactions {
		if it.AppID == app && it.Token == token {
			return it
		}
	}
	return nil
}

func (s *Server) interactionCallbackLocked(id, token string, body []byte) (reply, *apiError) {
	it := s.interactionLocked(id, token)
	if it == nil {
		return reply{}, errorf(http.StatusNotFound, 10062, "Unknown interaction")
	}
	if len(it.Callbacks) > 0 {
		return reply{}, errorf(http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
	}
	var cb struct {
		Type int             `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &cb); err != nil {
		return reply{}, errorf(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
	}
	var content string
	var am *AllowedMentions
	var flags int
	switch cb.Type {
	case CallbackChannelMessage:
		mb, apiErr := parseMessageBody(cb.Data)
		if apiErr != nil {
			return reply{}, apiErr
		}
		if mb.Content == nil || strings.TrimSpace(*mb.Content) == "" {
			return reply{}, errorf(http.StatusBadRequest, 50006, "Cannot send an empty message")
		}
		content, am, flags = *mb.Content, mb.AllowedMentions, mb.Flags
	case CallbackDeferredChannelMessage:
		// Only the ephemeral flag counts here; the edits inherit it.
		if len(cb.Data) > 0 && string(cb.Data) != "null" {
			mb, apiErr := parseMessageBody(cb.Data)
			if apiErr != nil {
				return reply{}, apiErr
			}
			flags = mb.Flags & FlagEphemeral
		}
	default:
		return reply{}, formError("type", "BASE_TYPE_CHOICES", "Value must be one of {4, 5, ...}.")
	}
	it.Callbacks = append(it.Callbacks, cb.Type)
	m := s.webhookMessageLocked(it, content, am, flags&FlagEphemeral, nil)
	it.Original = m.ID
	return noContent()
}

func (s *Server) webhookMessageLocked(it *Interaction, content string, am *AllowedMentions, flags int, files []Attachment) *Message {
	b := s.bots[s.channels[it.ChannelID].Bot]
	m := &Message{ID: s.newIDLocked(), ChannelID: it.ChannelID, GuildID: it.GuildID, Author: b.user,
		Content: content, AllowedMentions: am, Created: time.Now(), Interaction: it.ID, WebhookID: it.AppID,
		Flags: flags, Attachments: files}
	s.storeLocked(m)
	return m
}

// webhookLocked serves webhooks/{app}/{token}[/messages/{id}].
func (s *Server) webhookLocked(method string, p []string, r *http.Request, body []byte, files []Attachment) (reply, *apiError) {
	it := s.interactionByTokenLocked(p[0], p[1])
	if it == nil {
		return reply{}, errorf(http.StatusNotFound, 10015, "Unknown Webhook")
	}
	if len(it.Callbacks) == 0 {
		return reply{}, errorf(http.StatusNotFound, 10015, "Unknown Webhook")
	}
	switch {
	case len(p) == 2 && method == http.MethodPost:
		mb, apiErr := parseMessageBody(body)
		if apiErr != nil {
			return reply{}, apiErr
		}
		if (mb.Content == nil || strings.TrimSpace(*mb.Content) == "") && len(files) == 0 {
			return reply{}, errorf(http.StatusBadRequest, 50006, "Cannot send an empty message")
		}
		content := ""
		if mb.Content != nil {
			content = *mb.Content
		}
		m := s.webhookMessageLocked(it, content, mb.AllowedMentions, mb.Flags&FlagEphemeral, files)
		it.Followups = append(it.Followups, m.ID)
		if r.URL.Query().Get("wait") != "true" {
			return noContent()
		}
		return ok(s.messageJSONLocked(m, false))
	case len(p) == 4 && p[2] == "messages":
		id := p[3]
		if id == "@original" {
			id = it.Original
		}
		m, found := s.byID[id]
		if !found || m.Interaction != it.ID || m.Deleted {
			return reply{}, errorf(http.StatusNotFound, 10008, "Unknown Message")
		}
		switch method {
		case http.MethodGet:
			return ok(s.messageJSONLocked(m, false))
		case http.MethodPatch:
			return s.editMessageLocked(m, body)
		case http.MethodDelete:
			m.Deleted = true
			s.notifyLocked()
			return noContent()
		}
	}
	return reply{}, errNotFound
}
