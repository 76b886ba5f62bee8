package discord

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/evo-tr/evo/bots/discord/discordtest"
	"github.com/evo-tr/evo/bots/markdown"
	"github.com/evo-tr/evo/brain"
)

func TestNew(t *testing.T) {
	h := &fakeBrain{answer: echo}
	log := discardLogger()
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{name: "ok", cfg: Config{Token: "abc"}},
		{name: "Bot prefix kept once", cfg: Config{Token: "Bot abc"}},
		{name: "empty token", cfg: Config{Token: "  "}, wantErr: true},
		{name: "negative interval", cfg: Config{Token: "abc", EditInterval: -time.Second}, wantErr: true},
		{name: "negative grace", cfg: Config{Token: "abc", ShutdownGrace: -time.Second}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := New(tt.cfg, h, log, brain.SystemClock{})
			if (err != nil) != tt.wantErr {
				t.Fatalf("New error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got, want := b.cfg.Token, "abc"; got != want {
				t.Errorf("token = %q, want %q", got, want)
			}
			if got, want := b.cfg.EditInterval, DefaultEditInterval; got != want {
				t.Errorf("EditInterval = %v, want %v", got, want)
			}
			if got, want := b.cfg.ShutdownGrace, DefaultShutdownGrace; got != want {
				t.Errorf("ShutdownGrace = %v, want %v", got, want)
			}
		})
	}
	if _, err := New(Config{Token: "x"}, nil, log, brain.SystemClock{}); err == nil {
		t.Error("New with a nil handler: got no error")
	}
}

func TestMentionGetsOneReply(t *testing.T) {
	t.Parallel()
	ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
	e := startBot(t, Config{AdminIDs: []string{"999"}}, echo, ch)
	friend := discordtest.User{ID: fake.NewID(), Username: "mehmet", GlobalName: "Mehmet"}
	m := e.post(discordtest.Post{ChannelID: ch.ID, Nick: "Ayşe Hanım",
		Content:  e.mention() + " merhaba, <@" + friend.ID + "> da burada",
		Mentions: []discordtest.User{e.user, friend}})
	want := "Cevap: merhaba, @Mehmet da burada"
	replies := e.replyTo(m, want)
	if len(replies) != 1 {
		t.Fatalf("bot wrote %d messages, want 1: %+v", len(replies), replies)
	}
	got := e.brain.got()
	if len(got) != 1 {
		t.Fatalf("brain got %d messages, want 1", len(got))
	}
	wantMsg := brain.Message{
		Platform: brain.PlatformDiscord, ChatID: ch.ID, ChatKind: brain.ChatGroup, UserID: e.people.ID,
		UserName: "Ayşe Hanım", Handle: "ayse", Text: "merhaba, @Mehmet da burada", PlatformMessageID: m.ID,
		Mentioned: true, Admin: false, Time: testTime,
	}
	if got[0] != wantMsg {
		t.Errorf("brain got\n%+v\nwant\n%+v", got[0], wantMsg)
	}
}

