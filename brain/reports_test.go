package brain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

// syncBuf is a log buffer safe for the brain's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// listMemories is a hand-written MemoryLister.
type listMemories map[string][]brain.Memory

func (l listMemories) List(_ context.Context, p brain.Platform, userID string, limit int) ([]brain.Memory, error) {
	ms := l[string(p)+"/"+userID]
	return ms[:min(limit, len(ms))], nil
}

// lines is a hand-written brain.TrainingLines.
type trainingLines map[string][]string

func (l trainingLines) UserLines(_ context.Context, p brain.Platform, userID string) ([]string, error) {
	return l[string(p)+"/"+userID], nil
}

// reportsBrain is a brain over h with a logger writing to logs at level.
func reportsBrain(t *testing.T, h brain.History, logs *syncBuf, level slog.Level, opts ...brain.Option) *brain.Brain {
	t.Helper()
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
	b, err := brain.New(brain.Config{Base: brain.Expert{Name: brain.BaseExpert, Model: "base-model"},
		Experts: []brain.Expert{{Name: "tr_chat", Model: "tr_chat"}, {Name: "python_coder", Model: "python_coder"}}},
		h, &fakeLLM{}, fakeRouter{}, fixedClock{testNow}, log, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	return b
}

func handle(t *testing.T, b *brain.Brain, m brain.Message) brain.Reply {
	t.Helper()
	c := brain.NewCollector()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b.Submit(ctx, m, c)
	r, err := c.Wait(ctx)
	if err != nil {
		t.Fatalf("no reply to %q: %v", m.Text, err)
	}
	return r
}

func TestExportCommand(t *testing.T) {
	h := braintest.NewMemHistory()
	mem := listMemories{"telegram/ayse": {{ID: "m1", Text: "Kullanıcı Flask öğreniyor.", Tags: []string{"python"}, Time: testNow}}}
	trn := trainingLines{"telegram/ayse": {`{"messages":[{"role":"user","content":"merhaba"}]}`, "not json"}}
	b := reportsBrain(t, h, &syncBuf{}, slog.LevelInfo, brain.WithExporter(h), brain.WithMemoryLister(mem), brain.WithTrainingLines(trn))
	handle(t, b, msg("ayse", "merhaba"))
	handle(t, b, msg("mehmet", "mehmet'in sırrı"))
	group := msg("ayse", "gruptaki sorum")
	group.ChatID, group.ChatKind = "-100", brain.ChatGroup
	handle(t, b, group)

	t.Run("in private: one JSON file of the user's data", func(t *testing.T) {
		r := handle(t, b, msg("ayse", "/export"))
		if r.File == nil {
			t.Fatalf("reply %q has no file", r.Text)
		}
		if !r.Private || r.File.Name != "evo-export-2026-11-24.json" || r.File.MIME != "application/json" {
			t.Errorf("reply: private %v, file %s (%s); want private, evo-export-2026-11-24.json, application/json", r.Private, r.File.Name, r.File.MIME)
		}
		if !strings.Contains(r.Text, "4 mesaj, 1 uzun süreli anı, 2 eğitim satırı") {
			t.Errorf("text = %q, want the counts", r.Text)
		}
		var x brain.Export
		if err := json.Unmarshal(r.File.Data, &x); err != nil {
			t.Fatalf("the file is not JSON: %v\n%s", err, r.File.Data)
		}
		var texts []string
		for _, m := range x.Messages {
			texts = append(texts, string(m.Role)+": "+m.Text)
		}
		want := []string{"user: merhaba", "assistant: cevap: merhaba", "user: gruptaki sorum", "assistant: cevap: gruptaki sorum"}
		if strings.Join(texts, "|") != strings.Join(want, "|") {
			t.Errorf("messages = %q, want %q", texts, want)
		}
		if strings.Contains(string(r.File.Data), "sırrı") {
			t.Error("the export holds another user's message")
		}
		if x.UserID != "ayse" || x.Platform != brain.PlatformTelegram {
			t.Errorf("export of %s/%s, want telegram/ayse", x.Platform, x.UserID)
		}
		if len(x.Memories) != 1 || x.Memories[0].Text != "Kullanıcı Flask öğreniyor." {
			t.Errorf("memories = %+v", x.Memories)
		}
		var first bytes.Buffer
		if len(x.Training) != 2 || json.Compact(&first, x.Training[0]) != nil ||
			first.String() != trn["telegram/ayse"][0] || string(x.Training[1]) != `"not json"` {
			t.Errorf("training = %s, want the two lines (the second as a string)", x.Training)
		}
	})
	t.Run("in a group: write it privately, no file", func(t *testing.T) {
		m := msg("ayse", "/export")
		m.ChatID, m.ChatKind = "-100", brain.ChatGroup
		r := handle(t, b, m)
		if r.File != nil || !strings.Contains(r.Text, "özelden") {
			t.Errorf("reply = %q with file %v, want 'özelden' and no file", r.Text, r.File != nil)
		}
	})
	t.Run("off without an exporter", func(t *testing.T) {
		r := handle(t, reportsBrain(t, braintest.NewMemHistory(), &syncBuf{}, slog.LevelInfo), msg("ayse", "/export"))
		if r.File != nil || r.Kind != brain.ReplyCommand {
			t.Errorf("reply = %+v, want a command reply without a file", r)
		}
	})
}

func TestStatsCommand(t *testing.T) {
	h, nl := braintest.NewMemHistory(), braintest.NewMemNightLog()
	health := map[string]brain.HealthCheck{
		"postgres": func(context.Context) error { return nil },
		"chroma":   func(context.Context) error { return errors.New("connection refused") },
	}
	b := reportsBrain(t, h, &syncBuf{}, slog.LevelInfo, brain.WithStats(braintest.MemStats{History: h, Nights: nl}), brain.WithHealth(health))
	handle(t, b, msg("ayse", "merhaba"))
	handle(t, b, msg("mehmet", "selam"))
	if ok, _ := nl.ClaimNight(context.Background(), "2026-11-23", testNow, time.Hour); !ok {
		t.Fatal("ClaimNight failed")
	}
	if err := nl.FinishNight(context.Background(), "2026-11-23", testNow, "3 anı yazıldı", nil); err != nil {
		t.Fatal(err)
	}
	admin := msg("root", "/stats")
	admin.Admin = true
	r := handle(t, b, admin)
	for _, want := range []string{"Kullanıcılar: 2", "Bugünkü mesajlar: 2", "Bugünkü cevaplar: 2 (tr_chat 2)",
		"Temel modele düşme oranı: %0 (0/2)", "Son gece (2026-11-23", "3 anı yazıldı", "Model: `base-model`",
		"postgres ✓", "chroma ✗ (connection refused)"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("/stats lacks %q:\n%s", want, r.Text)
		}
	}
	if r := handle(t, b, msg("ayse", "/stats")); strings.Contains(r.Text, "Kullanıcılar") {
		t.Errorf("a non-admin sees the stats:\n%s", r.Text)
	}
}

// downSpool refuses every record: the message can be kept nowhere.
type downSpool struct{ braintest.MemSpool }

func (*downSpool) Put(context.Context, brain.Record) error { return errors.New("disk full") }

// TestFailingStoreLogsNoText: with the database (and the spool) failing,
// the info-level log says what failed but never what the user wrote.
func TestFailingStoreLogsNoText(t *testing.T) {
	const secret = "parolam-çok-gizli-4711"
	tests := []struct {
		name string
		opts []brain.Option
	}{
		{"database down, spool takes it", nil},
		{"database and spool down", []brain.Option{brain.WithSpool(&downSpool{})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &flakyHistory{History: braintest.NewMemHistory()}
			h.setDown(true)
			var logs syncBuf
			b := reportsBrain(t, h, &logs, slog.LevelInfo, append(tt.opts, brain.WithExporter(braintest.NewMemHistory()))...)
			handle(t, b, msg("ayse", "benim şifrem "+secret))
			handle(t, b, msg("ayse", "/export"))
			if logs.String() == "" {
				t.Fatal("nothing was logged: the failing path did not run")
			}
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the info log holds the user's text:\n%s", logs.String())
			}
		})
	}
}
