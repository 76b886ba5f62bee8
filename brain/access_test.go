package brain_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

// accessClock is a clock the test moves.
type accessClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *accessClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *accessClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// accessBrain is a test brain behind an access gate, on a clock the test
// moves.
type accessBrain struct {
	testBrain
	store *braintest.MemAccess
	clock *accessClock
}

func newAccessBrain(t *testing.T, mode brain.AccessMode, allowed []brain.UserRef, opts ...brain.Option) accessBrain {
	t.Helper()
	store := braintest.NewMemAccess()
	clock := &accessClock{t: testNow}
	h := braintest.NewMemHistory()
	llm := &fakeLLM{}
	cfg := brain.Config{Base: brain.Expert{Name: brain.BaseExpert, Model: "base-model", SystemPrompt: "Temel sistem."}}
	opts = append([]brain.Option{brain.WithAccess(mode, store, allowed)}, opts...)
	b, err := brain.New(cfg, h, llm, nil, clock, discardLog(), opts...)
	if err != nil {
		t.Fatalf("brain.New: %v", err)
	}
	return accessBrain{testBrain: testBrain{Brain: b, history: h, llm: llm}, store: store, clock: clock}
}

func adminMsg(text string) brain.Message {
	m := msg("admin", text)
	m.Admin = true
	return m
}

var codeRE = regexp.MustCompile("`([0-9]{6})`")

// pairingCode asks as a stranger and returns the code the reply gives.
func (ab accessBrain) pairingCode(t *testing.T, user string) string {
	t.Helper()
	r, _ := ab.ask(t, msg(user, "Merhaba, ben yeniyim"))
	got := codeRE.FindStringSubmatch(r.Text)
	if got == nil {
		t.Fatalf("reply to a stranger = %+v, want a pairing code", r)
	}
	return got[1]
}

func TestPairingStrangerGetsOnlyACode(t *testing.T) {
	ab := newAccessBrain(t, brain.AccessPairing, nil)
	for _, text := range []string{"Merhaba, ben yeniyim", "/help", "/memory"} {
		r, _ := ab.ask(t, msg("yabanci", text))
		code := codeRE.FindStringSubmatch(r.Text)
		if r.Kind != brain.ReplyCommand || code == nil || !strings.Contains(r.Text, "kaydetmedim") {
			t.Fatalf("reply to %q = %+v, want the pairing notice with a code", text, r)
		}
		if p, ok := ab.store.Codes()[code[1]]; !ok || p.UserID != "yabanci" || !p.Expires.Equal(testNow.Add(time.Hour)) {
			t.Errorf("stored code %s = %+v, %v; want the stranger's, valid an hour", code[1], p, ok)
		}
	}
	if got := len(ab.store.Codes()); got != 1 {
		t.Errorf("live codes = %d, want 1 (the stranger keeps one code)", got)
	}
	if got := recent(t, ab.history, "yabanci"); len(got) != 0 {
		t.Errorf("stored for the stranger: %+v, want nothing", got)
	}
	if got := len(ab.llm.calls()); got != 0 {
		t.Errorf("model calls = %d, want 0", got)
	}
}

func TestAllowCodeLetsTheStrangerIn(t *testing.T) {
	ab := newAccessBrain(t, brain.AccessPairing, nil)
	code := ab.pairingCode(t, "yabanci")
	r, _ := ab.ask(t, adminMsg("/allow "+code))
	if r.Kind != brain.ReplyCommand || !strings.Contains(r.Text, "telegram:yabanci") || !strings.Contains(r.Text, "artık") {
		t.Fatalf("/allow = %+v, want a confirmation naming the user", r)
	}
	r, _ = ab.ask(t, msg("yabanci", "Şimdi oldu mu?"))
	if r.Kind != brain.ReplyAnswer || r.Text != "cevap: Şimdi oldu mu?" {
		t.Fatalf("reply after /allow = %+v, want the model's answer", r)
	}
	if got := len(recent(t, ab.history, "yabanci")); got != 2 {
		t.Errorf("stored = %d records, want 2 (the message and its answer)", got)
	}
	list, err := ab.store.List(context.Background())
	if err != nil || len(list) != 1 || list[0].UserID != "yabanci" || list[0].ApprovedBy != "telegram:admin" {
		t.Errorf("approved = %+v, %v; want yabanci, approved by telegram:admin", list, err)
	}
	if r, _ := ab.ask(t, adminMsg("/allow "+code)); r.Kind != brain.ReplyError || !strings.Contains(r.Text, "geçersiz") {
		t.Errorf("second /allow of the same code = %+v, want it refused", r)
	}
}

