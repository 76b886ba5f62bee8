package telegram

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"github.com/evo-tr/evo/bots/telegram/telegramtest"
	"github.com/evo-tr/evo/brain"
)

func TestPrivateMessageStreamsOneReply(t *testing.T) {
	answer := "Merhaba Ayşe! İstanbul bugün güneşli ve ılık, akşam biraz serinleyecek."
	words := strings.SplitAfter(answer, " ")
	h := &fakeHandler{answer: func(brain.Message) script {
		return script{deltas: words, final: answer, wait: 40 * time.Millisecond}
	}}
	e := start(t, h, nil)
	in := e.say(private(alice), alice, "Bugün hava nasıl?")
	e.settled(t, alice.ID, []string{renderHTML(answer)})

	msgs := e.srv.BotMessages(alice.ID)
	m := msgs[0]
	if m.Visible != answer {
		t.Errorf("final visible text = %q, want %q", m.Visible, answer)
	}
	if len(m.Versions) < 3 {
		t.Errorf("message had %d versions, want a send and several edits (streaming)", len(m.Versions))
	}
	first, err := telegramtest.ParseHTML(m.Versions[0])
	if err != nil || !strings.HasPrefix(answer, first) || len(first) >= len(answer) {
		t.Errorf("first version %q (err %v) should be a proper prefix of the answer", first, err)
	}
	for i := 1; i < len(m.At); i++ {
		if gap := m.At[i].Sub(m.At[i-1]); gap < 45*time.Millisecond {
			t.Errorf("edit %d came %v after the previous one, want at least the edit interval (60ms)", i, gap)
		}
	}
	if m.ReplyTo != 0 {
		t.Errorf("private reply quotes message %d, want no quote", m.ReplyTo)
	}
	if n := len(e.srv.Calls("sendChatAction")); n == 0 {
		t.Errorf("no typing action was sent")
	}
	call := e.srv.Calls("sendMessage")[0]
	if !strings.HasPrefix(call.ContentType, "multipart/form-data") || call.Params["parse_mode"] != "HTML" {
		t.Errorf("sendMessage sent as %q with parse_mode %q, want multipart and HTML", call.ContentType, call.Params["parse_mode"])
	}

	got := h.messages()
	if len(got) != 1 {
		t.Fatalf("brain got %d messages, want 1", len(got))
	}
	want := brain.Message{
		Platform: brain.PlatformTelegram, ChatID: "7", ChatKind: brain.ChatPrivate, UserID: "7",
		UserName: "Ayşe Yılmaz", Handle: "ayse", Text: "Bugün hava nasıl?", PlatformMessageID: fmt.Sprint(in.ID),
		Admin: true, Time: time.Unix(int64(in.Date), 0),
	}
	if got[0] != want {
		t.Errorf("brain got %+v\nwant %+v", got[0], want)
	}
}

func TestTypingWhileWaiting(t *testing.T) {
	h := &fakeHandler{answer: func(brain.Message) script {
		return script{final: "Tamam.", wait: 450 * time.Millisecond}
	}}
	e := start(t, h, nil)
	e.say(private(bob), bob, "Düşün biraz")
	e.settled(t, bob.ID, []string{"Tamam."})
	if n := len(e.srv.Calls("sendChatAction")); n < 3 {
		t.Errorf("typing sent %d times during a 450ms wait with a 100ms interval, want at least 3", n)
	}
	for _, c := range e.srv.Calls("sendChatAction") {
		if c.Params["action"] != "typing" {
			t.Errorf("chat action %q, want typing", c.Params["action"])
		}
	}
}

func TestRateLimitedSendIsRetried(t *testing.T) {
	h := &fakeHandler{}
	e := start(t, h, nil)
	e.srv.TooManyRequests("sendMessage", 1, 1)
	e.say(private(alice), alice, "selam")
	e.settled(t, alice.ID, []string{"Cevap: selam"})
	if n := len(e.srv.Calls("sendMessage")); n != 2 {
		t.Errorf("sendMessage called %d times, want 2 (429, then the retry)", n)
	}
	if !slices.Contains(e.sleeps.all(), time.Second) {
		t.Errorf("adapter slept %v, want a 1s wait for retry_after", e.sleeps.all())
	}
}

