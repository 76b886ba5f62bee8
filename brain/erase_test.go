package brain_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

// confirmRE finds the confirmation command a reply asks for.
var confirmRE = regexp.MustCompile(`(/forget|/wipe [^\n]+?) ([A-Z]{3}[0-9]{3})\s*$`)

// confirmCode returns the code of the confirmation command (cmd, e.g.
// "/forget" or "/wipe 42") the reply ends with.
func confirmCode(t *testing.T, reply, cmd string) string {
	t.Helper()
	m := confirmRE.FindStringSubmatch(reply)
	if m == nil || m[1] != cmd {
		t.Fatalf("reply does not end with %q and a code:\n%s", cmd+" CODE", reply)
	}
	return m[2]
}

// eraseClock is a clock tests move forward.
type eraseClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *eraseClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *eraseClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fakeTraining is brain.TrainingData holding a count of lines per user.
type fakeTraining struct {
	mu    sync.Mutex
	lines map[string]int // platform:id → lines
	err   error
}

func (f *fakeTraining) UserLines(_ context.Context, p brain.Platform, id string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return make([]string, f.lines[string(p)+":"+id]), f.err
}

func (f *fakeTraining) ForgetUser(_ context.Context, p brain.Platform, id string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	n := f.lines[string(p)+":"+id]
	delete(f.lines, string(p)+":"+id)
	return n, nil
}

func (f *fakeTraining) of(who string) int { f.mu.Lock(); defer f.mu.Unlock(); return f.lines[who] }

// downHistory is a MemHistory whose database can go down: every call then
// fails with ErrStoreUnavailable.
type downHistory struct {
	*braintest.MemHistory
	mu   sync.Mutex
	down bool
}

func (h *downHistory) setDown(d bool) { h.mu.Lock(); h.down = d; h.mu.Unlock() }

func (h *downHistory) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		return fmt.Errorf("dial: %w", brain.ErrStoreUnavailable)
	}
	return nil
}

func (h *downHistory) Append(ctx context.Context, r *brain.Record) error {
	if err := h.err(); err != nil {
		return err
	}
	return h.MemHistory.Append(ctx, r)
}

func (h *downHistory) Recent(ctx context.Context, k brain.ConvKey, n int) ([]brain.Record, error) {
	if err := h.err(); err != nil {
		return nil, err
	}
	return h.MemHistory.Recent(ctx, k, n)
}

func (h *downHistory) DeleteUser(ctx context.Context, p brain.Platform, id string) (int64, error) {
	if err := h.err(); err != nil {
		return 0, err
	}
	return h.MemHistory.DeleteUser(ctx, p, id)
}

func (h *downHistory) FindUsers(ctx context.Context, p brain.Platform, q string) ([]brain.UserMatch, error) {
	if err := h.err(); err != nil {
		return nil, err
	}
	return h.MemHistory.FindUsers(ctx, p, q)
}

// downTombs fails while its history is down: both live in PostgreSQL.
type downTombs struct {
	*braintest.MemTombstones
	h *downHistory
}

func (t downTombs) Bury(ctx context.Context, p brain.Platform, id string, at time.Time) error {
	if err := t.h.err(); err != nil {
		return err
	}
	return t.MemTombstones.Bury(ctx, p, id, at)
}

// eraseRig is a brain with every store /forget and /wipe erase.
type eraseRig struct {
	testBrain
	h     *downHistory
	mem   *braintest.MemMemory
	train *fakeTraining
	tombs *braintest.MemTombstones
	clock *eraseClock
}

