package brain_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestAnswerStoresBothMessagesAndCarriesContext(t *testing.T) {
	b := newTestBrain(t, brain.Config{ContextMessages: 4}, nil, nil)
	r1, streamed := b.ask(t, msg("ayse", "Merhaba"))
	if got, want := r1.Text, "cevap: Merhaba"; got != want {
		t.Fatalf("reply = %q, want %q", got, want)
	}
	if streamed != r1.Text {
		t.Errorf("streamed %q, final %q: want equal", streamed, r1.Text)
	}
	if r1.Kind != brain.ReplyAnswer || r1.Decision == nil || r1.Decision.Expert != "tr_chat" {
		t.Errorf("reply = %+v, want a tr_chat answer", r1)
	}
	b.ask(t, msg("ayse", "Nasılsın?"))

	calls := b.llm.calls()
	if len(calls) != 2 {
		t.Fatalf("LLM calls = %d, want 2", len(calls))
	}
	second := calls[1].Messages
	var roles []string
	for _, m := range second {
		roles = append(roles, string(m.Role)+":"+m.Content)
	}
	want := []string{"user:Merhaba", "assistant:cevap: Merhaba", "user:Nasılsın?"}
	if got := roles[1:]; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("second request = %q, want system + %q", roles, want)
	}
	if second[0].Role != brain.RoleSystem || !strings.Contains(second[0].Content, "Türkçe sohbet uzmanısın.") {
		t.Errorf("system prompt = %q", second[0].Content)
	}
	if got := len(recent(t, b.history, "ayse")); got != 4 {
		t.Errorf("stored messages = %d, want 4", got)
	}
}

func TestContextWindowIsBounded(t *testing.T) {
	b := newTestBrain(t, brain.Config{ContextMessages: 3}, nil, nil)
	for i := range 5 {
		b.ask(t, msg("ali", fmt.Sprintf("mesaj %d", i)))
	}
	calls := b.llm.calls()
	last := calls[len(calls)-1].Messages
	// system + 3 earlier + the current one.
	if got, want := len(last), 5; got != want {
		t.Fatalf("last request has %d messages, want %d: %+v", got, want, last)
	}
	if got, want := last[len(last)-2].Content, "cevap: mesaj 3"; got != want {
		t.Errorf("newest context message = %q, want %q", got, want)
	}
}

func TestDecisionStoredWithReply(t *testing.T) {
	b := newTestBrain(t, brain.Config{}, nil, nil)
	b.ask(t, msg("can", "python ile liste sırala"))
	recs := recent(t, b.history, "can")
	if len(recs) != 2 {
		t.Fatalf("records = %d, want 2", len(recs))
	}
	d := recs[1].Decision
	if d == nil || d.Expert != "python_coder" || d.Confidence != 0.95 || d.RunnerUp != "tr_chat" {
		t.Fatalf("stored decision = %+v", d)
	}
	if got := b.llm.calls()[0]; got.Model != "python_coder" || got.Options["temperature"] != 0.2 {
		t.Errorf("request model/options = %q %v", got.Model, got.Options)
	}
	if recs[1].PromptTokens != 10 || recs[1].ReplyTokens == 0 {
		t.Errorf("tokens = %d/%d", recs[1].PromptTokens, recs[1].ReplyTokens)
	}
}

func TestFallbackUsesBaseModel(t *testing.T) {
	b := newTestBrain(t, brain.Config{}, nil, nil)
	r, _ := b.ask(t, msg("can", "belki bir şey"))
	if got := b.llm.calls()[0].Model; got != "base-model" {
		t.Errorf("model = %q, want base-model", got)
	}
	if r.Decision == nil || !r.Decision.Fallback {
		t.Errorf("decision = %+v, want fallback", r.Decision)
	}
}