func TestOnlyAddressedMessagesAreAnswered(t *testing.T) {
	t.Parallel()
	text := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
	dm := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelDM}
	thread := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelPublicThread, ParentID: text.ID, Name: "konu"}
	e := startBot(t, Config{}, echo, text, dm, thread)
	// A thread created after login is not in the state: the bot asks the API.
	late := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelPrivateThread, ParentID: text.ID, Name: "yeni"}
	e.addChannel(late)

	ignored := e.post(discordtest.Post{ChannelID: text.ID, Content: "herkese selam"})
	e.post(discordtest.Post{ChannelID: thread.ID, Content: "konu dışı"})
	tests := []struct {
		name     string
		channel  string
		content  string
		mention  bool
		wantKind brain.ChatKind
	}{
		{name: "mention in a channel", channel: text.ID, content: e.mention() + " selam", mention: true, wantKind: brain.ChatGroup},
		{name: "DM without mention", channel: dm.ID, content: "selam", wantKind: brain.ChatPrivate},
		{name: "thread", channel: thread.ID, content: e.mention() + " selam", mention: true, wantKind: brain.ChatThread},
		{name: "thread made after login", channel: late.ID, content: "<@!" + e.user.ID + "> selam", mention: true, wantKind: brain.ChatThread},
	}
	for i, tt := range tests {
		p := discordtest.Post{ChannelID: tt.channel, Content: tt.content}
		if tt.mention {
			p.Mentions = []discordtest.User{e.user}
		}
		m := e.post(p)
		if replies := e.replyTo(m, "Cevap: selam"); len(replies) != 1 {
			t.Errorf("%s: bot wrote %d messages, want 1", tt.name, len(replies))
		}
		got := e.brain.got()
		if len(got) != i+1 {
			t.Fatalf("%s: brain got %d messages, want %d (unaddressed ones must be skipped)", tt.name, len(got), i+1)
		}
		last := got[i]
		if last.ChatKind != tt.wantKind || last.ChatID != tt.channel || last.Text != "selam" || last.Mentioned != tt.mention {
			t.Errorf("%s: brain got %+v, want kind %s chat %s text %q mentioned %v",
				tt.name, last, tt.wantKind, tt.channel, "selam", tt.mention)
		}
	}
	v := fake.Snapshot()
	if n := len(v.RequestsTo("GET", "/channels/"+thread.ID)); n != 0 {
		t.Errorf("looked up the thread known from GUILD_CREATE %d times, want 0 (state)", n)
	}
	if n := len(v.RequestsTo("GET", "/channels/"+late.ID)); n != 1 {
		t.Errorf("looked up the late thread %d times, want 1 (then cached)", n)
	}
	if n := len(v.By(text.ID, e.user.ID)); n != 1 {
		t.Errorf("bot wrote %d messages in the channel, want 1 (none to %s)", n, ignored.ID)
	}
}

func TestReplyToTheBotCountsAsMention(t *testing.T) {
	t.Parallel()
	ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
	e := startBot(t, Config{}, echo, ch)
	first := e.post(discordtest.Post{ChannelID: ch.ID, Content: e.mention() + " bir", Mentions: []discordtest.User{e.user}})
	botMsg := e.replyTo(first, "Cevap: bir")[0]
	second := e.post(discordtest.Post{ChannelID: ch.ID, Content: "iki", ReplyTo: botMsg.ID})
	e.replyTo(second, "Cevap: iki")
	if got := e.brain.got(); len(got) != 2 || !got[1].Mentioned {
		t.Errorf("brain got %+v, want a second, mentioned message", got)
	}
}

func TestTextCommandAfterMention(t *testing.T) {
	t.Parallel()
	ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
	admin := discordtest.User{ID: fake.NewID(), Username: "yonetici"}
	e := startBot(t, Config{AdminIDs: []string{" " + admin.ID + " "}}, echo, ch)
	m := e.post(discordtest.Post{ChannelID: ch.ID, Author: admin, Content: e.mention() + " /wipe 42", Mentions: []discordtest.User{e.user}})
	e.replyTo(m, "Cevap: /wipe 42")
	if got := e.brain.got(); len(got) != 1 || got[0].Text != "/wipe 42" || !got[0].Admin || got[0].UserName != "yonetici" {
		t.Errorf("brain got %+v, want text /wipe 42 from an admin", got)
	}
}