func newEraseRig(t *testing.T) eraseRig {
	t.Helper()
	h := &downHistory{MemHistory: braintest.NewMemHistory()}
	mem := braintest.NewMemMemory(braintest.HashEmbedder{}, "hash")
	train := &fakeTraining{lines: map[string]int{"telegram:ayse": 4, "telegram:mehmet": 3, "discord:ayse": 2}}
	tombs := braintest.NewMemTombstones()
	clock := &eraseClock{t: testNow}
	b, err := brain.New(brain.Config{Base: brain.Expert{Name: brain.BaseExpert, Model: "base-model"},
		Experts: []brain.Expert{{Name: "tr_chat", Model: "tr_chat"}, {Name: "python_coder", Model: "python_coder"}}},
		h, &fakeLLM{}, fakeRouter{}, clock, discardLog(),
		brain.WithRecall(mem), brain.WithForgetter(mem), brain.WithMemoryLister(mem),
		brain.WithTrainingData(train), brain.WithTombstones(downTombs{tombs, h}))
	if err != nil {
		t.Fatal(err)
	}
	r := eraseRig{testBrain: testBrain{Brain: b, history: h}, h: h, mem: mem, train: train, tombs: tombs, clock: clock}
	// Ayşe (@ayse_k) and Mehmet (@memo) talk; Ayşe has 3 memories, Mehmet 1.
	for _, u := range []struct{ id, name, handle string }{{"ayse", "Ayşe Kaya", "ayse_k"}, {"mehmet", "Mehmet", "memo"}} {
		for _, text := range []string{"merhaba", "python nasıl öğrenilir"} {
			m := msg(u.id, text)
			m.UserName, m.Handle = u.name, u.handle
			r.ask(t, m)
		}
	}
	ctx := context.Background()
	var ms []brain.Memory
	for i := range 3 {
		ms = append(ms, brain.Memory{ID: fmt.Sprint(i), Text: fmt.Sprintf("Ayşe anı %d", i), Time: testNow})
	}
	if err := mem.Remember(ctx, brain.PlatformTelegram, "ayse", ms); err != nil {
		t.Fatal(err)
	}
	if err := mem.Remember(ctx, brain.PlatformTelegram, "mehmet", []brain.Memory{{ID: "m", Text: "Mehmet anı", Time: testNow}}); err != nil {
		t.Fatal(err)
	}
	return r
}

// mehmetUntouched checks that Mehmet kept everything.
func (r eraseRig) mehmetUntouched(t *testing.T) {
	t.Helper()
	if got := len(recent(t, r.h, "mehmet")); got != 4 {
		t.Errorf("Mehmet has %d messages, want 4", got)
	}
	if got := r.mem.Len(brain.PlatformTelegram, "mehmet"); got != 1 {
		t.Errorf("Mehmet has %d memories, want 1", got)
	}
	if got := r.train.of("telegram:mehmet"); got != 3 {
		t.Errorf("Mehmet has %d training lines, want 3", got)
	}
	g, _ := r.tombs.Buried(context.Background(), time.Time{})
	if _, ok := g[brain.UserRef{Platform: brain.PlatformTelegram, UserID: "mehmet"}]; ok {
		t.Errorf("Mehmet has a tombstone")
	}
}

// ayseGone checks that nothing of Ayşe (Telegram) is left, her Discord
// namesake aside.
func (r eraseRig) ayseGone(t *testing.T) {
	t.Helper()
	if got := len(recent(t, r.h, "ayse")); got != 0 {
		t.Errorf("Ayşe has %d messages left", got)
	}
	if got, _ := r.h.FindUsers(context.Background(), brain.PlatformTelegram, "ayse"); len(got) != 0 {
		t.Errorf("Ayşe's identity is left: %+v", got)
	}
	if got := r.mem.Len(brain.PlatformTelegram, "ayse"); got != 0 {
		t.Errorf("Ayşe has %d memories left", got)
	}
	if got := r.train.of("telegram:ayse"); got != 0 {
		t.Errorf("Ayşe has %d training lines left", got)
	}
	if got := r.train.of("discord:ayse"); got != 2 {
		t.Errorf("the same id on Discord lost its training lines: %d left", got)
	}
	g, _ := r.tombs.Buried(context.Background(), time.Time{})
	if at, ok := g[brain.UserRef{Platform: brain.PlatformTelegram, UserID: "ayse"}]; !ok || !at.Equal(r.clock.Now()) {
		t.Errorf("Ayşe's tombstone = %v, %v; want one at the forget", at, ok)
	}
}

