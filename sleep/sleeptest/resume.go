package sleeptest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/sleep"
)

// ResumeParts are the storage a resumed night runs over; each call of the
// factory returns empty ones of their own.
type ResumeParts struct {
	History  brain.History // holds the day's messages; the night reads them back
	Night    brain.NightLog
	Progress sleep.Progress
}

// resumeUsers is how many users write on the day; they are summarized in
// this order (user 1 first).
const resumeUsers = 5

// TestResume runs a night whose model fails at the 3rd of 5 users and the
// run after it, over parts: the failed (or crashed) night fails, the next
// one asks the model only about the users not done, writes the day's
// training files in full, and a /sleep of the finished day does everyone
// again.
func TestResume(t *testing.T, newParts func(t *testing.T) ResumeParts) {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Istanbul")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, loc)
	wake := day.Add(27 * time.Hour) // 03:00 the next day
	tests := []struct {
		name  string
		fail  []int // users the model fails for in the first run
		crash bool  // the first run dies: its end is never recorded
		// retry is how long after the first run the next one starts.
		retry time.Duration
		// second is how many model calls each user gets in the next run.
		second map[int]int
	}{
		{name: "the model fails from the 3rd user on", fail: []int{3, 4, 5}, retry: time.Minute,
			second: map[int]int{3: 1, 4: 1, 5: 1}},
		{name: "the model fails for the 3rd user only", fail: []int{3}, retry: time.Minute,
			second: map[int]int{3: 1}},
		{name: "the night dies at the 3rd user; its stale claim is taken over", fail: []int{3, 4, 5}, crash: true,
			retry: 7 * time.Hour, second: map[int]int{3: 1, 4: 1, 5: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			parts := newParts(t)
			seedResumeDay(t, parts.History, day)
			llm := &resumeLLM{fail: map[int]bool{}}
			for _, u := range tt.fail {
				llm.fail[u] = true
			}
			clock := &movingClock{t: wake}
			night := &crashingNightLog{NightLog: parts.Night, crash: tt.crash}
			mem := braintest.NewMemMemory(nil, "test-embed")
			dir := t.TempDir()
			j, err := sleep.New(sleep.Config{Model: "base", Location: loc, TrainingDir: dir,
				ExpertPrompts: map[string]string{"tr_chat": "Türkçe sohbet uzmanısın."}},
				parts.History, llm, mem, night, clock, discardLog(), sleep.WithProgress(parts.Progress))
			if err != nil {
				t.Fatalf("sleep.New: %v", err)
			}

			r, err := j.Consolidate(ctx, day)
			if err == nil {
				t.Fatal("the first night succeeded; want it to fail (the model failed)")
			}
			if want := resumeUsers - len(tt.fail); r.Summarized != want || r.Failed != len(tt.fail) {
				t.Errorf("first night: summarized %d, failed %d; want %d, %d", r.Summarized, r.Failed, want, len(tt.fail))
			}
			if got, want := llm.take(), everyoneOnce(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("first night's model calls by user = %v, want %v", got, want)
			}
			done, err := parts.Progress.UsersDone(ctx, "2026-11-23")
			if err != nil {
				t.Fatalf("UsersDone: %v", err)
			}
			if want := resumeRefs(usersBut(tt.fail)...); fmt.Sprint(done) != fmt.Sprint(want) {
				t.Errorf("users done after the first night = %v, want %v", done, want)
			}

			night.crash = false // the next process records its end
			llm.setFail(nil)
			if tt.crash {
				// Still within the dead run's claim: nothing runs.
				clock.set(wake.Add(time.Minute))
				if r, err := j.Consolidate(ctx, day); err != nil || !r.Skipped {
					t.Fatalf("a run within the dead night's claim: %+v, %v; want skipped", r, err)
				}
			}
			clock.set(wake.Add(tt.retry))
			r, err = j.Consolidate(ctx, day)
			if err != nil {
				t.Fatalf("the resumed night: %v", err)
			}
			if r.Skipped || r.Summarized != len(tt.second) || r.Failed != 0 {
				t.Errorf("resumed night: %+v; want %d summarized, none failed", r, len(tt.second))
			}
			if got := llm.take(); fmt.Sprint(got) != fmt.Sprint(tt.second) {
				t.Errorf("resumed night's model calls by user = %v, want %v (only the users not done)", got, tt.second)
			}
			for u := 1; u <= resumeUsers; u++ {
				ref := resumeRef(u)
				got, err := mem.Top(ctx, ref.Platform, ref.UserID, "proje", 5)
				if err != nil {
					t.Fatalf("Top: %v", err)
				}
				if len(got) != 1 || !strings.Contains(got[0].Text, fmt.Sprintf("%d numaralı", u)) {
					t.Errorf("user %d's memories after the resumed night: %+v, want their one", u, got)
				}
			}
			if got, want := routerUsers(t, filepath.Join(dir, "2026-11-23", sleep.RouterFile)), resumeRefs(usersBut(nil)...); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("the resumed night's training lines name %v, want every user %v (the files are written in full)", got, want)
			}

			// The day is done: the schedule leaves it alone …
			if r, err := j.Consolidate(ctx, day); err != nil || !r.Skipped {
				t.Errorf("a run of the finished day: %+v, %v; want skipped", r, err)
			}
			if got := llm.take(); len(got) != 0 {
				t.Errorf("a skipped run asked the model: %v", got)
			}
			// … but /sleep does it all again.
			if _, err := j.Sleep(ctx, day.Add(12*time.Hour)); err != nil {
				t.Fatalf("Sleep: %v", err)
			}
			if got, want := llm.take(), everyoneOnce(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("/sleep's model calls by user = %v, want %v (every user again)", got, want)
			}
			done, err = parts.Progress.UsersDone(ctx, "2026-11-23")
			if err != nil {
				t.Fatalf("UsersDone: %v", err)
			}
			if want := resumeRefs(usersBut(nil)...); fmt.Sprint(done) != fmt.Sprint(want) {
				t.Errorf("users done after /sleep = %v, want %v", done, want)
			}
		})
	}
}