func TestModelFailuresKeepTheMessage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unreachable", fmt.Errorf("dial: %w", brain.ErrModelUnavailable), "ulaşamıyorum"},
		{"missing model", fmt.Errorf("pull: %w", brain.ErrModelNotFound), "kurulmamış"},
		{"other", errBoom, "sorun çıktı"},
		{"timeout", context.DeadlineExceeded, "uzun sürdü"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			llm := &fakeLLM{reply: func(brain.ChatRequest) (string, error) { return "", tt.err }}
			b := newTestBrain(t, brain.Config{}, llm, nil)
			r, _ := b.ask(t, msg("ayse", "Merhaba"))
			if r.Kind != brain.ReplyError || !strings.Contains(r.Text, tt.want) {
				t.Errorf("reply = %+v, want an error saying %q", r, tt.want)
			}
			recs := recent(t, b.history, "ayse")
			if len(recs) != 2 || recs[0].Text != "Merhaba" || !recs[1].Failed || recs[1].Text != r.Text {
				t.Fatalf("stored = %+v, want the user message and the failed reply the user saw", recs)
			}
			// The failed reply stays out of the next prompt.
			llm.reply = nil
			b.ask(t, msg("ayse", "Tekrar"))
			calls := b.llm.calls()
			for _, m := range calls[len(calls)-1].Messages {
				if m.Role == brain.RoleAssistant {
					t.Errorf("failed reply reached the prompt: %q", m.Content)
				}
			}
		})
	}
}

func TestPartialAnswerThenFailure(t *testing.T) {
	llm := &fakeLLM{reply: func(brain.ChatRequest) (string, error) { return "yarım cevap", errBoom }}
	b := newTestBrain(t, brain.Config{}, llm, nil)
	r, streamed := b.ask(t, msg("ayse", "uzun anlat"))
	if streamed != "yarım cevap" {
		t.Errorf("streamed = %q", streamed)
	}
	if !strings.HasPrefix(r.Text, "yarım cevap") || !strings.Contains(r.Text, "yarıda kesildi") {
		t.Errorf("final = %q, want the partial answer and a note", r.Text)
	}
}

func TestEmptyAnswerIsExplained(t *testing.T) {
	llm := &fakeLLM{reply: func(brain.ChatRequest) (string, error) { return "", nil }}
	b := newTestBrain(t, brain.Config{}, llm, nil)
	r, _ := b.ask(t, msg("ayse", "?"))
	if r.Kind != brain.ReplyError || r.Text == "" {
		t.Errorf("reply = %+v, want an explanation", r)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name, text string
		wantLLM    bool
		wantStored string
	}{
		{"empty", "", false, ""},
		{"spaces", " \n\t ", false, ""},
		{"invalid utf8", "mer\xffhaba", true, "mer\uFFFDhaba"},
		{"nul bytes", "a\x00b", true, "ab"},
		{"hostile markdown", "**</pre><script>@everyone", true, "**</pre><script>@everyone"},
		{"path is not a command", "/usr/bin/python çalışmıyor", true, "/usr/bin/python çalışmıyor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestBrain(t, brain.Config{}, nil, nil)
			r, _ := b.ask(t, msg("u", tt.text))
			if r.Text == "" {
				t.Fatal("empty reply")
			}
			if got := len(b.llm.calls()) > 0; got != tt.wantLLM {
				t.Errorf("LLM called = %v, want %v", got, tt.wantLLM)
			}
			recs := recent(t, b.history, "u")
			if tt.wantStored == "" {
				if len(recs) != 0 {
					t.Errorf("stored %d records, want none", len(recs))
				}
				return
			}
			if len(recs) == 0 || recs[0].Text != tt.wantStored {
				t.Errorf("stored = %+v, want %q", recs, tt.wantStored)
			}
		})
	}
}

func TestHugeMessageFitsTheBudget(t *testing.T) {
	b := newTestBrain(t, brain.Config{NumCtx: 2048, NumPredict: 512}, nil, nil)
	for i := range 10 {
		b.ask(t, msg("u", strings.Repeat(fmt.Sprintf("geçmiş %d ", i), 100)))
	}
	huge := strings.Repeat("çok uzun bir metin ", 5000)
	r, _ := b.ask(t, msg("u", huge))
	calls := b.llm.calls()
	total := 0
	for _, m := range calls[len(calls)-1].Messages {
		total += brain.EstimateTokens(m.Content)
	}
	if total > 2048-512 {
		t.Errorf("prompt estimate = %d tokens, budget %d", total, 2048-512)
	}
	if !strings.Contains(r.Text, "çok uzundu") {
		t.Errorf("reply does not say the message was cut: %.80q", r.Text)
	}
	recs := recent(t, b.history, "u")
	if got, want := recs[len(recs)-2].Text, strings.TrimSpace(huge); got != want {
		t.Errorf("stored message was cut: %d bytes, want %d", len(got), len(want))
	}
}