func TestLongAnswerIsSplitWithFencesBalanced(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("İşte istediğin betik:\n\n```python\n")
	for i := 0; b.Len() < 4200; i++ {
		fmt.Fprintf(&b, "print('satır %d: çok uzun bir kod satırı ğüşıöç')\n", i)
	}
	b.WriteString("```\n\nUmarım işine yarar. ")
	for utf8.RuneCountInString(b.String()) < 5000 {
		b.WriteString("Açıklama cümlesi. ")
	}
	answer := b.String()
	ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "kod"}
	e := startBot(t, Config{}, answerWith(answer, 700, 5*time.Millisecond), ch)
	m := e.post(discordtest.Post{ChannelID: ch.ID, Content: e.mention() + " kod yaz", Mentions: []discordtest.User{e.user}})

	want := markdown.Split(answer, MaxMessageLen, markdown.Runes)
	v := e.wait("the parts read the split answer", func(v discordtest.View) bool {
		got := v.By(ch.ID, e.user.ID)
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if got[i].Content != want[i] {
				return false
			}
		}
		return true
	})
	parts := v.By(ch.ID, e.user.ID)
	if len(parts) < 3 {
		t.Fatalf("got %d parts, want at least 3 for %d characters", len(parts), utf8.RuneCountInString(answer))
	}
	if parts[0].Reference != m.ID {
		t.Errorf("first part replies to %q, want %q", parts[0].Reference, m.ID)
	}
	var lines []string
	for i, p := range parts {
		if n := utf8.RuneCountInString(p.Content); n > MaxMessageLen {
			t.Errorf("part %d has %d characters, want <= %d", i, n, MaxMessageLen)
		}
		if n := markdown.Fences(p.Content); n%2 != 0 {
			t.Errorf("part %d has %d fence lines, want an even number", i, n)
		}
		for l := range strings.SplitSeq(p.Content, "\n") {
			if !strings.HasPrefix(l, "```") {
				lines = append(lines, l)
			}
		}
	}
	// Apart from fence lines, the parts hold the answer's lines in order
	// (a line cut between parts appears as its two halves).
	joined := strings.Join(lines, "\n")
	for l := range strings.SplitSeq(answer, "\n") {
		if strings.HasPrefix(l, "```") {
			continue
		}
		i := strings.Index(joined, strings.TrimSpace(l))
		if i < 0 {
			t.Fatalf("answer line %q is missing from the parts", l)
		}
		joined = joined[i+len(strings.TrimSpace(l)):]
	}
	if !strings.HasPrefix(parts[1].Content, "```python\n") {
		t.Errorf("second part starts %q, want the code block reopened as ```python", parts[1].Content[:20])
	}
}

func TestEveryoneIsNeverPinged(t *testing.T) {
	t.Parallel()
	role := fake.NewID()
	hostile := func(m brain.Message) script {
		text := "Duyuru: @everyone @here <@&" + role + "> <@123456> — " + m.Text
		return script{deltas: []string{text[:10], text[10:]}, final: brain.Reply{Kind: brain.ReplyAnswer, Text: text}}
	}
	ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "duyuru"}
	e := startBot(t, Config{}, hostile, ch)
	m := e.post(discordtest.Post{ChannelID: ch.ID, Content: e.mention() + " @everyone toplantı <@&" + role + ">",
		Mentions: []discordtest.User{e.user}, MentionEveryone: true, MentionRoles: []string{role}})
	want := "Duyuru: @everyone @here <@&" + role + "> <@123456> — @everyone toplantı @rol"
	replies := e.replyTo(m, want)
	if got, wantPings := replies[0].Pings(e.people.ID), []string{"replied:" + e.people.ID}; !slices.Equal(got, wantPings) {
		t.Errorf("reply pings %v, want only %v", got, wantPings)
	}
	checkNoPings(t, fake.Snapshot().RequestsTo("", "/channels/"+ch.ID+"/messages"))
}

