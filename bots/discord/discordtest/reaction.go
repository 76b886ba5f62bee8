package discordtest

import "fmt"

// Gateway intents of reactions.
const (
	intentGuildMessageReactions  = 1 << 10
	intentDirectMessageReactions = 1 << 13
)

// React dispatches MESSAGE_REACTION_ADD for user u adding emoji to the
// message id, to the bot that sees its channel, honouring its intents as
// Discord does: no guild reactions without GUILD_MESSAGE_REACTIONS, no DM
// reactions without DIRECT_MESSAGE_REACTIONS (the event is then not sent
// and React reports false).
func (s *Server) React(messageID string, u User, emoji string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[messageID]
	if !ok {
		return false, fmt.Errorf("react: unknown message %s", messageID)
	}
	c, ok := s.channels[m.ChannelID]
	if !ok {
		return false, fmt.Errorf("react: unknown channel %s", m.ChannelID)
	}
	b, ok := s.bots[c.Bot]
	if !ok || b.session == nil {
		return false, fmt.Errorf("react: no bot connected to channel %s", c.ID)
	}
	need := intentGuildMessageReactions
	if c.Type == ChannelDM {
		need = intentDirectMessageReactions
	}
	if b.session.intents&need == 0 {
		return false, nil
	}
	data := map[string]any{
		"user_id": u.ID, "channel_id": c.ID, "message_id": messageID,
		"emoji": map[string]any{"id": nil, "name": emoji},
	}
	if c.GuildID != "" {
		data["guild_id"] = c.GuildID
	}
	return true, s.dispatchLocked(c.Bot, "MESSAGE_REACTION_ADD", data)
}