func TestForgetAsksThenErasesEverything(t *testing.T) {
	r := newEraseRig(t)
	if rep, _ := r.ask(t, msg("ayse", "/expert python_coder")); !strings.Contains(rep.Text, "python_coder") {
		t.Fatalf("/expert = %q", rep.Text)
	}
	rep, _ := r.ask(t, msg("ayse", "/forget"))
	code := confirmCode(t, rep.Text, "/forget")
	for _, want := range []string{"mesaj geçmişini", "anılarını", "eğitim verisindeki", "10 dakika"} {
		if !strings.Contains(rep.Text, want) {
			t.Errorf("the question does not say %q:\n%s", want, rep.Text)
		}
	}
	if len(recent(t, r.h, "ayse")) != 4 || r.mem.Len(brain.PlatformTelegram, "ayse") != 3 {
		t.Fatal("asking deleted something")
	}
	r.clock.add(9 * time.Minute)
	rep, _ = r.ask(t, msg("ayse", "/forget "+code))
	want := "Sildiklerim: 4 mesaj, 3 anı, eğitim verisinde 4 satır, veritabanını bekleyen 0 mesaj."
	if rep.Kind != brain.ReplyCommand || !strings.Contains(rep.Text, "seni unuttum") || !strings.Contains(rep.Text, want) ||
		!strings.Contains(rep.Text, "hiçbir gece") {
		t.Errorf("confirmed /forget = %v %q, want the counts %q", rep.Kind, rep.Text, want)
	}
	if !rep.Private {
		t.Error("the reply is not private")
	}
	r.ayseGone(t)
	r.mehmetUntouched(t)
	// The session went too: the forced expert is forgotten.
	r.ask(t, msg("ayse", "merhaba yine"))
	if rep, _ := r.ask(t, msg("ayse", "/why")); !strings.Contains(rep.Text, "tr_chat") {
		t.Errorf("after /forget the session kept /expert: %q", rep.Text)
	}
	// The code is used up.
	if rep, _ := r.ask(t, msg("ayse", "/forget "+code)); !strings.Contains(rep.Text, "geçersiz") {
		t.Errorf("a used code = %q", rep.Text)
	}
}

func TestForgetRefusesBadCodes(t *testing.T) {
	for _, c := range []struct {
		name string
		send func(t *testing.T, r eraseRig, code string) brain.Reply
	}{
		{"wrong code", func(t *testing.T, r eraseRig, code string) brain.Reply {
			wrong := "AAA000"
			if code == wrong {
				wrong = "AAA001"
			}
			rep, _ := r.ask(t, msg("ayse", "/forget "+wrong))
			return rep
		}},
		{"old confirmation word", func(t *testing.T, r eraseRig, _ string) brain.Reply {
			rep, _ := r.ask(t, msg("ayse", "/forget evet"))
			return rep
		}},
		{"expired code", func(t *testing.T, r eraseRig, code string) brain.Reply {
			r.clock.add(10 * time.Minute)
			rep, _ := r.ask(t, msg("ayse", "/forget "+code))
			return rep
		}},
		{"another user's code", func(t *testing.T, r eraseRig, code string) brain.Reply {
			rep, _ := r.ask(t, msg("mehmet", "/forget "+code))
			return rep
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newEraseRig(t)
			rep, _ := r.ask(t, msg("ayse", "/forget"))
			code := confirmCode(t, rep.Text, "/forget")
			rep = c.send(t, r, code)
			if !strings.Contains(rep.Text, "geçersiz ya da süresi dolmuş") || !strings.Contains(rep.Text, "hiçbir şey silmedim") {
				t.Errorf("reply = %q, want the code refused", rep.Text)
			}
			if len(recent(t, r.h, "ayse")) != 4 || r.mem.Len(brain.PlatformTelegram, "ayse") != 3 || r.train.of("telegram:ayse") != 4 {
				t.Error("a refused code deleted something")
			}
			r.mehmetUntouched(t)
		})
	}
}