func TestAllowRefusesBadCodes(t *testing.T) {
	tests := []struct {
		name  string
		admin bool
		code  func(real string) string
		wait  time.Duration
		want  string
	}{
		{"wrong code", true, func(real string) string {
			if real == "000000" {
				return "000001"
			}
			return "000000"
		}, 0, "geçersiz"},
		{"expired code", true, func(real string) string { return real }, time.Hour + time.Second, "süresi dolmuş"},
		{"not a code", true, func(string) string { return "abc" }, 0, "Kullanım: /allow"},
		{"no code", true, func(string) string { return "" }, 0, "Kullanım: /allow"},
		{"not an admin", false, func(real string) string { return real }, 0, "yalnızca yöneticiler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ab := newAccessBrain(t, brain.AccessPairing, []brain.UserRef{{Platform: brain.PlatformTelegram, UserID: "ali"}})
			real := ab.pairingCode(t, "yabanci")
			ab.clock.add(tt.wait)
			m := msg("ali", strings.TrimSpace("/allow "+tt.code(real)))
			m.Admin = tt.admin
			if r, _ := ab.ask(t, m); !strings.Contains(r.Text, tt.want) {
				t.Errorf("reply = %+v, want it to say %q", r, tt.want)
			}
			if ok, _ := ab.store.Approved(context.Background(), brain.PlatformTelegram, "yabanci"); ok {
				t.Error("the stranger was approved")
			}
		})
	}
}

func TestDenyRevokes(t *testing.T) {
	ab := newAccessBrain(t, brain.AccessPairing, nil)
	ab.ask(t, adminMsg("/allow "+ab.pairingCode(t, "yabanci")))
	if r, _ := ab.ask(t, msg("yabanci", "Merhaba")); r.Kind != brain.ReplyAnswer {
		t.Fatalf("approved user's reply = %+v, want an answer", r)
	}
	if r, _ := ab.ask(t, adminMsg("/deny yabanci")); !strings.Contains(r.Text, "iznini kaldırdım") {
		t.Fatalf("/deny = %+v", r)
	}
	before := len(recent(t, ab.history, "yabanci"))
	r, _ := ab.ask(t, msg("yabanci", "Hâlâ burada mıyım?"))
	if codeRE.FindString(r.Text) == "" {
		t.Errorf("reply after /deny = %+v, want a new pairing code", r)
	}
	if got := len(recent(t, ab.history, "yabanci")); got != before {
		t.Errorf("stored after /deny: %d records, want still %d", got, before)
	}
	if r, _ := ab.ask(t, adminMsg("/deny discord:99")); !strings.Contains(r.Text, "discord:99 onaylı kullanıcılar arasında değildi") {
		t.Errorf("/deny of an unknown user = %+v", r)
	}
	if r, _ := ab.ask(t, adminMsg("/deny")); !strings.Contains(r.Text, "Kullanım: /deny") {
		t.Errorf("/deny without a user = %+v", r)
	}
}

func TestAllowlistRefusesStrangers(t *testing.T) {
	ab := newAccessBrain(t, brain.AccessAllowlist, []brain.UserRef{{Platform: brain.PlatformTelegram, UserID: "2"}})
	r, _ := ab.ask(t, msg("yabanci", "Merhaba"))
	if r.Kind != brain.ReplyCommand || !strings.Contains(r.Text, "listede değilsin") || codeRE.MatchString(r.Text) {
		t.Fatalf("reply to a stranger = %+v, want a refusal without a code", r)
	}
	if got := recent(t, ab.history, "yabanci"); len(got) != 0 {
		t.Errorf("stored for the stranger: %+v", got)
	}
	if len(ab.store.Codes()) != 0 {
		t.Error("allowlist mode gave out a pairing code")
	}
	for _, m := range []brain.Message{msg("2", "Ben listedeyim"), adminMsg("Ben yöneticiyim")} {
		if r, _ := ab.ask(t, m); r.Kind != brain.ReplyAnswer {
			t.Errorf("reply to %s = %+v, want an answer", m.UserID, r)
		}
	}
	if got := len(ab.llm.calls()); got != 2 {
		t.Errorf("model calls = %d, want 2 (the allowed user and the admin)", got)
	}
}

func TestAllowedUsersAndAdminsSkipPairing(t *testing.T) {
	ab := newAccessBrain(t, brain.AccessPairing, []brain.UserRef{{Platform: brain.PlatformTelegram, UserID: "2"}})
	for _, m := range []brain.Message{msg("2", "Merhaba"), adminMsg("Selam")} {
		if r, _ := ab.ask(t, m); r.Kind != brain.ReplyAnswer {
			t.Errorf("reply to %s = %+v, want an answer", m.UserID, r)
		}
	}
	// The same id on another platform is someone else.
	other := msg("2", "Merhaba")
	other.Platform = brain.PlatformDiscord
	if r, _ := ab.ask(t, other); codeRE.FindString(r.Text) == "" {
		t.Errorf("reply to discord:2 = %+v, want a pairing code", r)
	}
}

