package sleep_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/sleep"
)

func TestConsolidateRemembersEachUsersDay(t *testing.T) {
	d := newDay(t)
	d.seed(t)
	llm, mem := standardLLM(), newMemorizer()
	j, _ := newJob(t, d, llm, mem, nil)

	r, err := j.Consolidate(context.Background(), wake.AddDate(0, 0, -1))
	if err != nil {
		t.Fatalf("Consolidate: %v", err)
	}
	want := sleep.Report{Day: "2026-11-23", Messages: 13, Users: 3, Summarized: 2, Quiet: 1, Memories: 3,
		Examples: map[string]int{"python_coder": 2, "tr_chat": 2}, RouterLines: 5}
	r.Duration = 0
	if !reflect.DeepEqual(r, want) {
		t.Errorf("report:\n got %+v\nwant %+v", r, want)
	}

	got := mem.of(brain.PlatformTelegram, "10")
	ayseIDs := []int64{2, 3, 4, 5, 6, 7, 8} // the messages of her day the summary read
	wantAyse := map[string]brain.Memory{
		"night-2026-11-23-01": {ID: "night-2026-11-23-01", Text: "Kullanıcı Python ile bir Flask projesi geliştiriyor.",
			Tags: []string{"python", "proje", "flask"}, Time: at(12, 1).Add(time.Second), Day: "2026-11-23", Sources: ayseIDs},
		"night-2026-11-23-02": {ID: "night-2026-11-23-02", Text: "Kullanıcı listeleri sıralamayı öğrendi.",
			Tags: []string{"python"}, Time: at(12, 1).Add(time.Second), Day: "2026-11-23", Sources: ayseIDs},
	}
	if !reflect.DeepEqual(got, wantAyse) {
		t.Errorf("Ayşe's memories:\n got %+v\nwant %+v", got, wantAyse)
	}
	m := mem.of(brain.PlatformDiscord, "7")["night-2026-11-23-01"]
	if m.Text != "Kullanıcının adı Mehmet, Pamuk adında bir kedisi var." || !reflect.DeepEqual(m.Tags, []string{"iletişim_bilgisi", "kedi"}) {
		t.Errorf("Mehmet's memory (fenced JSON, Turkish İ in a tag) = %+v", m)
	}
	if n := len(mem.of(brain.PlatformTelegram, "30")); n != 0 {
		t.Errorf("the quiet user got %d memories, want 0", n)
	}

	reqs := llm.requests()
	if len(reqs) != 2 {
		t.Fatalf("summary requests = %d, want 2 (one per talkative user)", len(reqs))
	}
	for _, req := range reqs {
		if req.Model != "qwen2.5:3b-instruct" || req.Messages[0].Role != brain.RoleSystem || !strings.Contains(req.Messages[0].Content, `{"memories"`) {
			t.Errorf("request model=%q first role=%s; want the base model, a system prompt asking for JSON", req.Model, req.Messages[0].Role)
		}
		text := req.Messages[1].Content
		for _, outside := range []string{"DÜNDEN KALAN", "YARININ"} {
			if strings.Contains(text, outside) {
				t.Errorf("a message outside the day reached the summary: %q", outside)
			}
		}
		if strings.Contains(text, "ulaşamıyorum") {
			t.Errorf("a failed reply reached the summary")
		}
	}
	ayseText := reqs[0].Messages[1].Content
	if !strings.Contains(ayseText, "Flask") {
		ayseText = reqs[1].Messages[1].Content
	}
	for _, want := range []string{"[09:00] Kullanıcı: Python'da", "[09:00] Asistan: `sorted(liste)`", "[12:00] Kullanıcı: Bu akşam"} {
		if !strings.Contains(ayseText, want) {
			t.Errorf("Ayşe's transcript lacks %q (both chats, Istanbul time):\n%s", want, ayseText)
		}
	}
}

