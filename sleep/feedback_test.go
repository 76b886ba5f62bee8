package sleep_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/sleep"
)

// fixedFeedback is a hand-written sleep.Feedback.
type fixedFeedback struct {
	values   map[string]int
	from, to time.Time
}

func (f *fixedFeedback) FeedbackOf(_ context.Context, from, to time.Time) (map[string]int, error) {
	f.from, f.to = from, to
	return f.values, nil
}

func TestFeedbackLeavesBadOutAndMarksGood(t *testing.T) {
	d := newDay(t)
	add := func(at time.Time, role brain.Role, text, ref string, dec *brain.Decision) {
		t.Helper()
		r := &brain.Record{Key: ayse, ChatKind: brain.ChatPrivate, Role: role, Text: text, Decision: dec, Time: at, Ref: ref}
		if role == brain.RoleAssistant {
			r.ReplyTo = strings.TrimPrefix(ref, "a:")
		}
		if err := d.h.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	add(at(9, 0), brain.RoleUser, "Python'da liste nasıl ters çevrilir?", "m:1", nil)
	add(at(9, 0).Add(time.Second), brain.RoleAssistant, "`liste[::-1]`", "a:m:1", sure("python_coder"))
	add(at(9, 1), brain.RoleUser, "KÖTÜ SORU: sözlük nasıl sıralanır?", "m:2", nil)
	add(at(9, 1).Add(time.Second), brain.RoleAssistant, "KÖTÜ CEVAP", "a:m:2", sure("python_coder"))
	add(at(9, 2), brain.RoleUser, "Peki küme?", "m:3", nil)
	add(at(9, 2).Add(time.Second), brain.RoleAssistant, "`set(liste)`", "a:m:3", sure("python_coder"))
	fb := &fixedFeedback{values: map[string]int{
		brain.FeedbackKey(brain.PlatformTelegram, "10", "a:m:1"): brain.FeedbackGood,
		brain.FeedbackKey(brain.PlatformTelegram, "10", "a:m:2"): brain.FeedbackBad,
		brain.FeedbackKey(brain.PlatformTelegram, "99", "a:m:3"): brain.FeedbackBad, // another chat
	}}
	dir := t.TempDir()
	j, err := sleep.New(sleep.Config{Model: "m", Location: istanbul, TrainingDir: dir}, d.h, standardLLM(), nil, nil,
		fixedClock{wake}, discard(), sleep.WithFeedback(fb))
	if err != nil {
		t.Fatal(err)
	}
	r, err := j.Consolidate(context.Background(), night)
	if err != nil {
		t.Fatal(err)
	}
	if r.Good != 1 || r.Bad != 1 || r.Examples["python_coder"] != 2 {
		t.Errorf("report %+v; want 1 good, 1 bad, 2 examples", r)
	}
	if !fb.from.Equal(night) || fb.to.Before(wake) {
		t.Errorf("feedback read from %v to %v; want from the day's start to now", fb.from, fb.to)
	}
	var py []sleep.Example
	readJSONL(t, filepath.Join(dir, "2026-11-23", "python_coder.jsonl"), &py)
	tests := []struct {
		name, answer, feedback string
	}{
		{"good is marked", "`liste[::-1]`", "good"},
		{"unrated is plain", "`set(liste)`", ""},
	}
	if len(py) != len(tests) {
		t.Fatalf("examples %+v; want %d", py, len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := py[i]
			if last := got.Messages[len(got.Messages)-1].Content; last != tt.answer || got.Feedback != tt.feedback {
				t.Errorf("example %d: answer %q feedback %q; want %q %q", i, last, got.Feedback, tt.answer, tt.feedback)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join(dir, "2026-11-23", "*.jsonl"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "KÖTÜ") {
			t.Errorf("%s holds the exchange marked bad:\n%s", filepath.Base(f), data)
		}
	}
	if raw, _ := os.ReadFile(filepath.Join(dir, "2026-11-23", "python_coder.jsonl")); !strings.Contains(string(raw), `"feedback":"good"`) {
		t.Errorf("no \"feedback\":\"good\" key in the file:\n%s", raw)
	}
	if s := r.Turkish(); !strings.Contains(s, "Beğenilen 1 cevap") || !strings.Contains(s, "Beğenilmeyen 1 cevap dışarıda") {
		t.Errorf("report: %s", s)
	}
}
