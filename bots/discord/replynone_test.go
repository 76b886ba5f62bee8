package discord

import (
	"testing"

	"github.com/evo-tr/evo/bots/discord/discordtest"
	"github.com/evo-tr/evo/brain"
)

func TestReplyNonePostsNothing(t *testing.T) {
	t.Parallel()
	const placeholder = "Bakıyorum…"
	tests := []struct {
		name string
		// streamed is what shows before the brain says ReplyNone.
		streamed string
		command  bool
	}{
		{name: "redelivered mention"},
		{name: "streamed part removed", streamed: placeholder},
		{name: "deferred command response removed", command: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hold := make(chan struct{})
			answer := func(brain.Message) script {
				sc := script{hold: hold, final: brain.Reply{Kind: brain.ReplyNone}}
				if tt.streamed != "" {
					sc.deltas = []string{tt.streamed}
				}
				return sc
			}
			ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
			e := startBot(t, Config{}, answer, ch)

			var it discordtest.Interaction
			if tt.command {
				var err error
				if it, err = fake.RunCommand(ch.ID, e.people, "help", nil); err != nil {
					t.Fatal(err)
				}
				e.wait("the command is deferred", func(v discordtest.View) bool {
					got, _ := v.Interaction(it.ID)
					return got.Original != ""
				})
			} else {
				m := e.post(discordtest.Post{ChannelID: ch.ID, Content: e.mention() + " tekrar", Mentions: []discordtest.User{e.user}})
				if tt.streamed != "" {
					e.replyTo(m, tt.streamed)
				}
			}
			waitFor(t, "the brain has the message", func() bool { return len(e.brain.got()) == 1 })
			close(hold)
			e.waitLog("nothing to send")

			v := e.wait("the bot shows nothing", func(v discordtest.View) bool {
				return len(v.By(ch.ID, e.user.ID)) == 0
			})
			wantPosts, wantDeletes := 0, 0
			if tt.streamed != "" {
				wantPosts, wantDeletes = 1, 1
			}
			if n := len(v.RequestsTo("POST", "/channels/"+ch.ID+"/messages")); n != wantPosts {
				t.Errorf("posted %d messages, want %d", n, wantPosts)
			}
			if n := len(v.RequestsTo("DELETE", "/channels/"+ch.ID+"/messages/")); n != wantDeletes {
				t.Errorf("deleted %d messages, want %d", n, wantDeletes)
			}
			if tt.command {
				got, _ := v.Interaction(it.ID)
				if m, ok := v.Message(got.Original); !ok || !m.Deleted {
					t.Errorf("deferred response %+v, want it deleted", m)
				}
				hook := "/webhooks/" + got.AppID + "/" + got.Token + "/"
				if n := len(v.RequestsTo("PATCH", hook)); n != 0 {
					t.Errorf("edited the response %d times, want 0", n)
				}
				if n := len(v.RequestsTo("DELETE", hook+"messages/@original")); n != 1 {
					t.Errorf("deleted the response %d times, want 1", n)
				}
			}
		})
	}
}