func TestConsolidateWritesTrainingData(t *testing.T) {
	d := newDay(t)
	d.seed(t)
	j, dir := newJob(t, d, standardLLM(), newMemorizer(), nil)
	if _, err := j.Consolidate(context.Background(), wake.AddDate(0, 0, -1)); err != nil {
		t.Fatalf("Consolidate: %v", err)
	}
	folder := filepath.Join(dir, "2026-11-23")

	var py []sleep.Example
	readJSONL(t, filepath.Join(folder, "python_coder.jsonl"), &py)
	if len(py) != 2 {
		t.Fatalf("python_coder examples = %d, want 2", len(py))
	}
	want := []sleep.ExampleMessage{
		{Role: "system", Content: "Sen bir Python uzmanısın."},
		{Role: "user", Content: "Python'da listeyi nasıl sıralarım? Flask projem var."},
		{Role: "assistant", Content: "`sorted(liste)` kullan."},
		{Role: "user", Content: "Peki tersten?"},
		{Role: "assistant", Content: "`sorted(liste, reverse=True)`."},
	}
	if !reflect.DeepEqual(py[1].Messages, want) {
		t.Errorf("second example carries its context:\n got %+v\nwant %+v", py[1].Messages, want)
	}

	var tr []sleep.Example
	readJSONL(t, filepath.Join(folder, "tr_chat.jsonl"), &tr)
	if len(tr) != 2 {
		t.Errorf("tr_chat examples = %d, want 2 (the sure one and the user's /expert choice)", len(tr))
	}
	if _, err := os.Stat(filepath.Join(folder, "base.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("fallback answers became training data for the base model: %v", err)
	}

	var lines []sleep.RouterLine
	readJSONL(t, filepath.Join(folder, sleep.RouterFile), &lines)
	var fallback []sleep.RouterLine
	for _, l := range lines {
		if l.Fallback {
			fallback = append(fallback, l)
		}
	}
	wantFB := []sleep.RouterLine{{Text: "Bu akşam ne pişirsem?", Label: "", Candidate: "tr_chat", Confidence: 0.52, Fallback: true,
		User: "telegram:10"}}
	if !reflect.DeepEqual(fallback, wantFB) {
		t.Errorf("fallbacks for review:\n got %+v\nwant %+v", fallback, wantFB)
	}

	for _, name := range []string{"python_coder.jsonl", "tr_chat.jsonl", sleep.RouterFile} {
		fi, err := os.Stat(filepath.Join(folder, name))
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s mode = %v, want 0600 (users' messages)", name, perm)
		}
	}
}

func TestRerunReplacesInsteadOfAdding(t *testing.T) {
	d := newDay(t)
	d.seed(t)
	mem := newMemorizer()
	j, dir := newJob(t, d, standardLLM(), mem, nil)
	ctx := context.Background()
	for i := range 2 {
		if _, err := j.Sleep(ctx, at(15, 0)); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	if n := len(mem.of(brain.PlatformTelegram, "10")); n != 2 {
		t.Errorf("after two runs Ayşe has %d memories, want 2", n)
	}
	var py []sleep.Example
	readJSONL(t, filepath.Join(dir, "2026-11-23", "python_coder.jsonl"), &py)
	if len(py) != 2 {
		t.Errorf("after two runs python_coder has %d examples, want 2", len(py))
	}

	// Mehmet is wiped; the next run of the day leaves nothing of him.
	if _, err := d.h.DeleteUser(ctx, brain.PlatformDiscord, "7"); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Sleep(ctx, at(15, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "2026-11-23", "tr_chat.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("tr_chat.jsonl outlived the only user it came from: %v", err)
	}
}

func TestFailuresAreContained(t *testing.T) {
	ctx := context.Background()
	t.Run("one user's summary fails", func(t *testing.T) {
		d := newDay(t)
		d.seed(t)
		llm := standardLLM()
		llm.fail = map[string]error{"kedim Pamuk": fmt.Errorf("chat: %w", brain.ErrModelUnavailable)}
		mem, nl := newMemorizer(), braintest.NewMemNightLog()
		j, _ := newJob(t, d, llm, mem, nl)
		r, err := j.Consolidate(ctx, night)
		if err == nil || r.Failed != 1 || r.Summarized != 1 {
			t.Fatalf("Consolidate = %+v, %v; want 1 failed, 1 summarized and an error", r, err)
		}
		if len(mem.of(brain.PlatformTelegram, "10")) != 2 {
			t.Errorf("Ayşe lost her memories to Mehmet's failure")
		}
		run, _ := nl.Run("2026-11-23")
		if run.Err == "" {
			t.Errorf("the night log does not record the failure: %+v", run)
		}
		// The next run retries the day and succeeds.
		llm.fail = nil
		if r, err := j.Consolidate(ctx, night); err != nil || r.Skipped || r.Summarized != 2 {
			t.Errorf("retry = %+v, %v; want both users summarized", r, err)
		}
	})
	t.Run("long-term memory down", func(t *testing.T) {
		d := newDay(t)
		d.seed(t)
		mem := newMemorizer()
		mem.err = fmt.Errorf("dial: %w", brain.ErrMemoryUnavailable)
		j, _ := newJob(t, d, standardLLM(), mem, nil)
		if _, err := j.Consolidate(ctx, night); !errors.Is(err, brain.ErrMemoryUnavailable) {
			t.Errorf("Consolidate error = %v, want ErrMemoryUnavailable", err)
		}
	})
	t.Run("history down", func(t *testing.T) {
		j, err := sleep.New(sleep.Config{Model: "m", Location: istanbul}, downDays{}, standardLLM(), newMemorizer(), nil, fixedClock{wake}, discard())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.Sleep(ctx, night); !errors.Is(err, brain.ErrStoreUnavailable) {
			t.Errorf("Sleep error = %v, want ErrStoreUnavailable", err)
		}
	})
	t.Run("model answers garbage", func(t *testing.T) {
		d := newDay(t)
		d.seed(t)
		llm := &scriptedLLM{answers: map[string]string{"Flask": "{{{ ]]", "Pamuk": "\xff\xfe"}}
		mem := newMemorizer()
		j, _ := newJob(t, d, llm, mem, nil)
		r, err := j.Consolidate(ctx, night)
		if err != nil || r.Memories != 0 || r.Summarized != 2 {
			t.Errorf("Consolidate = %+v, %v; want no memories and no error", r, err)
		}
	})
}

type downDays struct{}

func (downDays) Between(context.Context, time.Time, time.Time) ([]brain.Record, error) {
	return nil, fmt.Errorf("dial tcp: %w", brain.ErrStoreUnavailable)
}

func TestNightLogMakesEachDayRunOnce(t *testing.T) {
	d := newDay(t)
	d.seed(t)
	llm, nl := standardLLM(), braintest.NewMemNightLog()
	j, _ := newJob(t, d, llm, newMemorizer(), nl)
	ctx := context.Background()
	if r, err := j.Consolidate(ctx, night); err != nil || r.Skipped {
		t.Fatalf("first run = %+v, %v", r, err)
	}
	r, err := j.Consolidate(ctx, at(23, 0))
	if err != nil || !r.Skipped {
		t.Errorf("second run of the same day = %+v, %v; want skipped", r, err)
	}
	if n := len(llm.requests()); n != 2 {
		t.Errorf("summary requests = %d, want 2 (the second run must not ask)", n)
	}
	run, ok := nl.Run("2026-11-23")
	var rep sleep.Report
	if !ok || run.Err != "" || json.Unmarshal([]byte(run.Report), &rep) != nil || rep.Memories != 3 {
		t.Errorf("night log = %+v (ok %v); want a finished run whose report has 3 memories", run, ok)
	}
	// /sleep forces a run even on a finished day.
	if s, err := j.Sleep(ctx, night); err != nil || !strings.Contains(s, "3 anı") {
		t.Errorf("Sleep = %q, %v; want a fresh run's report", s, err)
	}
}

func TestWithoutLongTermMemoryOnlyTrainingData(t *testing.T) {
	d := newDay(t)
	d.seed(t)
	llm := standardLLM()
	j, dir := newJob(t, d, llm, nil, nil)
	r, err := j.Consolidate(context.Background(), night)
	if err != nil || r.Memories != 0 || r.Examples["python_coder"] != 2 {
		t.Errorf("Consolidate = %+v, %v", r, err)
	}
	if len(llm.requests()) != 0 {
		t.Errorf("the model was asked for summaries nobody can keep")
	}
	if _, err := os.Stat(filepath.Join(dir, "2026-11-23", "python_coder.jsonl")); err != nil {
		t.Error(err)
	}
}

func TestLongDayIsSummarizedInParts(t *testing.T) {
	d := newDay(t)
	for i := range 60 {
		d.add(t, ayse, at(8, i), brain.RoleUser, fmt.Sprintf("Mesaj %02d: %s", i, strings.Repeat("uzun bir cümle ", 40)), nil, false)
	}
	llm := &scriptedLLM{answers: map[string]string{"Mesaj": `{"memories":[{"text":"Kullanıcı çok uzun yazdı.","tags":["uzun"]}]}`}}
	j, err := sleep.New(sleep.Config{Model: "m", Location: istanbul, ChunkTokens: 1000}, d.h, llm, newMemorizer(), nil, fixedClock{wake}, discard())
	if err != nil {
		t.Fatal(err)
	}
	r, err := j.Consolidate(context.Background(), night)
	if err != nil {
		t.Fatal(err)
	}
	reqs := llm.requests()
	if len(reqs) < 10 {
		t.Errorf("a 60-message day of ~200 tokens each went in %d parts, want ≥ 10 of ≤ 1000 tokens", len(reqs))
	}
	for _, req := range reqs {
		if n := brain.EstimateTokens(req.Messages[1].Content); n > 1100 {
			t.Errorf("a part has %d tokens", n)
		}
	}
	if r.Memories != 1 {
		t.Errorf("memories = %d, want 1 (the same text from every part is kept once)", r.Memories)
	}
}

func TestNewErrors(t *testing.T) {
	d := newDay(t)
	llm := standardLLM()
	for _, tt := range []struct {
		name string
		cfg  sleep.Config
		days sleep.Days
	}{
		{"no model", sleep.Config{}, d.h},
		{"no history", sleep.Config{Model: "m"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := sleep.New(tt.cfg, tt.days, llm, nil, nil, fixedClock{wake}, discard()); err == nil {
				t.Error("got no error")
			}
		})
	}
}

func TestReportInTurkish(t *testing.T) {
	r := sleep.Report{Day: "2026-11-23", Messages: 14, Users: 3, Summarized: 2, Quiet: 1, Failed: 1, Memories: 3,
		Examples: map[string]int{"tr_chat": 2, "python_coder": 1}, RouterLines: 5, Duration: 1500 * time.Millisecond}
	got := r.Turkish()
	for _, want := range []string{"2026-11-23", "14 mesaj", "3 anı", "1 kullanıcı özetlenemedi", "python_coder 1, tr_chat 2", "5 satır", "1.5s"} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if got := (sleep.Report{Day: "2026-11-23", Skipped: true}).Turkish(); !strings.Contains(got, "zaten") {
		t.Errorf("skipped report = %q", got)
	}
}

func readJSONL[T any](t *testing.T, path string, out *[]T) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", filepath.Base(path), err)
		}
		*out = append(*out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestAKnownMemoryIsRefreshedNotCopied(t *testing.T) {
	d := newDay(t)
	d.seed(t)
	mem := newMemorizer()
	before := night.AddDate(0, 0, -1).Add(20 * time.Hour)
	old := brain.Memory{ID: "night-2026-11-22-03", Text: "Kullanıcı Python ile bir Flask projesi geliştiriyor.", Tags: []string{"python"}, Time: before}
	if err := mem.Remember(context.Background(), brain.PlatformTelegram, "10", []brain.Memory{old}); err != nil {
		t.Fatal(err)
	}
	j, _ := newJob(t, d, standardLLM(), mem, nil)
	for run := range 2 { // a re-run of the day changes nothing
		r, err := j.Consolidate(context.Background(), night)
		if err != nil {
			t.Fatal(err)
		}
		if r.Memories != 3 || r.Updated != 1 {
			t.Errorf("run %d: memories %d, updated %d; want 3 and 1", run+1, r.Memories, r.Updated)
		}
	}
	got := mem.of(brain.PlatformTelegram, "10")
	if len(got) != 2 {
		t.Fatalf("Ayşe has %d memories, want 2 (the Flask one once):\n%+v", len(got), got)
	}
	refreshed := got["night-2026-11-22-03"]
	if !refreshed.Time.Equal(at(12, 1).Add(time.Second)) || !reflect.DeepEqual(refreshed.Tags, []string{"python", "proje", "flask"}) {
		t.Errorf("the known memory was not refreshed with today's time and tags: %+v", refreshed)
	}
	if _, ok := got["night-2026-11-23-02"]; !ok {
		t.Errorf("the new memory keeps its own id: %+v", got)
	}
}

func TestRejectedAnswersAreNoExamples(t *testing.T) {
	d := newDay(t)
	d.add(t, ayse, at(10, 0), brain.RoleUser, "Python'da dosya nasıl okunur?", nil, false)
	d.add(t, ayse, at(10, 0).Add(time.Second), brain.RoleAssistant, "`open('x').read()`", sure("python_coder"), false)
	d.add(t, ayse, at(10, 2), brain.RoleUser, "Olmadı, hata veriyor: FileNotFoundError", nil, false)
	d.add(t, ayse, at(10, 2).Add(time.Second), brain.RoleAssistant, "Dosyanın yolunu kontrol et.", sure("python_coder"), false)
	d.add(t, ayse, at(10, 5), brain.RoleUser, "Teşekkürler, oldu.", nil, false)
	j, dir := newJob(t, d, standardLLM(), nil, nil)
	r, err := j.Consolidate(context.Background(), night)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rejected != 1 || r.Examples["python_coder"] != 1 {
		t.Errorf("report = %+v; want 1 rejected and 1 example", r)
	}
	var py []sleep.Example
	readJSONL(t, filepath.Join(dir, "2026-11-23", "python_coder.jsonl"), &py)
	if len(py) != 1 || py[0].Messages[len(py[0].Messages)-1].Content != "Dosyanın yolunu kontrol et." {
		t.Errorf("examples = %+v; want only the answer the user accepted", py)
	}
	if !strings.Contains(r.Turkish(), "yanlış bulduğu 1 cevap") {
		t.Errorf("report: %s", r.Turkish())
	}
}

// Messages are stored as they arrive: a question sent while the last one
// was being answered is stored before that answer. Each training example
// still pairs a question with its own answer (by ReplyTo).
func TestBurstQuestionsPairWithTheirOwnAnswers(t *testing.T) {
	d := newDay(t)
	add := func(at time.Time, role brain.Role, text, ref, replyTo string) {
		t.Helper()
		r := &brain.Record{Key: ayse, ChatKind: brain.ChatPrivate, UserName: "Ayşe", Role: role, Text: text,
			Time: at, Ref: ref, ReplyTo: replyTo}
		if role == brain.RoleAssistant {
			r.Decision = sure("python_coder")
		}
		if err := d.h.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	add(at(10, 0), brain.RoleUser, "Python'da liste nasıl ters çevrilir?", "m:1", "")
	add(at(10, 0).Add(500*time.Millisecond), brain.RoleUser, "Peki sözlük nasıl sıralanır?", "m:2", "")
	add(at(10, 0).Add(2*time.Second), brain.RoleAssistant, "`liste[::-1]`", "a:m:1", "m:1")
	add(at(10, 0).Add(3*time.Second), brain.RoleAssistant, "`sorted(d.items())`", "a:m:2", "m:2")
	j, dir := newJob(t, d, standardLLM(), nil, nil)
	if _, err := j.Consolidate(context.Background(), night); err != nil {
		t.Fatal(err)
	}
	var py []sleep.Example
	readJSONL(t, filepath.Join(dir, "2026-11-23", "python_coder.jsonl"), &py)
	got := map[string]string{}
	for _, ex := range py {
		n := len(ex.Messages)
		got[ex.Messages[n-2].Content] = ex.Messages[n-1].Content
	}
	want := map[string]string{
		"Python'da liste nasıl ters çevrilir?": "`liste[::-1]`",
		"Peki sözlük nasıl sıralanır?":         "`sorted(d.items())`",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("question → answer pairs = %q, want %q", got, want)
	}
}
