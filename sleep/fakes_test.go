package sleep_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/sleep"
)

// istanbul is the job's location in these tests (UTC+3, no DST).
var istanbul = mustLoad("Europe/Istanbul")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// night is the day the tests consolidate, and wake the time they do it.
var (
	night = time.Date(2026, 11, 23, 0, 0, 0, 0, istanbul)
	wake  = time.Date(2026, 11, 24, 3, 0, 0, 0, istanbul)
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// scriptedLLM answers each summary request with the answer for the first
// user whose text the transcript holds, and records the requests.
type scriptedLLM struct {
	mu      sync.Mutex
	answers map[string]string // transcript substring → answer
	fail    map[string]error  // transcript substring → error
	reqs    []brain.ChatRequest
}

func (f *scriptedLLM) Chat(_ context.Context, req brain.ChatRequest, fn func(string) error) (brain.ChatStats, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	fail := f.fail
	f.mu.Unlock()
	text := req.Messages[len(req.Messages)-1].Content
	for k, err := range fail {
		if strings.Contains(text, k) {
			return brain.ChatStats{}, err
		}
	}
	for k, a := range f.answers {
		if strings.Contains(text, k) {
			// Stream it in pieces, as a model does.
			for len(a) > 0 {
				n := min(7, len(a))
				if err := fn(a[:n]); err != nil {
					return brain.ChatStats{}, err
				}
				a = a[n:]
			}
			return brain.ChatStats{DoneReason: "stop"}, nil
		}
	}
	return brain.ChatStats{}, fmt.Errorf("scriptedLLM: no answer for %q", text)
}

// setFail replaces the failures, safely while the job runs.
func (f *scriptedLLM) setFail(fail map[string]error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

func (f *scriptedLLM) requests() []brain.ChatRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]brain.ChatRequest(nil), f.reqs...)
}

// memorizer is a brain.Memorizer that keeps memories by user and ID.
type memorizer struct {
	mu   sync.Mutex
	mems map[string]map[string]brain.Memory // platform/user → id → memory
	err  error
}

func newMemorizer() *memorizer { return &memorizer{mems: map[string]map[string]brain.Memory{}} }

func (m *memorizer) Remember(_ context.Context, p brain.Platform, userID string, ms []brain.Memory) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	k := string(p) + "/" + userID
	if m.mems[k] == nil {
		m.mems[k] = map[string]brain.Memory{}
	}
	for _, x := range ms {
		m.mems[k][x.ID] = x
	}
	return nil
}

// Top finds memories with the same text (distance 0); others are at 1.
func (m *memorizer) Top(_ context.Context, p brain.Platform, userID, text string, k int) ([]brain.Memory, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	var out []brain.Memory
	for _, x := range m.mems[string(p)+"/"+userID] {
		x.Distance = 1
		if x.Text == text {
			x.Distance = 0
		}
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Distance != out[j].Distance {
			return out[i].Distance < out[j].Distance
		}
		return out[i].ID < out[j].ID
	})
	return out[:min(k, len(out))], nil
}

func (m *memorizer) of(p brain.Platform, userID string) map[string]brain.Memory {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]brain.Memory{}
	for id, x := range m.mems[string(p)+"/"+userID] {
		out[id] = x
	}
	return out
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// day is a history with a conversation of each kind the night meets.
type day struct {
	h *braintest.MemHistory
}

func newDay(t *testing.T) day {
	t.Helper()
	return day{h: braintest.NewMemHistory()}
}

var (
	ayse   = brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "10", UserID: "10"}
	ayseG  = brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "-99", UserID: "10"}
	mehmet = brain.ConvKey{Platform: brain.PlatformDiscord, ChatID: "dm-7", UserID: "7"}
	quiet  = brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "30", UserID: "30"}
)

func (d day) add(t *testing.T, k brain.ConvKey, at time.Time, role brain.Role, text string, dec *brain.Decision, failed bool) {
	t.Helper()
	r := &brain.Record{Key: k, ChatKind: brain.ChatPrivate, UserName: "kişi-" + k.UserID, Role: role, Text: text,
		Decision: dec, Failed: failed, Time: at}
	if err := d.h.Append(context.Background(), r); err != nil {
		t.Fatalf("append: %v", err)
	}
}

