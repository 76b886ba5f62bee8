package braintest_test

import (
	"context"
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestMemHistory(t *testing.T) {
	braintest.TestHistory(t, func(*testing.T) brain.History { return braintest.NewMemHistory() })
}

func TestMemHistoryFindsUsers(t *testing.T) {
	braintest.TestUserFinder(t, func(*testing.T) braintest.UserFinderHistory { return braintest.NewMemHistory() })
}

func TestMemHistoryAllKeepsResetMessages(t *testing.T) {
	h := braintest.NewMemHistory()
	ctx := context.Background()
	k := brain.ConvKey{Platform: brain.PlatformCLI, ChatID: "local", UserID: "me"}
	for _, text := range []string{"bir", "iki"} {
		if err := h.Append(ctx, &brain.Record{Key: k, Role: brain.RoleUser, Text: text, Time: braintest.T0}); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	if err := h.Reset(ctx, k); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	got := h.All()
	if len(got) != 2 || got[0].Text != "bir" || got[1].Text != "iki" {
		t.Errorf("All after Reset: got %+v, want bir and iki", got)
	}
}
