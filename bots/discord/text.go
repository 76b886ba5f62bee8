package discord

import (
	"regexp"
	"strings"

	"github.com/bwmarrin/discordgo"
)

var (
	userMention    = regexp.MustCompile(`<@!?(\d+)>`)
	roleMention    = regexp.MustCompile(`<@&(\d+)>`)
	channelMention = regexp.MustCompile(`<#(\d+)>`)
)

// names resolves role and channel ids to names; "" when unknown.
type names interface {
	roleName(guildID, roleID string) string
	channelName(channelID string) string
}

// plainText turns a message's mention markup into names for the brain:
// the bot's own mention (and the mention of a role of the bot's) is
// removed, users become @name, roles @name and channels #name (Turkish
// placeholders when unknown).
func plainText(m *discordgo.Message, botID string, botRoles []string, n names) string {
	text := m.Content
	var own []string
	if botID != "" {
		own = append(own, "<@"+botID+">", "<@!"+botID+">")
	}
	for _, r := range botRoles {
		own = append(own, "<@&"+r+">")
	}
	for _, tag := range own {
		text = strings.ReplaceAll(text, tag+" ", "")
		text = strings.ReplaceAll(text, tag, "")
	}
	byID := map[string]string{}
	for _, u := range m.Mentions {
		if u != nil {
			byID[u.ID] = displayName(u)
		}
	}
	text = userMention.ReplaceAllStringFunc(text, func(tag string) string {
		if name, ok := byID[userMention.FindStringSubmatch(tag)[1]]; ok {
			return "@" + name
		}
		return "@kullanıcı"
	})
	text = roleMention.ReplaceAllStringFunc(text, func(tag string) string {
		if name := n.roleName(m.GuildID, roleMention.FindStringSubmatch(tag)[1]); name != "" {
			return "@" + name
		}
		return "@rol"
	})
	text = channelMention.ReplaceAllStringFunc(text, func(tag string) string {
		if name := n.channelName(channelMention.FindStringSubmatch(tag)[1]); name != "" {
			return "#" + name
		}
		return "#kanal"
	})
	return strings.TrimSpace(text)
}

// displayName is the name Discord shows for a user.
func displayName(u *discordgo.User) string {
	if u == nil {
		return ""
	}
	if u.GlobalName != "" {
		return u.GlobalName
	}
	return u.Username
}

// memberName is the name the guild shows for a user: the member's
// nickname when it has one.
func memberName(u *discordgo.User, m *discordgo.Member) string {
	if m != nil && m.Nick != "" {
		return m.Nick
	}
	return displayName(u)
}

// mentions reports whether m mentions the user id or replies to one of
// their messages.
func mentions(m *discordgo.Message, id string) bool {
	if id == "" {
		return false
	}
	for _, u := range m.Mentions {
		if u != nil && u.ID == id {
			return true
		}
	}
	if r := m.ReferencedMessage; r != nil && r.Author != nil && r.Author.ID == id {
		return true
	}
	return strings.Contains(m.Content, "<@"+id+">") || strings.Contains(m.Content, "<@!"+id+">")
}