func TestOpenModeLetsEveryoneIn(t *testing.T) {
	for _, opt := range []struct {
		name string
		opts []brain.Option
	}{
		{"ACCESS_MODE=open", []brain.Option{brain.WithAccess(brain.AccessOpen, nil, nil)}},
		{"no access option", nil},
	} {
		t.Run(opt.name, func(t *testing.T) {
			b := newTestBrain(t, brain.Config{}, nil, nil, opt.opts...)
			if r, _ := b.ask(t, msg("yabanci", "Merhaba")); r.Kind != brain.ReplyAnswer {
				t.Errorf("reply = %+v, want an answer", r)
			}
		})
	}
}

func TestAccessModeIsChecked(t *testing.T) {
	for _, tt := range []struct {
		name  string
		mode  brain.AccessMode
		store brain.AccessStore
	}{
		{"unknown mode", "kimse", braintest.NewMemAccess()},
		{"pairing without a store", brain.AccessPairing, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := brain.New(brain.Config{Base: brain.Expert{Model: "m"}}, braintest.NewMemHistory(), &fakeLLM{}, nil,
				fixedClock{testNow}, discardLog(), brain.WithAccess(tt.mode, tt.store, nil))
			if err == nil {
				t.Error("brain.New accepted it")
			}
		})
	}
}

func TestGroupNoticeOncePerHour(t *testing.T) {
	for _, mode := range []brain.AccessMode{brain.AccessPairing, brain.AccessAllowlist} {
		t.Run(string(mode), func(t *testing.T) {
			ab := newAccessBrain(t, mode, nil)
			group := func(text string) brain.Message {
				m := msg("yabanci", text)
				m.ChatID, m.ChatKind, m.Mentioned = "g1", brain.ChatGroup, true
				return m
			}
			if r, _ := ab.ask(t, group("@evo merhaba")); r.Kind != brain.ReplyCommand {
				t.Fatalf("first message in the group = %+v, want the notice", r)
			}
			ab.clock.add(59 * time.Minute)
			for _, text := range []string{"@evo orada mısın?", "/help"} {
				if r, _ := ab.ask(t, group(text)); r.Kind != brain.ReplyNone {
					t.Errorf("reply to %q within the hour = %+v, want nothing", text, r)
				}
			}
			// Another group is the same stranger: still quiet.
			other := group("@evo selam")
			other.ChatID = "g2"
			if r, _ := ab.ask(t, other); r.Kind != brain.ReplyNone {
				t.Errorf("reply in another group within the hour = %+v, want nothing", r)
			}
			ab.clock.add(time.Minute)
			if r, _ := ab.ask(t, group("@evo bir saat oldu")); r.Kind != brain.ReplyCommand {
				t.Errorf("reply after an hour = %+v, want the notice again", r)
			}
			// In private every message gets its answer.
			for range 2 {
				if r, _ := ab.ask(t, msg("yabanci", "özelden")); r.Kind != brain.ReplyCommand {
					t.Errorf("private reply = %+v, want the notice", r)
				}
			}
			if got := len(ab.llm.calls()); got != 0 {
				t.Errorf("model calls = %d, want 0", got)
			}
		})
	}
}

func TestApprovedUserStaysInWhileTheStoreIsDown(t *testing.T) {
	ab := newAccessBrain(t, brain.AccessPairing, nil)
	ab.ask(t, adminMsg("/allow "+ab.pairingCode(t, "ayse")))
	ab.store.SetDown(true)
	ab.clock.add(10 * time.Minute) // past the cache's freshness: the store is asked, and fails
	if r, _ := ab.ask(t, msg("ayse", "Merhaba")); r.Kind != brain.ReplyAnswer {
		t.Errorf("approved user's reply while the store is down = %+v, want an answer", r)
	}
	r, _ := ab.ask(t, msg("yabanci", "Merhaba"))
	if r.Kind != brain.ReplyError || !strings.Contains(r.Text, "doğrulayamıyorum") || !strings.Contains(r.Text, "tekrar dener misin") {
		t.Errorf("stranger's reply while the store is down = %+v, want 'doğrulayamıyorum'", r)
	}
	if got := recent(t, ab.history, "yabanci"); len(got) != 0 {
		t.Errorf("stored for the stranger: %+v", got)
	}
}