func TestNoLoopOnBotMessages(t *testing.T) {
	t.Parallel()
	ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
	var e *env
	// The answer mentions the bot itself; the fake echoes it back.
	selfMention := func(m brain.Message) script {
		text := "<@" + e.user.ID + "> dedi ki: " + m.Text
		return script{deltas: []string{text}, final: brain.Reply{Kind: brain.ReplyAnswer, Text: text}}
	}
	e = startBot(t, Config{}, func(m brain.Message) script { return selfMention(m) }, ch)
	other := discordtest.User{ID: fake.NewID(), Username: "diger-bot", Bot: true}
	e.post(discordtest.Post{ChannelID: ch.ID, Author: other, Content: e.mention() + " bot", Mentions: []discordtest.User{e.user}})
	first := e.post(discordtest.Post{ChannelID: ch.ID, Content: e.mention() + " bir", Mentions: []discordtest.User{e.user}})
	e.replyTo(first, e.mention()+" dedi ki: bir")
	second := e.post(discordtest.Post{ChannelID: ch.ID, Content: e.mention() + " iki", Mentions: []discordtest.User{e.user}})
	e.replyTo(second, e.mention()+" dedi ki: iki")
	got := e.brain.got()
	if len(got) != 2 || got[0].Text != "bir" || got[1].Text != "iki" {
		t.Errorf("brain got %+v, want only the user's two messages", got)
	}
	if n := len(fake.Snapshot().By(ch.ID, e.user.ID)); n != 2 {
		t.Errorf("bot wrote %d messages, want 2", n)
	}
}

func TestSurvivesGatewayLoss(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cut  func(token string) error
	}{
		{name: "server asks to reconnect (op 7)", cut: fake.Reconnect},
		{name: "connection dropped", cut: fake.Drop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
			e := startBot(t, Config{}, echo, ch)
			e.wait("heartbeats acknowledged", func(v discordtest.View) bool {
				return v.Sessions[e.token].Acks >= 2
			})
			before := fake.Snapshot().Sessions[e.token]
			if err := tt.cut(e.token); err != nil {
				t.Fatalf("cut: %v", err)
			}
			// Posted while the bot may be away: replayed on resume.
			m := e.post(discordtest.Post{ChannelID: ch.ID, Content: e.mention() + " hâlâ orada mısın",
				Mentions: []discordtest.User{e.user}})
			e.replyTo(m, "Cevap: hâlâ orada mısın")
			after := e.wait("resumed", func(v discordtest.View) bool {
				s := v.Sessions[e.token]
				return s.Connected && s.Resumes > before.Resumes
			}).Sessions[e.token]
			if after.SessionID != before.SessionID || after.Identifies != before.Identifies {
				t.Errorf("session %s identified %d times, want the same session %s resumed (identifies %d)",
					after.SessionID, after.Identifies, before.SessionID, before.Identifies)
			}
			e.waitLog("connection lost")
			e.waitLog("session resumed")
			if got := len(e.brain.got()); got != 1 {
				t.Errorf("brain got %d messages, want 1", got)
			}
		})
	}
}

func TestRateLimitedRequestsAreRetried(t *testing.T) {
	t.Parallel()
	ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
	e := startBot(t, Config{}, answerWith("Bir iki üç dört beş altı yedi", 5, 20*time.Millisecond), ch)
	fake.AddRateLimit(discordtest.RateLimit{Method: "POST", Path: "/channels/" + ch.ID + "/messages", Count: 1, RetryAfter: 0.2})
	fake.AddRateLimit(discordtest.RateLimit{Method: "PATCH", Path: "/channels/" + ch.ID + "/messages/", Count: 1, RetryAfter: 0.15})
	m := e.post(discordtest.Post{ChannelID: ch.ID, Content: e.mention() + " say", Mentions: []discordtest.User{e.user}})
	e.replyTo(m, "Bir iki üç dört beş altı yedi")
	v := fake.Snapshot()
	for _, method := range []string{"POST", "PATCH"} {
		reqs := v.RequestsTo(method, "/channels/"+ch.ID+"/messages")
		if len(reqs) < 2 || reqs[0].Status != 429 || reqs[1].Status != 200 {
			var st []int
			for _, r := range reqs {
				st = append(st, r.Status)
			}
			t.Errorf("%s statuses %v, want 429 then 200", method, st)
		}
	}
	if n := len(v.By(ch.ID, e.user.ID)); n != 1 {
		t.Errorf("bot wrote %d messages, want 1", n)
	}
}