func TestSameUserInOrderOthersInParallel(t *testing.T) {
	llm := &fakeLLM{delay: 30 * time.Millisecond}
	b := newTestBrain(t, brain.Config{MaxParallel: 2}, llm, nil)
	const users, each = 6, 4
	var mu sync.Mutex
	got := map[string][]string{}
	var wg sync.WaitGroup
	ctx := context.Background()
	for i := range each {
		for u := range users {
			user := fmt.Sprintf("user%d", u)
			wg.Add(1)
			b.Submit(ctx, msg(user, fmt.Sprintf("%s-%d", user, i)), brain.FuncSink{OnDone: func(r brain.Reply) {
				mu.Lock()
				got[user] = append(got[user], r.Text)
				mu.Unlock()
				wg.Done()
			}})
		}
	}
	wg.Wait()
	for u := range users {
		user := fmt.Sprintf("user%d", u)
		for i, text := range got[user] {
			if want := fmt.Sprintf("cevap: %s-%d", user, i); text != want {
				t.Errorf("%s reply %d = %q, want %q (wrong user or out of order)", user, i, text, want)
			}
		}
	}
	llm.mu.Lock()
	maxSeen := llm.maxSeen
	llm.mu.Unlock()
	if maxSeen != 2 {
		t.Errorf("max concurrent model calls = %d, want 2 (MaxParallel)", maxSeen)
	}
}

