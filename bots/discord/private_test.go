package discord

import (
	"testing"

	"github.com/evo-tr/evo/bots/discord/discordtest"
	"github.com/evo-tr/evo/brain"
)

// exportFile is what the fake brain attaches to /export.
var exportFile = &brain.File{Name: "evo-export-2026-12-01.json", MIME: "application/json",
	Data: []byte(`{"messages":[{"text":"merhaba"}]}`)}

// privateAnswer answers the private /export with a file, anything else with
// an echo.
func privateAnswer(m brain.Message) script {
	if m.Text == "/export" {
		return script{final: brain.Reply{Kind: brain.ReplyCommand, Text: "Ekteki dosyada.", Private: true, File: exportFile}}
	}
	return echo(m)
}

// TestPrivateSlashCommandIsEphemeral: a private command's answer (and its
// file) is seen by its user alone, from the deferred response on; other
// commands answer in the open.
func TestPrivateSlashCommandIsEphemeral(t *testing.T) {
	t.Parallel()
	ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
	e := startBot(t, Config{}, privateAnswer, ch)

	it, err := fake.RunCommand(ch.ID, e.people, "export", nil)
	if err != nil {
		t.Fatal(err)
	}
	v := e.wait("the file follows the answer", func(v discordtest.View) bool {
		got, _ := v.Interaction(it.ID)
		return len(got.Followups) == 1
	})
	got, _ := v.Interaction(it.ID)
	orig, _ := v.Message(got.Original)
	if orig.Content != "Ekteki dosyada." || !orig.Ephemeral() {
		t.Errorf("response = %q (ephemeral %v), want the text, ephemeral", orig.Content, orig.Ephemeral())
	}
	file, _ := v.Message(got.Followups[0])
	if !file.Ephemeral() {
		t.Error("the file's follow-up is not ephemeral: the whole channel sees the export")
	}
	if len(file.Attachments) != 1 || file.Attachments[0].Filename != exportFile.Name ||
		string(file.Attachments[0].Data) != string(exportFile.Data) {
		t.Errorf("attachments = %+v, want %s with its JSON", file.Attachments, exportFile.Name)
	}

	open, err := fake.RunCommand(ch.ID, e.people, "help", nil)
	if err != nil {
		t.Fatal(err)
	}
	v = e.wait("/help is answered", func(v discordtest.View) bool {
		got, _ := v.Interaction(open.ID)
		m, ok := v.Message(got.Original)
		return ok && m.Content == "Cevap: /help"
	})
	got, _ = v.Interaction(open.ID)
	if m, _ := v.Message(got.Original); m.Ephemeral() {
		t.Error("/help answered ephemerally; only private commands should be")
	}
}

// TestReplyFileInChannel: a reply with a file to a message (a DM) sends the
// file as an attachment after the text.
func TestReplyFileInChannel(t *testing.T) {
	t.Parallel()
	dm := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelDM}
	e := startBot(t, Config{}, privateAnswer, dm)
	e.post(discordtest.Post{ChannelID: dm.ID, Author: e.people, Content: "/export"})
	v := e.wait("the attachment", func(v discordtest.View) bool {
		for _, m := range v.Messages {
			if m.ChannelID == dm.ID && len(m.Attachments) == 1 {
				return true
			}
		}
		return false
	})
	var text, files int
	for _, m := range v.Messages {
		if m.ChannelID != dm.ID || m.Author.ID != e.user.ID {
			continue
		}
		if m.Content == "Ekteki dosyada." {
			text++
		}
		for _, a := range m.Attachments {
			files++
			if a.Filename != exportFile.Name || string(a.Data) != string(exportFile.Data) {
				t.Errorf("attachment = %s %q, want %s with its JSON", a.Filename, a.Data, exportFile.Name)
			}
		}
	}
	if text != 1 || files != 1 {
		t.Errorf("DM has %d texts and %d files from the bot, want 1 and 1", text, files)
	}
}
