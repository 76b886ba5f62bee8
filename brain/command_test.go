package brain_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestCommands(t *testing.T) {
	tests := []struct {
		name  string
		admin bool
		text  string
		want  string
	}{
		{"start", false, "/start", "EVO-TR"},
		{"start lists experts", false, "/start", "python_coder"},
		{"help", false, "/help", "/reset"},
		{"help hides admin commands", false, "/help", ""},
		{"bot suffix", false, "/help@evo_bot", "/expert"},
		{"upper case", false, "/HELP", "/why"},
		{"unknown", false, "/uçur", ""}, // not a command: non-ASCII name
		{"unknown ascii", false, "/fly", "tanımıyorum: /fly"},
		{"experts", false, "/experts", "tr_chat"},
		{"why before any answer", false, "/why", "henüz"},
		{"wipe needs admin", false, "/wipe", "yöneticiler"},
		{"expert unknown", false, "/expert java", "Böyle bir uzman yok"},
		{"expert show", false, "/expert", "otomatik"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestBrain(t, brain.Config{}, nil, nil)
			m := msg("u", tt.text)
			m.Admin = tt.admin
			r, _ := b.ask(t, m)
			if tt.name == "help hides admin commands" {
				if strings.Contains(r.Text, "/wipe") {
					t.Errorf("help shows /wipe to a non-admin: %q", r.Text)
				}
				return
			}
			if tt.name == "unknown" {
				if len(b.llm.calls()) != 1 {
					t.Errorf("%q should reach the model as text", tt.text)
				}
				return
			}
			if !strings.Contains(r.Text, tt.want) {
				t.Errorf("reply to %q = %q, want it to contain %q", tt.text, r.Text, tt.want)
			}
			if len(b.llm.calls()) != 0 {
				t.Errorf("a command reached the model")
			}
			if got := len(recent(t, b.history, "u")); got != 0 {
				t.Errorf("commands stored %d records, want 0", got)
			}
		})
	}
}

func TestResetStartsAFreshContext(t *testing.T) {
	b := newTestBrain(t, brain.Config{}, nil, nil)
	b.ask(t, msg("u", "eski konu"))
	r, _ := b.ask(t, msg("u", "/reset"))
	if !strings.Contains(r.Text, "temizledim") {
		t.Fatalf("reset reply = %q", r.Text)
	}
	b.ask(t, msg("u", "yeni konu"))
	calls := b.llm.calls()
	if got := len(calls[1].Messages); got != 2 {
		t.Errorf("after /reset the request has %d messages, want system + user", got)
	}
}

func TestExpertForcingAndWhy(t *testing.T) {
	b := newTestBrain(t, brain.Config{}, nil, nil)
	if r, _ := b.ask(t, msg("u", "/expert python_coder")); !strings.Contains(r.Text, "python_coder") {
		t.Fatalf("expert reply = %q", r.Text)
	}
	b.ask(t, msg("u", "merhaba nasılsın"))
	if got := b.llm.calls()[0].Model; got != "python_coder" {
		t.Errorf("forced model = %q, want python_coder", got)
	}
	r, _ := b.ask(t, msg("u", "/why"))
	if !strings.Contains(r.Text, "python_coder") || !strings.Contains(r.Text, "sen seçtin") {
		t.Errorf("why = %q", r.Text)
	}
	// Another user is not affected.
	b.ask(t, msg("other", "merhaba"))
	if got := b.llm.calls()[1].Model; got != "tr_chat" {
		t.Errorf("other user's model = %q, want tr_chat", got)
	}
	b.ask(t, msg("u", "/expert auto"))
	b.ask(t, msg("u", "python sorusu"))
	r, _ = b.ask(t, msg("u", "/why"))
	if !strings.Contains(r.Text, "%95") || !strings.Contains(r.Text, "İkinci aday: tr_chat") {
		t.Errorf("why after auto = %q", r.Text)
	}
	b.ask(t, msg("u", "belki"))
	r, _ = b.ask(t, msg("u", "/why"))
	if !strings.Contains(r.Text, "temel model") || !strings.Contains(r.Text, "tr_chat") {
		t.Errorf("why after fallback = %q", r.Text)
	}
}

func TestWhyAfterRestartReadsHistory(t *testing.T) {
	h := newMem()
	b := newTestBrain(t, brain.Config{}, nil, h)
	b.ask(t, msg("u", "python"))
	restarted := newTestBrain(t, brain.Config{}, nil, h)
	r, _ := restarted.ask(t, msg("u", "/why"))
	if !strings.Contains(r.Text, "python_coder") {
		t.Errorf("why after restart = %q", r.Text)
	}
}

// recordingSleeper is a Sleeper that remembers the days it was asked for.
type recordingSleeper struct {
	days []time.Time
	err  error
}

func (s *recordingSleeper) Sleep(_ context.Context, day time.Time) (string, error) {
	s.days = append(s.days, day)
	if s.err != nil {
		return "", s.err
	}
	return "Uyku tamam: " + day.Format(time.DateOnly), nil
}