func TestSlashCommands(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Uzun komut cevabı. ", 150)
	answer := func(m brain.Message) script {
		if m.Text == "/help" {
			return script{deltas: []string{long[:100]}, final: brain.Reply{Kind: brain.ReplyCommand, Text: long}}
		}
		return echo(m)
	}
	ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
	dm := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelDM}
	e := startBot(t, Config{AdminIDs: []string{"placeholder"}}, answer, ch, dm)

	v := fake.Snapshot()
	var names []string
	for _, c := range v.Commands[e.user.ID] {
		names = append(names, c.Name)
		if c.Name == "expert" && (len(c.Options) != 1 || c.Options[0].Name != "uzman" || c.Options[0].Required) {
			t.Errorf("/expert options = %+v, want one optional option uzman", c.Options)
		}
	}
	var want []string
	for _, c := range brain.Commands() {
		want = append(want, c.Name)
	}
	if !slices.Equal(names, want) {
		t.Errorf("registered %v, want %v", names, want)
	}

	it, err := fake.RunCommand(ch.ID, e.people, "expert", map[string]string{"uzman": "python_coder"})
	if err != nil {
		t.Fatal(err)
	}
	v = e.wait("the command is answered", func(v discordtest.View) bool {
		got, _ := v.Interaction(it.ID)
		m, ok := v.Message(got.Original)
		return ok && m.Content == "Cevap: /expert python_coder"
	})
	got, _ := v.Interaction(it.ID)
	if !slices.Equal(got.Callbacks, []int{discordtest.CallbackDeferredChannelMessage}) {
		t.Errorf("callbacks = %v, want one deferred response", got.Callbacks)
	}
	msgs := e.brain.got()
	if len(msgs) != 1 || msgs[0].Text != "/expert python_coder" || msgs[0].PlatformMessageID != it.ID ||
		msgs[0].ChatKind != brain.ChatGroup || !msgs[0].Mentioned {
		t.Errorf("brain got %+v, want /expert python_coder from interaction %s", msgs, it.ID)
	}

	help, err := fake.RunCommand(dm.ID, e.people, "help", nil)
	if err != nil {
		t.Fatal(err)
	}
	wantParts := markdown.Split(long, MaxMessageLen, markdown.Runes)
	v = e.wait("the long command answer is complete", func(v discordtest.View) bool {
		got, _ := v.Interaction(help.ID)
		if len(got.Followups) != len(wantParts)-1 {
			return false
		}
		for i, id := range append([]string{got.Original}, got.Followups...) {
			if m, ok := v.Message(id); !ok || m.Content != wantParts[i] {
				return false
			}
		}
		return true
	})
	if msgs := e.brain.got(); msgs[1].ChatKind != brain.ChatPrivate {
		t.Errorf("DM command chat kind = %s, want private", msgs[1].ChatKind)
	}
	// Only this test's interactions: other tests share the fake.
	for _, tok := range []string{it.Token, help.Token} {
		reqs := v.RequestsTo("", "/webhooks/"+e.user.ID+"/"+tok)
		if len(reqs) == 0 {
			t.Errorf("no webhook requests for interaction token %s", tok)
		}
		for _, r := range reqs {
			if r.Method != "DELETE" && !strings.Contains(string(r.Body), `"allowed_mentions":{"parse":[]`) {
				t.Errorf("%s %s carries %s, want allowed_mentions with parse []", r.Method, r.Path, r.Body)
			}
		}
	}
}

func TestTypingAndThrottledEdits(t *testing.T) {
	t.Parallel()
	const interval = 150 * time.Millisecond
	ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
	text := strings.Repeat("kelime ", 40)
	e := startBot(t, Config{EditInterval: interval, TypingInterval: 100 * time.Millisecond},
		answerWith(text, 7, 25*time.Millisecond), ch)
	m := e.post(discordtest.Post{ChannelID: ch.ID, Content: e.mention() + " yaz", Mentions: []discordtest.User{e.user}})
	replies := e.replyTo(m, text)
	v := fake.Snapshot()
	if n := len(v.RequestsTo("POST", "/channels/"+ch.ID+"/typing")); n < 3 {
		t.Errorf("typing sent %d times over ~1 s, want at least 3", n)
	}
	r := replies[0]
	times := append([]time.Time{r.Created}, r.EditTimes...)
	if len(times) < 4 {
		t.Fatalf("reply was edited %d times, want a streamed reply with several edits", r.Edits)
	}
	// Every edit but the final one waits EditInterval after the previous
	// (with slack for the request's own latency).
	for i := 1; i < len(times)-1; i++ {
		if gap := times[i].Sub(times[i-1]); gap < interval-20*time.Millisecond {
			t.Errorf("edit %d came %v after the previous one, want >= %v", i, gap, interval)
		}
	}
}

