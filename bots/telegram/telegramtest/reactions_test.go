package telegramtest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
)

func TestReactionsOnlyWhenAsked(t *testing.T) {
	u := models.User{ID: 5, FirstName: "A"}
	tests := []struct {
		name    string
		chat    int64
		admin   bool
		allowed string // the allowed_updates of the poll; "" sends none
		want    bool
	}{
		{"private, default allowed_updates", 5, false, "", false},
		{"private, messages only", 5, false, `["message"]`, false},
		{"private, asked for", 5, false, `["message","message_reaction"]`, true},
		{"group, asked for, not admin", -100, false, `["message_reaction"]`, false},
		{"group, asked for, admin", -100, true, `["message_reaction"]`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			if tt.admin {
				s.MakeAdmin(tt.chat)
			}
			s.React(tt.chat, 7, u, nil, "👍")
			params := map[string]string{"timeout": "0"}
			if tt.allowed != "" {
				params["allowed_updates"] = tt.allowed
			}
			r := post(t, s, "getUpdates", "multipart", params)
			var ups []models.Update
			if err := json.Unmarshal(r.Result, &ups); err != nil {
				t.Fatalf("getUpdates: %s: %v", r.Result, err)
			}
			got := len(ups) == 1 && ups[0].MessageReaction != nil
			if got != tt.want || (!tt.want && len(ups) != 0) {
				t.Fatalf("getUpdates got %s; want the reaction: %v", r.Result, tt.want)
			}
			if got {
				mr := ups[0].MessageReaction
				if mr.MessageID != 7 || mr.User == nil || mr.User.ID != 5 || len(mr.NewReaction) != 1 ||
					mr.NewReaction[0].ReactionTypeEmoji == nil || mr.NewReaction[0].ReactionTypeEmoji.Emoji != "👍" {
					t.Errorf("reaction %+v", mr)
				}
			}
			if !tt.want && s.Pending() != 0 {
				t.Errorf("a reaction the bot may not see stays queued")
			}
		})
	}
}

func TestAllowedUpdatesPersist(t *testing.T) {
	s := newServer(t)
	post(t, s, "getUpdates", "json", map[string]string{"timeout": "0", "allowed_updates": `["message","message_reaction"]`})
	s.React(5, 1, models.User{ID: 5}, nil, "👎")
	// A poll without allowed_updates keeps the earlier setting.
	r := post(t, s, "getUpdates", "multipart", map[string]string{"timeout": "0"})
	var ups []models.Update
	if json.Unmarshal(r.Result, &ups); len(ups) != 1 {
		t.Errorf("got %s, want the reaction", r.Result)
	}
	if got := s.AllowedUpdates(); len(got) != 2 {
		t.Errorf("AllowedUpdates = %v", got)
	}
}

func TestDeliverRefusesUnaskedReactions(t *testing.T) {
	s := newServer(t)
	post(t, s, "setWebhook", "multipart", map[string]string{"url": "http://127.0.0.1:1/hook"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.Deliver(ctx, s.Reaction(5, 1, models.User{ID: 5}, nil, "👍"), ""); err == nil {
		t.Errorf("Deliver sent a reaction the webhook did not ask for")
	}
}