// seedResumeDay writes the day of the users 1–5: user n talks at 08:00+n
// hours in a private chat, twice, and gets two routed answers.
func seedResumeDay(t *testing.T, h brain.History, day time.Time) {
	t.Helper()
	ctx := context.Background()
	for n := 1; n <= resumeUsers; n++ {
		ref := resumeRef(n)
		k := brain.ConvKey{Platform: ref.Platform, ChatID: ref.UserID, UserID: ref.UserID}
		at := day.Add(time.Duration(8+n) * time.Hour)
		dec := &brain.Decision{Expert: "tr_chat", Model: "tr_chat", Confidence: 0.9}
		for i, r := range []brain.Record{
			{Role: brain.RoleUser, Text: fmt.Sprintf("Merhaba, ben kullanıcı-%d, projemi anlatayım.", n)},
			{Role: brain.RoleAssistant, Text: "Dinliyorum.", Decision: dec},
			{Role: brain.RoleUser, Text: "Yarın devam ederiz."},
			{Role: brain.RoleAssistant, Text: "Olur, görüşürüz.", Decision: dec},
		} {
			r.Key, r.ChatKind, r.UserName, r.Time = k, brain.ChatPrivate, fmt.Sprintf("kişi %d", n), at.Add(time.Duration(i)*time.Minute)
			if err := h.Append(ctx, &r); err != nil {
				t.Fatalf("append: %v", err)
			}
		}
	}
}

func resumeRef(n int) brain.UserRef {
	return brain.UserRef{Platform: brain.PlatformTelegram, UserID: fmt.Sprint(700 + n)}
}

func resumeRefs(ns ...int) map[brain.UserRef]bool {
	out := map[brain.UserRef]bool{}
	for _, n := range ns {
		out[resumeRef(n)] = true
	}
	return out
}

// usersBut is the users 1–5 without the ones in not.
func usersBut(not []int) []int {
	var out []int
	for n := 1; n <= resumeUsers; n++ {
		skip := false
		for _, x := range not {
			skip = skip || x == n
		}
		if !skip {
			out = append(out, n)
		}
	}
	return out
}

func everyoneOnce() map[int]int {
	out := map[int]int{}
	for n := 1; n <= resumeUsers; n++ {
		out[n] = 1
	}
	return out
}

// resumeLLM answers each user's summary with one memory, fails for the
// users in fail, and counts the calls by user.
type resumeLLM struct {
	mu    sync.Mutex
	fail  map[int]bool
	calls map[int]int
}

func (l *resumeLLM) Chat(_ context.Context, req brain.ChatRequest, fn func(string) error) (brain.ChatStats, error) {
	text := req.Messages[len(req.Messages)-1].Content
	n := 0
	for i := 1; i <= resumeUsers; i++ {
		if strings.Contains(text, fmt.Sprintf("kullanıcı-%d,", i)) {
			n = i
		}
	}
	l.mu.Lock()
	if l.calls == nil {
		l.calls = map[int]int{}
	}
	l.calls[n]++
	fail := l.fail[n]
	l.mu.Unlock()
	if n == 0 {
		return brain.ChatStats{}, fmt.Errorf("resumeLLM: no user in %q", text)
	}
	if fail {
		return brain.ChatStats{}, fmt.Errorf("ollama: %w", brain.ErrModelUnavailable)
	}
	return brain.ChatStats{DoneReason: "stop"}, fn(fmt.Sprintf(`{"memories":[{"text":"Kullanıcı %d numaralı projesini anlattı.","tags":["proje"]}]}`, n))
}

func (l *resumeLLM) setFail(fail map[int]bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail = fail
}

// take returns the calls by user since the last take.
func (l *resumeLLM) take() map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	if out == nil {
		out = map[int]int{}
	}
	l.calls = nil
	return out
}

// movingClock is a clock the test sets.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movingClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// crashingNightLog loses the run's end while crash is set, as a process
// killed in the middle of the night does.
type crashingNightLog struct {
	brain.NightLog
	crash bool
}

func (l *crashingNightLog) FinishNight(ctx context.Context, day string, now time.Time, report string, runErr error) error {
	if l.crash {
		return nil
	}
	return l.NightLog.FinishNight(ctx, day, now, report, runErr)
}

// routerUsers is the users the router's review lines of a day name.
func routerUsers(t *testing.T, path string) map[brain.UserRef]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open the day's router lines: %v", err)
	}
	defer f.Close()
	out := map[brain.UserRef]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l sleep.RouterLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("router line %q: %v", sc.Text(), err)
		}
		u, err := brain.ParseUserRef(l.User)
		if err != nil {
			t.Fatalf("router line's user: %v", err)
		}
		out[u] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