func TestRateLimitedEditIsRetried(t *testing.T) {
	h := &fakeHandler{answer: func(brain.Message) script {
		return script{deltas: []string{"bir ", "iki ", "üç"}, final: "bir iki üç dört", wait: 30 * time.Millisecond}
	}}
	e := start(t, h, nil)
	e.srv.TooManyRequests("editMessageText", 2, 1)
	e.say(private(alice), alice, "say")
	e.settled(t, alice.ID, []string{"bir iki üç dört"})
	if !slices.Contains(e.sleeps.all(), time.Second) {
		t.Errorf("adapter slept %v, want a 1s wait for retry_after", e.sleeps.all())
	}
}

// longAnswer is about 10,000 characters of prose and Python code blocks.
func longAnswer() string {
	var b strings.Builder
	for i := 0; utf8.RuneCountInString(b.String()) < 10000; i++ {
		fmt.Fprintf(&b, "## Bölüm %d\n\nBu paragraf **önemli** bir açıklama içeriyor: `x < y` ve şöyle devam ediyor. ", i)
		b.WriteString(strings.Repeat("Uzun bir cümle daha yazıyoruz ki mesaj büyüsün. ", 6))
		fmt.Fprintf(&b, "\n\n```python\ndef f%d(a, b):\n", i)
		for j := range 12 {
			fmt.Fprintf(&b, "    if a < %d and b > %d:  # satır %d\n        return a & b\n", j, j, j)
		}
		b.WriteString("```\n\n")
	}
	return b.String()
}

func TestLongAnswerIsSplit(t *testing.T) {
	answer := longAnswer()
	if n := len([]rune(answer)); n < 10000 {
		t.Fatalf("test answer has %d runes, want at least 10,000", n)
	}
	var deltas []string
	for s := answer; s != ""; {
		n := min(len(s), 700)
		for n < len(s) && !strings.HasPrefix(s[n:], " ") {
			n++
		}
		deltas = append(deltas, s[:n])
		s = s[n:]
	}
	h := &fakeHandler{answer: func(brain.Message) script {
		return script{deltas: deltas, final: answer, wait: 15 * time.Millisecond}
	}}
	e := start(t, h, nil)
	e.say(private(alice), alice, "uzun anlat")
	want := renderParts(answer)
	if len(want) < 3 {
		t.Fatalf("answer renders to %d parts, want at least 3", len(want))
	}
	e.settled(t, alice.ID, want)

	var all strings.Builder
	for i, m := range e.srv.BotMessages(alice.ID) {
		if n := telegramtest.UTF16Len(m.Visible); n > 4096 {
			t.Errorf("message %d has %d UTF-16 units, want at most 4096", i, n)
		}
		if strings.Count(m.Text, "<pre>") != strings.Count(m.Text, "</pre>") {
			t.Errorf("message %d cuts a code block: %q", i, m.Text)
		}
		all.WriteString(m.Visible)
	}
	// Every line of code arrives whole, inside a code block.
	for _, line := range strings.Split(answer, "\n") {
		if strings.HasPrefix(line, "    ") && !strings.Contains(all.String(), line) {
			t.Fatalf("code line %q is missing or cut", line)
		}
	}
	squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
	if got, want := squash(all.String()), squash(plainText(renderHTML(answer))); got != want {
		t.Errorf("the parts do not add up to the answer (%d vs %d non-space bytes)", len(got), len(want))
	}
}