func TestForgetWithTheDatabaseDownSaysWhatIsLeft(t *testing.T) {
	r := newEraseRig(t)
	rep, _ := r.ask(t, msg("ayse", "/forget"))
	code := confirmCode(t, rep.Text, "/forget")
	r.h.setDown(true)
	r.ask(t, msg("ayse", "bu mesaj diske gider")) // spooled with its notice
	if r.Pending() != 2 {
		t.Fatalf("pending = %d, want the message and its notice", r.Pending())
	}
	rep, _ = r.ask(t, msg("ayse", "/forget "+code))
	if rep.Kind != brain.ReplyError || strings.Contains(rep.Text, "unuttum") {
		t.Errorf("reply claims success: %v %q", rep.Kind, rep.Text)
	}
	for _, want := range []string{"Her şeyi silemedim", "3 anı", "eğitim verisinde 4 satır", "veritabanını bekleyen 2 mesaj",
		"Silemediklerim: gece işinin atlaması için unutma kaydı, veritabanındaki mesajlar", "tekrar dener misin"} {
		if !strings.Contains(rep.Text, want) {
			t.Errorf("reply lacks %q:\n%s", want, rep.Text)
		}
	}
	if strings.Contains(rep.Text, "Sildiklerim: 0 mesaj") {
		t.Errorf("reply counts messages it could not delete: %q", rep.Text)
	}
	if r.Pending() != 0 {
		t.Errorf("spooled records left: %d", r.Pending())
	}
	if r.train.of("telegram:ayse") != 0 || r.mem.Len(brain.PlatformTelegram, "ayse") != 0 {
		t.Error("training lines or memories left although they could go")
	}
	// Back up: a new code deletes the rest.
	r.h.setDown(false)
	rep, _ = r.ask(t, msg("ayse", "/forget"))
	rep, _ = r.ask(t, msg("ayse", "/forget "+confirmCode(t, rep.Text, "/forget")))
	if rep.Kind != brain.ReplyCommand || !strings.Contains(rep.Text, "4 mesaj") {
		t.Errorf("retry = %v %q", rep.Kind, rep.Text)
	}
	r.ayseGone(t)
	r.mehmetUntouched(t)
}

func admin(text string) brain.Message {
	m := msg("boss", text)
	m.Admin = true
	return m
}

func TestWipeFindsTheUserAndConfirms(t *testing.T) {
	for _, c := range []struct {
		name, query string
	}{
		{"by id", "ayse"},
		{"by @username", "@AYSE_K"},
		{"by display name", "ayşe kaya"},
		{"by username without @", "ayse_k"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newEraseRig(t)
			rep, _ := r.ask(t, admin("/wipe "+c.query))
			if !strings.Contains(rep.Text, "Ayşe Kaya (@ayse_k, ayse)") {
				t.Errorf("the question does not name the user: %q", rep.Text)
			}
			code := confirmCode(t, rep.Text, "/wipe ayse")
			if len(recent(t, r.h, "ayse")) != 4 {
				t.Fatal("asking deleted something")
			}
			rep, _ = r.ask(t, admin("/wipe ayse "+code))
			if rep.Kind != brain.ReplyCommand || !strings.Contains(rep.Text, "4 mesaj, 3 anı, eğitim verisinde 4 satır") {
				t.Errorf("confirmed wipe = %v %q", rep.Kind, rep.Text)
			}
			r.ayseGone(t)
			r.mehmetUntouched(t)
		})
	}
}