func TestSplitFollowsTheFinalText(t *testing.T) {
	t.Parallel()
	// The stream is long (three parts) but the final text is short: the
	// extra parts are removed and the first one reads the final text.
	streamed := strings.Repeat("a", 4500)
	answer := func(brain.Message) script {
		return script{deltas: []string{streamed[:2100], streamed[2100:], ""}, gap: 120 * time.Millisecond,
			final: brain.Reply{Kind: brain.ReplyError, Text: "Cevap yarıda kesildi."}}
	}
	ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
	e := startBot(t, Config{EditInterval: 20 * time.Millisecond}, answer, ch)
	m := e.post(discordtest.Post{ChannelID: ch.ID, Content: e.mention() + " yaz", Mentions: []discordtest.User{e.user}})
	v := e.wait("only the final text is left", func(v discordtest.View) bool {
		got := v.By(ch.ID, e.user.ID)
		return len(got) == 1 && got[0].Content == "Cevap yarıda kesildi."
	})
	if n := len(v.RequestsTo("DELETE", "/channels/"+ch.ID+"/messages/")); n != 2 {
		t.Errorf("deleted %d stale parts, want 2", n)
	}
	if got := v.By(ch.ID, e.user.ID)[0]; got.Reference != m.ID {
		t.Errorf("remaining part replies to %q, want %q", got.Reference, m.ID)
	}
}

func TestMentionOfTheBotsRole(t *testing.T) {
	t.Parallel()
	ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
	e := startBot(t, Config{}, echo, ch)
	// Discord gives a bot an integration role when it joins; typing @EVO
	// often picks it. It is given here after login, so the state lacks it
	// and the bot must ask the API.
	own := discordtest.Role{ID: fake.NewID(), Name: "EVO"}
	other := discordtest.Role{ID: fake.NewID(), Name: "moderatör"}
	fake.SetBotRoles(e.token, e.guild, own)

	m := e.post(discordtest.Post{ChannelID: ch.ID, Content: "<@&" + own.ID + "> merhaba", MentionRoles: []string{own.ID}})
	if replies := e.replyTo(m, "Cevap: merhaba"); len(replies) != 1 {
		t.Fatalf("bot wrote %d messages, want 1", len(replies))
	}
	if got := e.brain.got(); len(got) != 1 || got[0].Text != "merhaba" || !got[0].Mentioned {
		t.Fatalf("brain got %+v; want the text without the role mention, as a mention", got)
	}
	asked := len(fake.Snapshot().RequestsTo("GET", "/guilds/"+e.guild+"/members/"))

	// Another role is not the bot; the API is not asked again so soon.
	e.post(discordtest.Post{ChannelID: ch.ID, Content: "<@&" + other.ID + "> toplantı var", MentionRoles: []string{other.ID}})
	// The bot's role again: now known from the state.
	m = e.post(discordtest.Post{ChannelID: ch.ID, Content: "<@&" + own.ID + "> tekrar", MentionRoles: []string{own.ID}})
	e.replyTo(m, "Cevap: tekrar")
	if got := e.brain.got(); len(got) != 2 || got[1].Text != "tekrar" {
		t.Errorf("brain got %+v; the other role's message must be skipped", got)
	}
	if n := len(fake.Snapshot().RequestsTo("GET", "/guilds/"+e.guild+"/members/")); asked != 1 || n != 1 {
		t.Errorf("member lookups: %d after the first mention, %d in all; want 1 and 1", asked, n)
	}
}
