package brain_test

import (
	"context"
	"strings"
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

// Commands that show or change the user's own data answer only in private:
// in a group, where everyone reads the reply, they show nothing of it.
func TestPrivateCommandsShowNothingInGroups(t *testing.T) {
	ctx := context.Background()
	const secret = "Kullanıcı gizlice iş değiştirmeyi düşünüyor."
	mem := braintest.NewMemMemory(braintest.HashEmbedder{}, "hash")
	if err := mem.Remember(ctx, brain.PlatformTelegram, "ayse", []brain.Memory{{ID: "m1", Text: secret, Time: testNow}}); err != nil {
		t.Fatal(err)
	}
	b := newTestBrain(t, brain.Config{}, nil, nil, brain.WithRecall(mem), brain.WithMemoryLister(mem), brain.WithForgetter(mem))
	for _, tt := range []struct {
		name string
		kind brain.ChatKind
		text string
		want string // in the reply
		show bool   // the memory's text is shown
	}{
		{"memory in a group", brain.ChatGroup, "/memory", "özelden", false},
		{"memory in a thread", brain.ChatThread, "/memory", "özelden", false},
		{"forget in a group", brain.ChatGroup, "/forget", "özelden", false},
		{"export in a group", brain.ChatGroup, "/export", "özelden", false},
		{"memory in private", brain.ChatPrivate, "/memory", "hatırladıklarım", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := msg("ayse", tt.text)
			m.ChatKind = tt.kind
			r, _ := b.ask(t, m)
			if !strings.Contains(r.Text, tt.want) {
				t.Errorf("reply = %q, want it to contain %q", r.Text, tt.want)
			}
			if got := strings.Contains(r.Text, "iş değiştirmeyi"); got != tt.show {
				t.Errorf("memory shown = %v, want %v: %q", got, tt.show, r.Text)
			}
			if !r.Private {
				t.Errorf("reply to %s is not marked Private", tt.text)
			}
		})
	}
	// Nothing was forgotten by the /forget in the group.
	if ms, err := mem.List(ctx, brain.PlatformTelegram, "ayse", 10); err != nil || len(ms) != 1 {
		t.Errorf("memories after the group /forget: %v, %v", ms, err)
	}
}
