package discord

import (
	"testing"

	"github.com/bwmarrin/discordgo"
)

type mapNames struct{ roles, channels map[string]string }

func (n mapNames) roleName(_, id string) string { return n.roles[id] }
func (n mapNames) channelName(id string) string { return n.channels[id] }

func TestPlainText(t *testing.T) {
	const bot = "100"
	ali := &discordgo.User{ID: "200", Username: "ali", GlobalName: "Ali Veli"}
	zeynep := &discordgo.User{ID: "300", Username: "zeynep"}
	names := mapNames{roles: map[string]string{"7": "moderatör"}, channels: map[string]string{"8": "genel"}}
	tests := []struct {
		name     string
		content  string
		mentions []*discordgo.User
		want     string
	}{
		{name: "own mention removed", content: "<@100> merhaba", want: "merhaba"},
		{name: "nickname form", content: "selam <@!100>", want: "selam"},
		{name: "only the mention", content: "<@100>", want: ""},
		{name: "users named", content: "<@100> <@200> ve <@!300> nerede?", mentions: []*discordgo.User{ali, zeynep}, want: "@Ali Veli ve @zeynep nerede?"},
		{name: "unknown user", content: "<@100> <@999> kim?", want: "@kullanıcı kim?"},
		{name: "roles", content: "<@&7> ve <@&9>", want: "@moderatör ve @rol"},
		{name: "the bot's role mention removed", content: "<@&55> merhaba", want: "merhaba"},
		{name: "channels", content: "<#8> ve <#9>", want: "#genel ve #kanal"},
		{name: "everyone stays text", content: "<@100> @everyone @here", want: "@everyone @here"},
		{name: "command", content: "<@100> /expert python_coder", want: "/expert python_coder"},
		{name: "code kept", content: "<@100> ```go\nx := 1\n```", want: "```go\nx := 1\n```"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &discordgo.Message{Content: tt.content, GuildID: "1", Mentions: tt.mentions}
			if got := plainText(m, bot, []string{"55"}, names); got != tt.want {
				t.Errorf("plainText(%q) = %q, want %q", tt.content, got, tt.want)
			}
		})
	}
}

func TestMentions(t *testing.T) {
	const bot = "100"
	botUser := &discordgo.User{ID: bot}
	tests := []struct {
		name string
		m    *discordgo.Message
		want bool
	}{
		{name: "in mentions", m: &discordgo.Message{Content: "hey", Mentions: []*discordgo.User{botUser}}, want: true},
		{name: "markup only", m: &discordgo.Message{Content: "<@!100> hey"}, want: true},
		{name: "reply to the bot", m: &discordgo.Message{Content: "hey", ReferencedMessage: &discordgo.Message{Author: botUser}}, want: true},
		{name: "reply to someone else", m: &discordgo.Message{Content: "hey", ReferencedMessage: &discordgo.Message{Author: &discordgo.User{ID: "5"}}}},
		{name: "other user", m: &discordgo.Message{Content: "<@200> hey", Mentions: []*discordgo.User{{ID: "200"}}}},
		{name: "nil mention entry", m: &discordgo.Message{Content: "hey", Mentions: []*discordgo.User{nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mentions(tt.m, bot); got != tt.want {
				t.Errorf("mentions = %v, want %v", got, tt.want)
			}
		})
	}
	if mentions(&discordgo.Message{Content: "<@>"}, "") {
		t.Error("mentions with an unknown bot id = true, want false")
	}
}