func TestGroupAddressing(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		replyTo   bool // reply to the bot's earlier message
		answered  bool
		brainText string
		mentioned bool
	}{
		{name: "no mention", text: "herkese merhaba", answered: false},
		{name: "mention", text: "@" + botName + " bugün ne yapalım?", answered: true, brainText: "bugün ne yapalım?", mentioned: true},
		{name: "mention with comma", text: "@" + botName + ", selam", answered: true, brainText: "selam", mentioned: true},
		{name: "mention in the middle", text: "hey @EVO_TEST_BOT naber", answered: true, brainText: "hey naber", mentioned: true},
		{name: "mention after emoji", text: "🙂 @" + botName + " naber", answered: true, brainText: "🙂 naber", mentioned: true},
		{name: "other mention", text: "@someone_else naber", answered: false},
		{name: "reply to the bot", text: "peki ya yarın?", replyTo: true, answered: true, brainText: "peki ya yarın?", mentioned: true},
		{name: "command", text: "/reset", answered: true, brainText: "/reset"},
		{name: "command for us", text: "/expert@" + botName + " python_coder", answered: true, brainText: "/expert python_coder", mentioned: true},
		{name: "command for another bot", text: "/reset@other_bot", answered: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{}
			e := start(t, h, nil)
			// The bot's earlier message, for replies.
			e.say(group, bob, "@"+botName+" ilk soru")
			waitFor(t, "the first answer", func() bool { return len(e.srv.BotMessages(group.ID)) == 1 })
			earlier := e.srv.BotMessages(group.ID)[0]

			m := models.Message{Chat: group, From: &alice, Text: tt.text}
			if tt.replyTo {
				m.ReplyToMessage = &models.Message{ID: earlier.ID}
			}
			in := e.srv.Post(m)
			// A later addressed message: once it is answered, the one before
			// has been handled too (updates are handled in order).
			e.say(group, bob, "@"+botName+" son soru")
			waitFor(t, "the last answer", func() bool { return len(h.messages()) >= 2 && lastAnswered(e, "Cevap: son soru") })

			got := h.messages()
			var mine []brain.Message
			for _, bm := range got {
				if bm.UserID == "7" {
					mine = append(mine, bm)
				}
			}
			if !tt.answered {
				if len(mine) != 0 {
					t.Fatalf("brain got %+v, want no message", mine)
				}
				return
			}
			if len(mine) != 1 {
				t.Fatalf("brain got %d messages from the user, want 1", len(mine))
			}
			bm := mine[0]
			if bm.Text != tt.brainText || bm.Mentioned != tt.mentioned || bm.ChatKind != brain.ChatGroup || bm.ChatID != "-1001" {
				t.Errorf("brain got text %q mentioned %v kind %s chat %s, want %q %v group -1001",
					bm.Text, bm.Mentioned, bm.ChatKind, bm.ChatID, tt.brainText, tt.mentioned)
			}
			waitFor(t, "the reply", func() bool {
				for _, r := range e.srv.BotMessages(group.ID) {
					if r.ReplyTo == in.ID {
						return r.Visible == "Cevap: "+tt.brainText
					}
				}
				return false
			})
		})
	}
}

// lastAnswered reports whether the bot has answered text in the group.
// Replies run side by side, so the answer need not be the last message.
func lastAnswered(e *env, text string) bool {
	for _, m := range e.srv.BotMessages(group.ID) {
		if m.Visible == text {
			return true
		}
	}
	return false
}

func TestGroupContextIsPerUser(t *testing.T) {
	h := &fakeHandler{}
	e := start(t, h, nil)
	e.say(group, alice, "@"+botName+" bir")
	e.say(group, bob, "@"+botName+" iki")
	waitFor(t, "two answers", func() bool { return len(e.srv.BotMessages(group.ID)) == 2 })
	got := h.messages()
	if got[0].Key() == got[1].Key() {
		t.Errorf("two users in one group share the conversation key %v", got[0].Key())
	}
	if got[0].Key().ChatID != got[1].Key().ChatID {
		t.Errorf("chat ids differ: %q and %q", got[0].Key().ChatID, got[1].Key().ChatID)
	}
}

