package discord

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evo-tr/evo/bots/discord/discordtest"
	"github.com/evo-tr/evo/brain"
)

// nothing answers every message the bot receives with ReplyNone, so that
// only what a test delivers through SinkFor shows.
func nothing(brain.Message) script { return script{final: brain.Reply{Kind: brain.ReplyNone}} }

// resumed is the brain's view of a stored user message in chat.
func resumed(e *env, chat string, kind brain.ChatKind, messageID string) brain.Message {
	return brain.Message{Platform: brain.PlatformDiscord, ChatID: chat, ChatKind: kind, UserID: e.people.ID,
		UserName: "Ayşe", Text: "dün sorduğum", PlatformMessageID: messageID, Mentioned: true, Time: testTime,
		Ref: "m:" + messageID, Resumed: true}
}

// deliver streams a reply into s: two deltas, then the final text.
func deliver(s brain.Sink, final string) {
	s.Delta(final[:len(final)/2])
	s.Delta(final[len(final)/2:])
	s.Done(brain.Reply{Kind: brain.ReplyAnswer, Text: final})
}

func TestSinkForDeliversInTheChat(t *testing.T) {
	t.Parallel()
	text := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
	thread := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelPublicThread, ParentID: text.ID, Name: "konu"}
	dm := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelDM}
	e := startBot(t, Config{}, nothing, text, thread, dm)
	role := fake.NewID()

	tests := []struct {
		name    string
		channel discordtest.Channel
		kind    brain.ChatKind
		// gone deletes the user's message before the reply is delivered.
		gone bool
		// id, if set, replaces the user message's id (a slash command's
		// interaction id is no message).
		id string
	}{
		{name: "guild channel", channel: text, kind: brain.ChatGroup},
		{name: "thread", channel: thread, kind: brain.ChatThread},
		{name: "DM", channel: dm, kind: brain.ChatPrivate},
		{name: "message deleted meanwhile", channel: text, kind: brain.ChatGroup, gone: true},
		{name: "interaction id", channel: text, kind: brain.ChatGroup, id: fake.NewID()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not addressed to the bot in guilds; answered with nothing in DMs.
			m := e.post(discordtest.Post{ChannelID: tt.channel.ID, Content: "dün sorduğum"})
			id := m.ID
			if tt.id != "" {
				id = tt.id
			}
			if tt.gone {
				if err := fake.Delete(m.ID); err != nil {
					t.Fatal(err)
				}
			}
			final := "Kaldığımız yerden (" + tt.name + "): @everyone @here <@&" + role + "> <@123456> cevabın bu."
			before := len(fake.Snapshot().By(tt.channel.ID, e.user.ID))
			deliver(e.bot.SinkFor(resumed(e, tt.channel.ID, tt.kind, id)), final)
			v := e.wait("the delivered reply reads the final text", func(v discordtest.View) bool {
				return slices.ContainsFunc(v.By(tt.channel.ID, e.user.ID), func(b discordtest.Message) bool { return b.Content == final })
			})
			got := v.By(tt.channel.ID, e.user.ID)
			if len(got) != before+1 {
				t.Fatalf("bot has %d messages in the chat, want %d", len(got), before+1)
			}
			r := got[len(got)-1]
			wantRef, wantPings := m.ID, []string{"replied:" + e.people.ID}
			if tt.gone || tt.id != "" {
				wantRef, wantPings = "", nil
			}
			if r.Reference != wantRef {
				t.Errorf("reply references %q, want %q", r.Reference, wantRef)
			}
			if got := r.Pings(e.people.ID); !slices.Equal(got, wantPings) {
				t.Errorf("reply pings %v, want %v", got, wantPings)
			}
			checkNoPings(t, v.RequestsTo("", "/channels/"+tt.channel.ID+"/messages"))
		})
	}
	// Events are handled in order: once a later DM reached the brain,
	// every message above was handled.
	e.post(discordtest.Post{ChannelID: dm.ID, Content: "son"})
	waitFor(t, "the last DM reaches the brain", func() bool { return len(e.brain.got()) >= 2 })
	if got := e.brain.got(); len(got) != 2 || got[0].ChatID != dm.ID || got[1].Text != "son" {
		t.Errorf("brain got %+v, want only the two DMs", got)
	}
}

func TestSinkForLifecycle(t *testing.T) {
	t.Parallel()
	t.Run("asked before Run connects", func(t *testing.T) {
		t.Parallel()
		ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
		e := newEnv(t, Config{}, nothing, ch)
		// The user's message was stored before a restart.
		m, err := fake.Post(discordtest.Post{ChannelID: ch.ID, Author: e.people, Content: "yeniden başlamadan önce"})
		if err == nil || m.ID == "" {
			t.Fatalf("post before connecting = %v, %v; want the message stored, not dispatched", m.ID, err)
		}
		deliver(e.bot.SinkFor(resumed(e, ch.ID, brain.ChatGroup, m.ID)), "Geç de olsa cevap.")
		e.run()
		e.replyTo(m, "Geç de olsa cevap.")
	})
	t.Run("asked once Run stopped", func(t *testing.T) {
		t.Parallel()
		ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
		e := startBot(t, Config{}, nothing, ch)
		m := e.post(discordtest.Post{ChannelID: ch.ID, Content: "selam"})
		e.cancel()
		if returned, err := e.waitRun(10 * time.Second); !returned || err != nil {
			t.Fatalf("Run returned %v, %v; want nil", returned, err)
		}
		requests := len(e.requests())
		deliver(e.bot.SinkFor(resumed(e, ch.ID, brain.ChatGroup, m.ID)), "Çok geç.")
		e.waitLog("reply not delivered")
		if n := len(e.requests()); n != requests {
			t.Errorf("%d requests after Run returned, want none", n-requests)
		}
	})
	t.Run("another platform's message", func(t *testing.T) {
		t.Parallel()
		ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
		e := startBot(t, Config{}, nothing, ch)
		m := resumed(e, ch.ID, brain.ChatGroup, "1")
		m.Platform = brain.PlatformTelegram
		deliver(e.bot.SinkFor(m), "Yanlış yer.")
		e.waitLog("not a Discord chat")
		if n := len(fake.Snapshot().RequestsTo("POST", "/channels/"+ch.ID+"/messages")); n != 0 {
			t.Errorf("%d messages sent, want none", n)
		}
		if !strings.Contains(e.logs.String(), "level=ERROR") {
			t.Errorf("log = %q, want an error", e.logs.String())
		}
	})
}