func TestQueueOverflowStoresButDoesNotAnswer(t *testing.T) {
	llm := &fakeLLM{delay: 20 * time.Millisecond}
	b := newTestBrain(t, brain.Config{MaxQueue: 2}, llm, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var full int
	for i := range 5 {
		wg.Add(1)
		b.Submit(context.Background(), msg("spam", fmt.Sprint("m", i)), brain.FuncSink{OnDone: func(r brain.Reply) {
			mu.Lock()
			if strings.Contains(r.Text, "Çok hızlı") {
				full++
			}
			mu.Unlock()
			wg.Done()
		}})
	}
	wg.Wait()
	if full != 3 {
		t.Errorf("queue-full replies = %d, want 3", full)
	}
	users := 0
	for _, r := range recent(t, b.history, "spam") {
		if r.Role == brain.RoleUser {
			users++
		}
	}
	if users != 5 {
		t.Errorf("stored user messages = %d, want 5", users)
	}
}

func TestStoreOutageLosesNothing(t *testing.T) {
	h := &flakyHistory{History: newMem()}
	b := newTestBrain(t, brain.Config{}, nil, h)
	h.setDown(true)
	for _, text := range []string{"bir", "iki"} {
		r, _ := b.ask(t, msg("ayse", text))
		if !strings.Contains(r.Text, "geçici olarak") {
			t.Errorf("reply = %q, want temporarily unavailable", r.Text)
		}
	}
	// Each message and the notice the user got wait in the spool.
	if got := b.Pending(); got != 4 {
		t.Fatalf("pending = %d, want 4", got)
	}
	if err := b.Flush(context.Background()); err == nil {
		t.Fatal("Flush while down succeeded")
	}
	h.setDown(false)
	if err := b.Flush(context.Background()); err != nil {
		t.Fatalf("Flush after recovery: %v", err)
	}
	r, _ := b.ask(t, msg("ayse", "üç"))
	if r.Kind != brain.ReplyAnswer {
		t.Fatalf("after recovery reply = %+v", r)
	}
	var texts []string
	for _, rec := range recent(t, h, "ayse") {
		if rec.Role == brain.RoleUser {
			texts = append(texts, rec.Text)
		}
	}
	if got, want := strings.Join(texts, ","), "bir,iki,üç"; got != want {
		t.Errorf("stored user messages = %q, want %q", got, want)
	}
	if b.Pending() != 0 {
		t.Errorf("pending = %d after recovery", b.Pending())
	}
}

// The adapter's context ending (its shutdown) does not cut a reply: only
// Brain.Shutdown bounds replies.
func TestCanceledContextStillAnswers(t *testing.T) {
	llm := &fakeLLM{delay: time.Second}
	b := newTestBrain(t, brain.Config{}, llm, nil)
	ctx, cancel := context.WithCancel(context.Background())
	c := brain.NewCollector()
	b.Submit(ctx, msg("u", "merhaba"), c)
	time.Sleep(20 * time.Millisecond)
	cancel()
	wctx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	r, err := c.Wait(wctx)
	if err != nil || r.Kind != brain.ReplyAnswer || r.Text != "cevap: merhaba" {
		t.Errorf("reply = %+v, %v; want the answer", r, err)
	}
}

func TestMissingExpertModelFallsBackToBase(t *testing.T) {
	llm := &fakeLLM{reply: func(req brain.ChatRequest) (string, error) {
		if req.Model != "base-model" {
			return "", fmt.Errorf("model %q: %w", req.Model, brain.ErrModelNotFound)
		}
		return "temel cevap", nil
	}}
	b := newTestBrain(t, brain.Config{}, llm, nil)
	r, streamed := b.ask(t, msg("u", "python sorusu"))
	if r.Kind != brain.ReplyAnswer || r.Text != "temel cevap" || streamed != "temel cevap" {
		t.Fatalf("reply = %+v (streamed %q), want the base model's answer", r, streamed)
	}
	calls := b.llm.calls()
	if len(calls) != 2 || calls[0].Model != "python_coder" || calls[1].Model != "base-model" {
		t.Fatalf("models asked = %v, want python_coder then base-model", calls)
	}
	if !strings.Contains(calls[1].Messages[0].Content, "Python uzmanısın.") {
		t.Errorf("the base model did not get the expert's prompt: %q", calls[1].Messages[0].Content)
	}
	recs := recent(t, b.history, "u")
	if d := recs[1].Decision; d == nil || d.Expert != "python_coder" || d.Model != "base-model" || recs[1].Failed {
		t.Errorf("stored reply = %+v, decision %+v", recs[1], d)
	}
	// The base model missing too is an error the user hears about.
	llm.reply = func(req brain.ChatRequest) (string, error) { return "", brain.ErrModelNotFound }
	if r, _ := b.ask(t, msg("u", "python")); r.Kind != brain.ReplyError || !strings.Contains(r.Text, "kurulmamış") {
		t.Errorf("reply = %+v, want the model-missing message", r)
	}
}

// recordingObserver keeps what it observes.
type recordingObserver struct {
	mu   sync.Mutex
	recs []brain.Record
}

func (o *recordingObserver) Observe(r brain.Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.recs = append(o.recs, r)
}

func TestObserverSeesEveryKeptMessage(t *testing.T) {
	obs := &recordingObserver{}
	h := &flakyHistory{History: newMem()}
	b := newTestBrain(t, brain.Config{}, nil, h, brain.WithObserver(obs))
	b.ask(t, msg("u", "merhaba"))
	b.ask(t, msg("u", "/help")) // commands are not messages
	h.setDown(true)
	b.ask(t, msg("u", "veritabanı yokken")) // kept pending: still observed
	obs.mu.Lock()
	defer obs.mu.Unlock()
	var got []string
	for _, r := range obs.recs {
		got = append(got, string(r.Role)+":"+r.Text)
	}
	if len(got) != 4 || got[0] != "user:merhaba" || obs.recs[1].Role != brain.RoleAssistant ||
		obs.recs[1].Decision == nil || got[2] != "user:veritabanı yokken" ||
		obs.recs[3].Role != brain.RoleAssistant || !obs.recs[3].Failed {
		t.Errorf("observed %q, want the user's message, the reply with its decision, the spooled message and its notice", got)
	}
}

func TestMemoriesOnlyInPrivateChatsByDefault(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name     string
		kind     brain.ChatKind
		inGroups bool
		want     bool
	}{
		{"private", brain.ChatPrivate, false, true},
		{"group", brain.ChatGroup, false, false},
		{"thread", brain.ChatThread, false, false},
		{"group when allowed", brain.ChatGroup, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mem := braintest.NewMemMemory(braintest.HashEmbedder{}, "hash")
			if err := mem.Remember(ctx, brain.PlatformTelegram, "u", []brain.Memory{{ID: "1", Text: "Kullanıcının sağlık sorunu var.", Time: testNow}}); err != nil {
				t.Fatal(err)
			}
			b := newTestBrain(t, brain.Config{MemoryInGroups: tt.inGroups}, nil, nil, brain.WithRecall(mem))
			m := msg("u", "sağlık durumum nasıl")
			m.ChatKind = tt.kind
			b.ask(t, m)
			calls := b.llm.calls()
			if got := strings.Contains(calls[0].Messages[0].Content, "sağlık sorunu"); got != tt.want {
				t.Errorf("memory in the %s prompt = %v, want %v", tt.kind, got, tt.want)
			}
		})
	}
}