func TestForumTopic(t *testing.T) {
	h := &fakeHandler{}
	e := start(t, h, nil)
	forum := models.Chat{ID: -1002, Type: models.ChatTypeSupergroup, Title: "Forum", IsForum: true}
	e.srv.Post(models.Message{Chat: forum, From: &alice, Text: "@" + botName + " konu", MessageThreadID: 9, IsTopicMessage: true})
	waitFor(t, "the answer", func() bool { return len(e.srv.BotMessages(forum.ID)) == 1 })
	if got := e.srv.BotMessages(forum.ID)[0].ThreadID; got != 9 {
		t.Errorf("reply went to thread %d, want 9", got)
	}
	if m := h.messages()[0]; m.ChatID != "-1002:9" || m.ChatKind != brain.ChatThread {
		t.Errorf("brain got chat %q kind %s, want -1002:9 thread", m.ChatID, m.ChatKind)
	}
}

func TestNonTextMessages(t *testing.T) {
	tests := []struct {
		name string
		msg  models.Message
		kind string
	}{
		{"photo", models.Message{Photo: []models.PhotoSize{{FileID: "p", Width: 1, Height: 1}}}, "fotoğraf"},
		{"sticker", models.Message{Sticker: &models.Sticker{FileID: "s"}}, "çıkartma"},
		{"voice", models.Message{Voice: &models.Voice{FileID: "v", Duration: 2}}, "sesli mesaj"},
		{"document", models.Message{Document: &models.Document{FileID: "d"}}, "belge"},
		{"location", models.Message{Location: &models.Location{Latitude: 41, Longitude: 29}}, "konum"},
	}
	h := &fakeHandler{}
	e := start(t, h, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.srv.BotMessages(alice.ID))
			m := tt.msg
			m.Chat, m.From = private(alice), &alice
			e.srv.Post(m)
			waitFor(t, "the notice", func() bool { return len(e.srv.BotMessages(alice.ID)) == before+1 })
			got := e.srv.BotMessages(alice.ID)[before].Visible
			if want := fmt.Sprintf(nonTextReply, tt.kind); got != want {
				t.Errorf("notice = %q, want %q", got, want)
			}
		})
	}
	if n := len(h.messages()); n != 0 {
		t.Errorf("brain got %d non-text messages, want 0", n)
	}
}

func TestNonTextInGroupNeedsAddress(t *testing.T) {
	h := &fakeHandler{}
	e := start(t, h, nil)
	e.srv.Post(models.Message{Chat: group, From: &alice, Photo: []models.PhotoSize{{FileID: "p"}}})
	e.srv.Post(models.Message{Chat: group, From: &alice, Photo: []models.PhotoSize{{FileID: "p"}}, Caption: "@" + botName + " bak"})
	waitFor(t, "the notice", func() bool { return len(e.srv.BotMessages(group.ID)) == 1 })
	e.say(group, bob, "@"+botName+" son")
	waitFor(t, "the answer", func() bool { return len(e.srv.BotMessages(group.ID)) == 2 })
	msgs := e.srv.BotMessages(group.ID)
	if want := fmt.Sprintf(nonTextReply, "fotoğraf"); msgs[0].Visible != want || msgs[0].ReplyTo != 2 {
		t.Errorf("group notice = %q quoting %d, want %q quoting the captioned photo (2)", msgs[0].Visible, msgs[0].ReplyTo, want)
	}
}

func TestEditedAndServiceMessagesAreIgnored(t *testing.T) {
	h := &fakeHandler{}
	e := start(t, h, nil)
	orig := e.say(private(alice), alice, "ilk")
	e.settled(t, alice.ID, []string{"Cevap: ilk"})
	edited := orig
	edited.Text, edited.EditDate = "düzeltilmiş", int(time.Now().Unix())
	e.srv.Queue(models.Update{EditedMessage: &edited})
	e.srv.Post(models.Message{Chat: group, From: &alice, NewChatMembers: []models.User{bob}})
	e.srv.Queue(models.Update{CallbackQuery: &models.CallbackQuery{ID: "x", From: alice}})
	e.say(private(alice), alice, "ikinci")
	e.settled(t, alice.ID, []string{"Cevap: ilk", "Cevap: ikinci"})
	if n := len(h.messages()); n != 2 {
		t.Errorf("brain got %d messages, want 2 (edits and service messages ignored)", n)
	}
}

