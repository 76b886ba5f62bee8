package telegram

import (
	"testing"

	"github.com/go-telegram/bot/models"

	"github.com/evo-tr/evo/bots/telegram/telegramtest"
	"github.com/evo-tr/evo/brain"
)

func TestClassify(t *testing.T) {
	b, err := New(Config{Token: telegramtest.DefaultToken}, &fakeHandler{}, discardLog(), brain.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	b.me = models.User{ID: 123456, IsBot: true, Username: botName}
	ent := func(typ models.MessageEntityType, off, n int) models.MessageEntity {
		return models.MessageEntity{Type: typ, Offset: off, Length: n}
	}
	tests := []struct {
		name     string
		text     string
		entities []models.MessageEntity
		want     incoming
	}{
		{"plain", "merhaba", nil, incoming{text: "merhaba"}},
		{"text mention of the bot", "EVO yardım et", []models.MessageEntity{
			{Type: models.MessageEntityTypeTextMention, Offset: 0, Length: 3, User: &models.User{ID: 123456}},
		}, incoming{text: "yardım et", mentioned: true}},
		{"text mention of someone else", "Ali yardım et", []models.MessageEntity{
			{Type: models.MessageEntityTypeTextMention, Offset: 0, Length: 3, User: &models.User{ID: 9}},
		}, incoming{text: "Ali yardım et"}},
		{"surrogate pairs before the mention", "😀😀 @evo_test_bot x", []models.MessageEntity{
			ent(models.MessageEntityTypeMention, 5, 13),
		}, incoming{text: "😀😀 x", mentioned: true}},
		{"command with our name", "/reset@evo_test_bot", []models.MessageEntity{
			ent(models.MessageEntityTypeBotCommand, 0, 19),
		}, incoming{text: "/reset", command: true, mentioned: true}},
		{"command not at the start", "bak /reset", []models.MessageEntity{
			ent(models.MessageEntityTypeBotCommand, 4, 6),
		}, incoming{text: "bak /reset"}},
		{"entity out of range", "kısa", []models.MessageEntity{
			ent(models.MessageEntityTypeMention, 2, 40), ent(models.MessageEntityTypeMention, -3, 2),
		}, incoming{text: "kısa"}},
		{"only the mention", "@evo_test_bot", []models.MessageEntity{
			ent(models.MessageEntityTypeMention, 0, 13),
		}, incoming{text: "", mentioned: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := b.classify(tt.text, tt.entities); got != tt.want {
				t.Errorf("classify(%q) = %+v, want %+v", tt.text, got, tt.want)
			}
		})
	}
}

func TestEmptyMentionGetsAHint(t *testing.T) {
	h := &fakeHandler{}
	e := start(t, h, nil)
	e.say(group, alice, "@"+botName)
	waitFor(t, "the hint", func() bool { return len(e.srv.BotMessages(group.ID)) == 1 })
	if got := e.srv.BotMessages(group.ID)[0].Visible; got != emptyMentionTR {
		t.Errorf("hint = %q, want %q", got, emptyMentionTR)
	}
	if n := len(h.messages()); n != 0 {
		t.Errorf("brain got %d messages for an empty mention, want 0", n)
	}
}
