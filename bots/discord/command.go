package discord

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/evo-tr/evo/brain"
)

// Discord's limits on slash commands.
const (
	maxCommandName = 32
	maxCommandDesc = 100
)

var invalidNameChars = regexp.MustCompile(`[^-_\p{L}\p{N}]`)

// slashCommands turns the brain's commands into Discord slash commands;
// a command with Args gets one optional string option of that name. Admin
// commands are hidden from members without the Administrator permission
// (default_member_permissions "0"); the brain still checks *_ADMIN_IDS.
func slashCommands(cmds []brain.Command) []*discordgo.ApplicationCommand {
	out := make([]*discordgo.ApplicationCommand, 0, len(cmds))
	for _, c := range cmds {
		name := commandName(c.Name)
		if name == "" {
			continue
		}
		ac := &discordgo.ApplicationCommand{
			Type:        discordgo.ChatApplicationCommand,
			Name:        name,
			Description: clip(c.Description, name),
			Options:     []*discordgo.ApplicationCommandOption{},
		}
		if c.Admin {
			none := int64(0)
			ac.DefaultMemberPermissions = &none
		}
		if arg := commandName(c.Args); arg != "" {
			ac.Options = append(ac.Options, &discordgo.ApplicationCommandOption{
				Type:        discordgo.ApplicationCommandOptionString,
				Name:        arg,
				Description: clip(c.Description, arg),
			})
		}
		out = append(out, ac)
	}
	return out
}

// commandName makes s a valid Discord command or option name: lower case,
// letters, digits, - and _, at most 32 characters.
func commandName(s string) string {
	s = invalidNameChars.ReplaceAllString(strings.ToLower(strings.TrimSpace(s)), "_")
	for utf8.RuneCountInString(s) > maxCommandName {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

// clip keeps a description within Discord's 1 to 100 characters.
func clip(desc, fallback string) string {
	desc = strings.TrimSpace(desc)
	if desc == "" {
		desc = fallback
	}
	if utf8.RuneCountInString(desc) <= maxCommandDesc {
		return desc
	}
	r := []rune(desc)
	return string(r[:maxCommandDesc-1]) + "…"
}

// registerCommands replaces the application's global slash commands with
// the brain's. A failure is logged: text commands still work.
func (b *Bot) registerCommands(ctx context.Context, s *discordgo.Session) {
	b.mu.Lock()
	appID := b.appID
	b.mu.Unlock()
	cmds := slashCommands(brain.Commands())
	if _, err := s.ApplicationCommandBulkOverwrite(appID, "", cmds, discordgo.WithContext(ctx)); err != nil {
		b.log.Error("discord: register slash commands", "err", err)
		return
	}
	b.log.Info("discord: slash commands registered", "count", len(cmds))
}

func (b *Bot) onInteractionCreate(s *discordgo.Session, e *discordgo.InteractionCreate) {
	if e.Interaction == nil || e.Type != discordgo.InteractionApplicationCommand {
		return
	}
	it := e.Interaction
	b.enqueue(func(ctx context.Context) { b.handleCommand(ctx, s, it) })
}

// handleCommand passes a slash command to the brain as "/name args" and
// answers the interaction.
func (b *Bot) handleCommand(ctx context.Context, s *discordgo.Session, it *discordgo.Interaction) {
	user := it.User
	if it.Member != nil && it.Member.User != nil {
		user = it.Member.User
	}
	if user == nil || user.Bot {
		return
	}
	data := it.ApplicationCommandData()
	text := "/" + data.Name
	for _, o := range data.Options {
		if o != nil && o.Type == discordgo.ApplicationCommandOptionString {
			if v := strings.TrimSpace(o.StringValue()); v != "" {
				text += " " + v
			}
		}
	}
	kind := brain.ChatPrivate
	if it.GuildID != "" {
		kind = b.chatKind(ctx, s, it.ChannelID)
	}
	name := memberName(user, it.Member)
	msg := brain.Message{
		Platform:          brain.PlatformDiscord,
		ChatID:            it.ChannelID,
		ChatKind:          kind,
		UserID:            user.ID,
		UserName:          name,
		Text:              text,
		PlatformMessageID: it.ID,
		Mentioned:         true,
		Admin:             b.admins[user.ID],
		Time:              b.clock.Now(),
	}
	b.log.Debug("discord: slash command", "chat_id", msg.ChatID, "command", data.Name, "user_id", msg.UserID)
	b.submit(ctx, msg, interactionTarget{s: s, it: it, ephemeral: privateCommand(data.Name)})
}

// privateCommand reports whether the slash command shows the user's own
// data (brain.Command.Private): its answer is ephemeral, seen by the user
// alone, in a guild channel as in a DM.
func privateCommand(name string) bool {
	for _, c := range brain.Commands() {
		if c.Private && commandName(c.Name) == name {
			return true
		}
	}
	return false
}