func sure(expert string) *brain.Decision {
	return &brain.Decision{Expert: expert, Model: expert, Confidence: 0.93}
}

// at is a time on the night's day, Istanbul time.
func at(h, m int) time.Time {
	return night.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

// seed writes the standard day: Ayşe codes in a DM and chats in a group,
// Mehmet talks on Discord, a quiet user writes once, and messages just
// outside the day on both sides.
func (d day) seed(t *testing.T) {
	t.Helper()
	d.add(t, ayse, night.Add(-time.Minute), brain.RoleUser, "DÜNDEN KALAN mesaj", nil, false)
	d.add(t, ayse, at(9, 0), brain.RoleUser, "Python'da listeyi nasıl sıralarım? Flask projem var.", nil, false)
	d.add(t, ayse, at(9, 0).Add(2*time.Second), brain.RoleAssistant, "`sorted(liste)` kullan.", sure("python_coder"), false)
	d.add(t, ayse, at(9, 5), brain.RoleUser, "Peki tersten?", nil, false)
	d.add(t, ayse, at(9, 5).Add(time.Second), brain.RoleAssistant, "`sorted(liste, reverse=True)`.", sure("python_coder"), false)
	d.add(t, ayseG, at(12, 0), brain.RoleUser, "Bu akşam ne pişirsem?", nil, false)
	d.add(t, ayseG, at(12, 0).Add(time.Second), brain.RoleAssistant, "Karnıyarık nasıl?", &brain.Decision{
		Expert: brain.BaseExpert, Model: "base", Confidence: 0.52, Candidate: "tr_chat", Fallback: true}, false)
	d.add(t, ayseG, at(12, 1), brain.RoleUser, "Olur!", nil, false)
	d.add(t, ayseG, at(12, 1).Add(time.Second), brain.RoleAssistant, "Şu anda dil modeline ulaşamıyorum.", nil, true)
	d.add(t, mehmet, at(20, 0), brain.RoleUser, "Bana bir şiir yaz, adım Mehmet ve kedim Pamuk.", nil, false)
	d.add(t, mehmet, at(20, 0).Add(time.Second), brain.RoleAssistant, "Pamuk'a şiir...", sure("tr_chat"), false)
	d.add(t, mehmet, at(20, 2), brain.RoleUser, "Harika, teşekkürler", nil, false)
	d.add(t, mehmet, at(20, 2).Add(time.Second), brain.RoleAssistant, "Rica ederim!", &brain.Decision{
		Expert: "tr_chat", Model: "tr_chat", Confidence: 1, Forced: true}, false)
	d.add(t, quiet, at(23, 59), brain.RoleUser, "selam", nil, false)
	d.add(t, ayse, night.AddDate(0, 0, 1), brain.RoleUser, "YARININ mesajı", nil, false)
}

// newJob builds a Job over d with the given parts; training data goes to
// a temporary folder it returns.
func newJob(t *testing.T, d day, llm brain.LLM, mem sleep.Memory, nl brain.NightLog) (*sleep.Job, string) {
	t.Helper()
	dir := t.TempDir()
	j, err := sleep.New(sleep.Config{
		Model:         "qwen2.5:3b-instruct",
		Location:      istanbul,
		TrainingDir:   dir,
		ExpertPrompts: map[string]string{"python_coder": "Sen bir Python uzmanısın.", "tr_chat": "Türkçe sohbet uzmanısın."},
	}, d.h, llm, mem, nl, fixedClock{wake}, discard())
	if err != nil {
		t.Fatalf("sleep.New: %v", err)
	}
	return j, dir
}

// standardLLM answers Ayşe's and Mehmet's transcripts.
func standardLLM() *scriptedLLM {
	return &scriptedLLM{answers: map[string]string{
		"Flask projem": `{"memories":[` +
			`{"text":"Kullanıcı Python ile bir Flask projesi geliştiriyor.","tags":["Python","PROJE","flask"]},` +
			`{"text":"Kullanıcı listeleri sıralamayı öğrendi.","tags":["python"]}]}`,
		"kedim Pamuk": "```json\n{\"memories\":[{\"text\":\"Kullanıcının adı Mehmet, Pamuk adında bir kedisi var.\",\"tags\":[\"İletişim bilgisi\",\"kedi\"]}]}\n```",
	}}
}
