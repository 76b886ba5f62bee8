package telegram

import (
	"context"
	"strings"
	"testing"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/evo-tr/evo/bots/telegram/telegramtest"
	"github.com/evo-tr/evo/brain"
)

// TestReplyFileArrivesAsDocument: a reply with a File shows its text, then
// uploads the file with sendDocument (multipart), bytes intact.
func TestReplyFileArrivesAsDocument(t *testing.T) {
	h := newSinkHandler()
	e := start(t, h, nil)
	e.say(private(alice), alice, "/export")
	s := h.next(t)
	data := []byte(`{"messages":[{"text":"merhaba"}]}`)
	s.sink.Done(brain.Reply{Kind: brain.ReplyCommand, Text: "Ekteki dosyada.",
		File: &brain.File{Name: "evo-export-2026-12-01.json", MIME: "application/json", Data: data}})
	waitFor(t, "the document", func() bool { return len(e.srv.Documents(alice.ID)) == 1 })
	d := e.srv.Documents(alice.ID)[0]
	if d.FileName != "evo-export-2026-12-01.json" || string(d.Data) != string(data) {
		t.Errorf("document = %q with %q, want evo-export-2026-12-01.json with %q", d.FileName, d.Data, data)
	}
	if got := e.visible(alice.ID); len(got) != 1 || got[0] != "Ekteki dosyada." {
		t.Errorf("chat shows %q, want the reply's text", got)
	}
	calls := e.srv.Calls("sendDocument")
	if len(calls) != 1 || !strings.HasPrefix(calls[0].ContentType, "multipart/form-data") {
		t.Errorf("sendDocument calls = %+v, want one multipart upload", calls)
	}
}

// TestFakeSendDocumentIsStrict: the fake refuses what Telegram refuses.
func TestFakeSendDocumentIsStrict(t *testing.T) {
	srv := telegramtest.NewServer(telegramtest.DefaultToken, botName)
	defer srv.Close()
	tg, err := tgbot.New(telegramtest.DefaultToken, tgbot.WithServerURL(srv.URL()), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		params *tgbot.SendDocumentParams
		want   string
	}{
		{"no document", &tgbot.SendDocumentParams{ChatID: 7}, "there is no document"},
		{"empty file", &tgbot.SendDocumentParams{ChatID: 7, Document: &models.InputFileUpload{Filename: "x.json", Data: strings.NewReader("")}}, "must be non-empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tg.SendDocument(ctx, c.params)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("SendDocument: got %v, want an error saying %q", err, c.want)
			}
		})
	}
	if got := srv.AllDocuments(); len(got) != 0 {
		t.Errorf("refused uploads were kept: %+v", got)
	}
}