func TestBlockedUserIsNotRetried(t *testing.T) {
	h := &fakeHandler{}
	e := start(t, h, nil)
	e.srv.Block(alice.ID)
	e.say(private(alice), alice, "selam")
	e.say(private(bob), bob, "selam")
	e.settled(t, bob.ID, []string{"Cevap: selam"})
	waitFor(t, "the blocked send", func() bool { return countChat(e.srv.Calls("sendMessage"), alice.ID) > 0 })
	time.Sleep(200 * time.Millisecond)
	if n := countChat(e.srv.Calls("sendMessage"), alice.ID); n != 1 {
		t.Errorf("sendMessage to the blocking user called %d times, want 1 (403 is not retried)", n)
	}
}

func countChat(calls []telegramtest.Call, chat int64) int {
	n := 0
	for _, c := range calls {
		if c.Params["chat_id"] == fmt.Sprint(chat) {
			n++
		}
	}
	return n
}

func TestEditOfDeletedMessageSendsAgain(t *testing.T) {
	release := make(chan struct{})
	h := &fakeHandler{answer: func(brain.Message) script {
		return script{deltas: []string{"yarım "}, final: "yarım değil, tam cevap", wait: 20 * time.Millisecond}
	}}
	// Hold the final until the streamed message is deleted.
	h2 := &gatedHandler{fakeHandler: h, gate: release}
	e := start(t, h2, nil)
	e.say(private(alice), alice, "soru")
	waitFor(t, "the streamed message", func() bool { return len(e.srv.BotMessages(alice.ID)) == 1 })
	e.srv.DeleteMessage(alice.ID, e.srv.BotMessages(alice.ID)[0].ID)
	close(release)
	e.settled(t, alice.ID, []string{"yarım değil, tam cevap"})
}

// gatedHandler streams the deltas at once and the final after gate closes.
type gatedHandler struct {
	*fakeHandler
	gate chan struct{}
}

func (g *gatedHandler) Submit(ctx context.Context, m brain.Message, s brain.Sink) {
	sc := g.answer(m)
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for _, d := range sc.deltas {
			s.Delta(d)
		}
		<-g.gate
		s.Done(brain.Reply{Kind: brain.ReplyAnswer, Text: sc.final})
	}()
}

func TestRefusedHTMLFallsBackToPlainText(t *testing.T) {
	tests := []struct{ name, desc string }{
		{"cant parse", "Bad Request: can't parse entities: Unsupported start tag"},
		{"too long", "Bad Request: message is too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{answer: func(brain.Message) script { return script{final: "**kalın** & ince"} }}
			e := start(t, h, nil)
			e.srv.Fail("sendMessage", 1, http.StatusBadRequest, tt.desc, 0)
			e.say(private(alice), alice, "x")
			waitFor(t, "the reply", func() bool { return len(e.srv.BotMessages(alice.ID)) == 1 })
			m := e.srv.BotMessages(alice.ID)[0]
			if m.ParseMode != "" || m.Visible != "kalın & ince" {
				t.Errorf("fallback sent %q with parse mode %q, want plain %q", m.Visible, m.ParseMode, "kalın & ince")
			}
		})
	}
}

func TestCommandsAreRegistered(t *testing.T) {
	e := start(t, &fakeHandler{}, nil)
	waitFor(t, "setMyCommands", func() bool { return len(e.srv.Commands()) > 0 })
	var want []models.BotCommand
	for _, c := range brain.Commands() {
		if !c.Admin {
			want = append(want, models.BotCommand{Command: c.Name, Description: c.Description})
		}
	}
	if got := e.srv.Commands(); !slices.Equal(got, want) {
		t.Errorf("commands = %+v\nwant %+v", got, want)
	}
	for _, c := range e.srv.Commands() {
		if c.Command == "wipe" {
			t.Errorf("admin command /wipe registered for everyone")
		}
	}
}