func TestWipeRefusesWhatItCannotResolve(t *testing.T) {
	r := newEraseRig(t)
	second := msg("ayse2", "merhaba")
	second.UserName = "Ayşe Kaya"
	r.ask(t, second)
	for _, c := range []struct {
		name, text string
		want       []string
	}{
		{"no user named", "/wipe kimse", []string{"«kimse» diye bir kullanıcı bulamadım", "hiçbir şey silmedim"}},
		{"an unknown id", "/wipe 999", []string{"«999» diye bir kullanıcı bulamadım"}},
		{"ambiguous name", "/wipe Ayşe Kaya", []string{"birden çok", "• Ayşe Kaya (@ayse_k, ayse)", "• Ayşe Kaya (ayse2)"}},
		{"no argument", "/wipe", []string{"Kimin verisini", "/wipe all"}},
		{"a code for nothing asked", "/wipe ayse ABC123", []string{"geçersiz ya da süresi dolmuş"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, _ := r.ask(t, admin(c.text))
			for _, w := range c.want {
				if !strings.Contains(rep.Text, w) {
					t.Errorf("reply to %q lacks %q:\n%s", c.text, w, rep.Text)
				}
			}
			if strings.Contains(rep.Text, "sildim") && !strings.Contains(rep.Text, "silmedim") {
				t.Errorf("reply claims a deletion: %q", rep.Text)
			}
		})
	}
	if len(recent(t, r.h, "ayse")) != 4 || len(recent(t, r.h, "ayse2")) != 2 {
		t.Error("a refused wipe deleted messages")
	}
	r.mehmetUntouched(t)

	t.Run("a code is bound to its target and its admin", func(t *testing.T) {
		rep, _ := r.ask(t, admin("/wipe ayse"))
		code := confirmCode(t, rep.Text, "/wipe ayse")
		if rep, _ := r.ask(t, admin("/wipe mehmet "+code)); !strings.Contains(rep.Text, "geçersiz") {
			t.Errorf("a code for ayse wiped mehmet: %q", rep.Text)
		}
		other := msg("boss2", "/wipe ayse "+code)
		other.Admin = true
		if rep, _ := r.ask(t, other); !strings.Contains(rep.Text, "geçersiz") {
			t.Errorf("another admin used the code: %q", rep.Text)
		}
		r.mehmetUntouched(t)
		if len(recent(t, r.h, "ayse")) != 4 {
			t.Error("ayse was wiped by a wrong confirmation")
		}
	})
	t.Run("the database down", func(t *testing.T) {
		r.h.setDown(true)
		defer r.h.setDown(false)
		rep, _ := r.ask(t, admin("/wipe ayse"))
		if rep.Kind != brain.ReplyError || !strings.Contains(rep.Text, "arayamıyorum") {
			t.Errorf("reply = %v %q", rep.Kind, rep.Text)
		}
	})
}

func TestWipeAll(t *testing.T) {
	r := newEraseRig(t)
	dc := msg("ayse", "discord'dan selam")
	dc.Platform = brain.PlatformDiscord
	r.ask(t, dc)
	rep, _ := r.ask(t, admin("/wipe all"))
	if !strings.Contains(rep.Text, "2 kullanıcının (telegram) hepsi") {
		t.Errorf("the question does not count the users: %q", rep.Text)
	}
	code := confirmCode(t, rep.Text, "/wipe all")
	rep, _ = r.ask(t, admin("/wipe all "+code))
	if rep.Kind != brain.ReplyCommand || !strings.Contains(rep.Text, "8 mesaj, 4 anı, eğitim verisinde 7 satır") {
		t.Errorf("confirmed wipe all = %v %q", rep.Kind, rep.Text)
	}
	r.ayseGone(t)
	if len(recent(t, r.h, "mehmet")) != 0 || r.mem.Len(brain.PlatformTelegram, "mehmet") != 0 || r.train.of("telegram:mehmet") != 0 {
		t.Error("Mehmet was not wiped")
	}
	k := dc.Key()
	if got, _ := r.h.Recent(context.Background(), k, 10); len(got) != 2 {
		t.Errorf("another platform's user was wiped: %d messages left, want 2", len(got))
	}
}