func TestApprovedListIsLoadedAtFirstUse(t *testing.T) {
	ab := newAccessBrain(t, brain.AccessPairing, nil)
	// Approved elsewhere (evo users allow, another instance) before this
	// brain's first message; the store then goes down.
	if err := ab.store.Approve(context.Background(), brain.ApprovedUser{Platform: brain.PlatformTelegram, UserID: "ayse", ApprovedAt: testNow}); err != nil {
		t.Fatal(err)
	}
	if r, _ := ab.ask(t, msg("mehmet", "Merhaba")); codeRE.FindString(r.Text) == "" {
		t.Fatalf("stranger's reply = %+v, want a code", r)
	}
	ab.store.SetDown(true)
	if r, _ := ab.ask(t, msg("ayse", "Merhaba")); r.Kind != brain.ReplyAnswer {
		t.Errorf("reply to a user approved in the store = %+v, want an answer", r)
	}
}

func TestRateLimit(t *testing.T) {
	ab := newAccessBrain(t, brain.AccessOpen, nil, brain.WithRateLimit(5))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var collectors []*brain.Collector
	for i := range 12 {
		m := msg("ayse", "hızlı mesaj "+string(rune('a'+i)))
		m.PlatformMessageID = string(rune('a' + i))
		c := brain.NewCollector()
		ab.Submit(ctx, m, c)
		collectors = append(collectors, c)
	}
	kinds := map[brain.ReplyKind]int{}
	notices := 0
	for _, c := range collectors {
		r, err := c.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		kinds[r.Kind]++
		if strings.Contains(r.Text, "Çok hızlı yazıyorsun") && strings.Contains(r.Text, "dakikada en fazla 5") {
			notices++
		}
	}
	if got := len(ab.llm.calls()); got > 6 || got < 5 {
		t.Errorf("model calls = %d, want 5 or 6", got)
	}
	if kinds[brain.ReplyAnswer] != 5 || notices != 1 || kinds[brain.ReplyNone] != 6 {
		t.Errorf("replies = %v with %d notices, want 5 answers, 1 notice, 6 silent", kinds, notices)
	}
	users := 0
	for _, r := range recent(t, ab.history, "ayse") {
		if r.Role == brain.RoleUser {
			users++
		}
	}
	if users != 12 {
		t.Errorf("stored user messages = %d, want 12", users)
	}
	// A restart answers none of them: each has its (failed) reply.
	if left, err := ab.history.Unanswered(ctx, testNow.Add(-time.Hour)); err != nil || len(left) != 0 {
		t.Errorf("unanswered after the flood = %d, %v; want 0", len(left), err)
	}
	// Others are not limited by Ayşe's flood.
	if r, _ := ab.ask(t, msg("mehmet", "Merhaba")); r.Kind != brain.ReplyAnswer {
		t.Errorf("another user's reply = %+v, want an answer", r)
	}
	// A minute later the allowance is back, and so is the notice.
	ab.clock.add(time.Minute)
	for i := range 5 {
		if r, _ := ab.ask(t, msg("ayse", "sakin mesaj "+string(rune('a'+i)))); r.Kind != brain.ReplyAnswer {
			t.Fatalf("reply %d a minute later = %+v, want an answer", i, r)
		}
	}
	if r, _ := ab.ask(t, msg("ayse", "yine hızlı")); !strings.Contains(r.Text, "Çok hızlı yazıyorsun") {
		t.Errorf("over the limit in a new window = %+v, want the notice", r)
	}
}

func TestRateLimitExemptsAdmins(t *testing.T) {
	ab := newAccessBrain(t, brain.AccessOpen, nil, brain.WithRateLimit(2))
	for i := range 6 {
		if r, _ := ab.ask(t, adminMsg("yönetici "+string(rune('a'+i)))); r.Kind != brain.ReplyAnswer {
			t.Fatalf("admin's reply %d = %+v, want an answer", i, r)
		}
	}
	if got := len(ab.llm.calls()); got != 6 {
		t.Errorf("model calls = %d, want 6", got)
	}
}

func TestParseUserRef(t *testing.T) {
	tests := []struct {
		in   string
		want brain.UserRef
		ok   bool
	}{
		{"telegram:42", brain.UserRef{Platform: brain.PlatformTelegram, UserID: "42"}, true},
		{" Discord:1234567890 ", brain.UserRef{Platform: brain.PlatformDiscord, UserID: "1234567890"}, true},
		{"42", brain.UserRef{}, false},
		{"telegram:", brain.UserRef{}, false},
		{"slack:42", brain.UserRef{}, false},
		{"telegram:4 2", brain.UserRef{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := brain.ParseUserRef(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseUserRef(%q) = %+v, %v; want %+v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}