func TestWebhook(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := &fakeHandler{}
	e := start(t, h, func(c *Config) {
		c.WebhookURL = "http://" + addr + "/tg/hook"
		c.WebhookListen = addr
		c.WebhookSecret = "s3cret"
	})
	hookURL, secret := e.srv.Webhook()
	if hookURL != "http://"+addr+"/tg/hook" || secret != "s3cret" {
		t.Fatalf("setWebhook got %q %q, want the configured URL and secret", hookURL, secret)
	}
	ctx := context.Background()
	u := e.srv.Record(models.Message{Chat: private(alice), From: &alice, Text: "kanca"})
	if code, err := e.srv.Deliver(ctx, u, "wrong"); err != nil || code != http.StatusUnauthorized {
		t.Errorf("delivery with a wrong secret: %d %v, want 401", code, err)
	}
	if code, err := e.srv.Deliver(ctx, u, ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("delivery without a secret: %d %v, want 401", code, err)
	}
	if code, err := e.srv.Deliver(ctx, u, secret); err != nil || code != http.StatusOK {
		t.Fatalf("delivery with the secret: %d %v, want 200", code, err)
	}
	e.settled(t, alice.ID, []string{"Cevap: kanca"})
	if n := len(h.messages()); n != 1 {
		t.Errorf("brain got %d messages, want 1 (rejected deliveries dropped)", n)
	}
	if n := len(e.srv.Calls("getUpdates")); n != 0 {
		t.Errorf("webhook mode polled getUpdates %d times", n)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	h := &fakeHandler{}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no token", Config{}},
		{"token with space", Config{Token: "1:a b"}},
		{"bad api url", Config{Token: telegramtest.DefaultToken, APIURL: "ftp://x"}},
		{"bad webhook url", Config{Token: telegramtest.DefaultToken, WebhookURL: "::"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, h, discardLog(), brain.SystemClock{}); err == nil {
				t.Errorf("New(%+v) = nil error, want one", tt.cfg)
			}
		})
	}
}

func TestRunFailsOnBadToken(t *testing.T) {
	srv := telegramtest.NewServer(telegramtest.DefaultToken, botName)
	defer srv.Close()
	b, err := New(Config{Token: "999:wrong", APIURL: srv.URL()}, &fakeHandler{}, discardLog(), brain.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Run(ctx); err == nil || !strings.Contains(err.Error(), "getMe") {
		t.Errorf("Run with a wrong token = %v, want a getMe error", err)
	}
}

func TestGroupStreamingKeepsTheMinuteBudget(t *testing.T) {
	answer := "bir iki üç dört beş altı yedi sekiz dokuz on"
	h := &fakeHandler{answer: func(brain.Message) script {
		return script{deltas: strings.SplitAfter(answer, " "), final: answer, wait: 30 * time.Millisecond}
	}}
	// 600 per minute: one streaming step per 100ms in a group.
	e := start(t, h, func(c *Config) { c.GroupPerMinute = 600 })
	in := e.say(group, alice, "@"+botName+" say")
	e.settled(t, group.ID, []string{answer})
	m := e.srv.BotMessages(group.ID)[0]
	if m.ReplyTo != in.ID {
		t.Errorf("group reply quotes %d, want %d", m.ReplyTo, in.ID)
	}
	if len(m.Versions) < 2 {
		t.Errorf("group reply had %d versions, want streaming edits", len(m.Versions))
	}
	// Every streaming step but the final one keeps the group pace.
	for i := 1; i < len(m.At)-1; i++ {
		if gap := m.At[i].Sub(m.At[i-1]); gap < 80*time.Millisecond {
			t.Errorf("group edit %d came %v after the previous one, want about 100ms", i, gap)
		}
	}
}
