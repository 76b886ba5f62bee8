package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
)

// TestExportEndToEnd: through evo serve on Telegram, /export in private
// sends one JSON document with the user's messages and nobody else's; in a
// group it says to write privately and sends nothing.
func TestExportEndToEnd(t *testing.T) {
	s := serveTelegram(t, "1")
	ayse := models.User{ID: 42, FirstName: "Ayşe"}
	mehmet := models.User{ID: 43, FirstName: "Mehmet"}
	dm := func(u models.User) models.Chat { return models.Chat{ID: u.ID, Type: models.ChatTypePrivate} }
	group := models.Chat{ID: -1001, Type: models.ChatTypeSupergroup, Title: "Grup"}

	s.say(t, dm(ayse), ayse, "Merhaba EVO", 1, "«Merhaba EVO»")
	s.say(t, dm(mehmet), mehmet, "mehmetin sırrı", 1, "«mehmetin sırrı»")
	eventually(t, "the replies to be stored", func() bool { return s.count(t, "SELECT count(*) FROM messages") == 4 })

	s.say(t, group, ayse, "/export", 1, "özelden")
	s.say(t, dm(ayse), ayse, "/export", 2, "ekteki dosyada")
	eventually(t, "the document", func() bool { return len(s.tg.Documents(ayse.ID)) == 1 })
	if docs := s.tg.AllDocuments(); len(docs) != 1 {
		t.Fatalf("the bot sent %d documents, want 1 (none to the group): %+v", len(docs), docs)
	}
	d := s.tg.Documents(ayse.ID)[0]
	if !strings.HasPrefix(d.FileName, "evo-export-") || !strings.HasSuffix(d.FileName, ".json") {
		t.Errorf("file name = %q, want evo-export-YYYY-MM-DD.json", d.FileName)
	}
	var x struct {
		UserID   string `json:"user_id"`
		Messages []struct {
			Role, Text string
		} `json:"messages"`
	}
	if err := json.Unmarshal(d.Data, &x); err != nil {
		t.Fatalf("the document is not JSON: %v\n%s", err, d.Data)
	}
	if x.UserID != "42" || len(x.Messages) != 2 || x.Messages[0].Text != "Merhaba EVO" || x.Messages[1].Role != "assistant" {
		t.Errorf("export = %+v, want Ayşe's message and its reply", x)
	}
	if strings.Contains(string(d.Data), "sırrı") {
		t.Errorf("the export holds Mehmet's message:\n%s", d.Data)
	}
}