func TestSleepCommand(t *testing.T) {
	today := testNow.Format(time.DateOnly)
	tests := []struct {
		name     string
		admin    bool
		args     string
		err      error
		want     string
		wantDay  string // "" when the sleeper must not be called
		wantKind brain.ReplyKind
	}{
		{"needs admin", false, "", nil, "yöneticiler", "", brain.ReplyCommand},
		{"today by default", true, "", nil, "Uyku tamam: " + today, today, brain.ReplyCommand},
		{"bugün", true, " bugün", nil, today, today, brain.ReplyCommand},
		{"dün", true, "dün", nil, "2026-11-23", "2026-11-23", brain.ReplyCommand},
		{"DÜN upper case", true, "DÜN", nil, "2026-11-23", "2026-11-23", brain.ReplyCommand},
		{"a date", true, "2026-01-31", nil, "2026-01-31", "2026-01-31", brain.ReplyCommand},
		{"future date refused", true, "2026-12-01", nil, "anlayamadım", "", brain.ReplyCommand},
		{"garbage refused", true, "yarın öbür gün", nil, "anlayamadım", "", brain.ReplyCommand},
		{"failure is explained", true, "", errBoom, "tamamlanamadı: boom", today, brain.ReplyError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &recordingSleeper{err: tt.err}
			b := newTestBrain(t, brain.Config{}, nil, nil, brain.WithSleeper(s))
			m := msg("admin", "/sleep"+" "+tt.args)
			m.Admin = tt.admin
			r, _ := b.ask(t, m)
			if !strings.Contains(r.Text, tt.want) {
				t.Errorf("reply = %q, want it to contain %q", r.Text, tt.want)
			}
			if r.Kind != tt.wantKind {
				t.Errorf("kind = %v, want %v", r.Kind, tt.wantKind)
			}
			switch {
			case tt.wantDay == "" && len(s.days) != 0:
				t.Errorf("sleeper called for %v, want no call", s.days)
			case tt.wantDay != "" && (len(s.days) != 1 || s.days[0].Format(time.DateOnly) != tt.wantDay):
				t.Errorf("sleeper days = %v, want [%s]", s.days, tt.wantDay)
			}
		})
	}
}

func TestSleepWithoutSleeper(t *testing.T) {
	b := newTestBrain(t, brain.Config{}, nil, nil)
	m := msg("admin", "/sleep")
	m.Admin = true
	if r, _ := b.ask(t, m); !strings.Contains(r.Text, "kapalı") {
		t.Errorf("reply = %q, want it to say the night job is off", r.Text)
	}
}

func TestMemoryAndForgetCommands(t *testing.T) {
	ctx := context.Background()
	newBrain := func(t *testing.T) (testBrain, *braintest.MemMemory) {
		mem := braintest.NewMemMemory(braintest.HashEmbedder{}, "hash")
		return newTestBrain(t, brain.Config{}, nil, nil,
			brain.WithRecall(mem), brain.WithForgetter(mem), brain.WithMemoryLister(mem)), mem
	}
	t.Run("nothing yet", func(t *testing.T) {
		b, _ := newBrain(t)
		if r, _ := b.ask(t, msg("u", "/memory")); !strings.Contains(r.Text, "henüz bir şey yok") {
			t.Errorf("reply = %q", r.Text)
		}
	})
	t.Run("lists the newest first and forgets on confirmation", func(t *testing.T) {
		b, mem := newBrain(t)
		var ms []brain.Memory
		for i := range 12 {
			ms = append(ms, brain.Memory{ID: fmt.Sprintf("m%02d", i), Text: fmt.Sprintf("Kullanıcı anı %d", i),
				Tags: []string{"etiket"}, Time: testNow.Add(-time.Duration(12-i) * 24 * time.Hour)})
		}
		if err := mem.Remember(ctx, brain.PlatformTelegram, "u", ms); err != nil {
			t.Fatal(err)
		}
		r, _ := b.ask(t, msg("u", "/memory"))
		for _, want := range []string{"hatırladıklarım", "• 23.11.2026 — Kullanıcı anı 11 _(etiket)_", "…ve daha eski anılar.", "/forget"} {
			if !strings.Contains(r.Text, want) {
				t.Errorf("/memory lacks %q:\n%s", want, r.Text)
			}
		}
		if strings.Contains(r.Text, "anı 1 ") || strings.Index(r.Text, "anı 11") > strings.Index(r.Text, "anı 10") {
			t.Errorf("/memory is not newest first or shows too many:\n%s", r.Text)
		}
		r, _ = b.ask(t, msg("u", "/forget"))
		code := confirmCode(t, r.Text, "/forget")
		if mem.Len(brain.PlatformTelegram, "u") != 12 {
			t.Errorf("/forget without confirmation = %q, memories left %d", r.Text, mem.Len(brain.PlatformTelegram, "u"))
		}
		if r, _ := b.ask(t, msg("u", "/forget "+strings.ToLower(code))); !strings.Contains(r.Text, "12 anı") || mem.Len(brain.PlatformTelegram, "u") != 0 {
			t.Errorf("/forget %s = %q, memories left %d", code, r.Text, mem.Len(brain.PlatformTelegram, "u"))
		}
		if len(b.llm.calls()) != 0 {
			t.Error("a memory command reached the model")
		}
	})
	t.Run("off without long-term memory", func(t *testing.T) {
		b := newTestBrain(t, brain.Config{}, nil, nil)
		for _, c := range []string{"/memory"} {
			if r, _ := b.ask(t, msg("u", c)); !strings.Contains(r.Text, "kapalı") {
				t.Errorf("%s = %q, want it to say memory is off", c, r.Text)
			}
		}
	})
}
