package sleep_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/sleep"
)

// writeFile writes lines to dir/name with mode.
func writeFile(t *testing.T, dir, name string, mode os.FileMode, lines ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(lines, "\n")
	if len(lines) > 0 {
		text += "\n"
	}
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func TestTrainingFilesForgetUser(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const (
		a1   = `{"messages":[{"role":"user","content":"A'nın sırrı"}],"user":"telegram:10"}`
		a2   = `{"text":"A soruyor","label":"tr_chat","confidence":0.9,"user":"telegram:10"}`
		b1   = `{"messages":[{"role":"user","content":"B'nin sorusu"}],"user":"telegram:20"}`
		b2   = `{"text":"B soruyor","label":"","confidence":0.4,"fallback":true,"user":"telegram:20"}`
		aDC  = `{"text":"aynı id, başka platform","label":"tr_chat","confidence":0.9,"user":"discord:10"}`
		bare = `{"messages":[{"role":"user","content":"sahibi yok"}]}`
	)
	py := writeFile(t, dir, "2026-11-22/python_coder.jsonl", 0o600, a1, b1, a1)
	router := writeFile(t, dir, "2026-11-22/router.jsonl", 0o640, a2, b2, aDC)
	onlyA := writeFile(t, dir, "2026-11-23/tr_chat.jsonl", 0o600, a1)
	other := writeFile(t, dir, "2026-11-23/router.jsonl", 0o600, bare, b2)
	notJSONL := writeFile(t, dir, "2026-11-23/notes.txt", 0o600, a1)

	tf := sleep.NewTrainingFiles(dir)
	lines, err := tf.UserLines(ctx, brain.PlatformTelegram, "10")
	if err != nil {
		t.Fatalf("UserLines: %v", err)
	}
	if want := []string{a1, a1, a2, a1}; !reflect.DeepEqual(lines, want) {
		t.Errorf("UserLines before = %q, want %q", lines, want)
	}

	n, err := tf.ForgetUser(ctx, brain.PlatformTelegram, "10")
	if err != nil {
		t.Fatalf("ForgetUser: %v", err)
	}
	if n != 4 {
		t.Errorf("ForgetUser deleted %d lines, want 4", n)
	}
	for _, c := range []struct {
		path string
		mode os.FileMode
		want string
	}{
		{py, 0o600, b1 + "\n"},
		{router, 0o640, b2 + "\n" + aDC + "\n"},
		{onlyA, 0o600, ""},
		{other, 0o600, bare + "\n" + b2 + "\n"},
		{notJSONL, 0o600, a1 + "\n"},
	} {
		got, err := os.ReadFile(c.path)
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%s after ForgetUser:\n got %q\nwant %q", filepath.Base(c.path), got, c.want)
		}
		fi, _ := os.Stat(c.path)
		if fi.Mode().Perm() != c.mode {
			t.Errorf("%s mode = %v, want %v (kept)", filepath.Base(c.path), fi.Mode().Perm(), c.mode)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*", ".tmp-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	if lines, err := tf.UserLines(ctx, brain.PlatformTelegram, "10"); err != nil || len(lines) != 0 {
		t.Errorf("UserLines after = %q, %v; want none", lines, err)
	}
	if lines, err := tf.UserLines(ctx, brain.PlatformTelegram, "20"); err != nil || !reflect.DeepEqual(lines, []string{b1, b2, b2}) {
		t.Errorf("another user's lines = %q, %v; want theirs untouched", lines, err)
	}
	if n, err := tf.ForgetUser(ctx, brain.PlatformTelegram, "10"); err != nil || n != 0 {
		t.Errorf("second ForgetUser = %d, %v; want 0, nil", n, err)
	}

	for _, c := range []struct {
		name string
		tf   *sleep.TrainingFiles
	}{
		{"no folder yet", sleep.NewTrainingFiles(filepath.Join(dir, "yok"))},
		{"training data off", sleep.NewTrainingFiles("")},
	} {
		if n, err := c.tf.ForgetUser(ctx, brain.PlatformTelegram, "10"); err != nil || n != 0 {
			t.Errorf("%s: ForgetUser = %d, %v; want 0, nil", c.name, n, err)
		}
	}
	if _, err := tf.ForgetUser(ctx, brain.PlatformTelegram, ""); err == nil {
		t.Error("ForgetUser with an empty id: got no error")
	}
}

// userLines reads every training line under dir that names who.
func userLines(t *testing.T, dir, who string) []string {
	t.Helper()
	p, id, _ := strings.Cut(who, ":")
	lines, err := sleep.NewTrainingFiles(dir).UserLines(context.Background(), brain.Platform(p), id)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// newGuardedJob is newJob with tombstones.
func newGuardedJob(t *testing.T, d day, llm brain.LLM, mem sleep.Memory, tombs brain.Tombstones) (*sleep.Job, string) {
	t.Helper()
	dir := t.TempDir()
	j, err := sleep.New(sleep.Config{Model: "qwen2.5:3b-instruct", Location: istanbul, TrainingDir: dir,
		ExpertPrompts: map[string]string{"python_coder": "Sen bir Python uzmanısın."}},
		d.h, llm, mem, nil, fixedClock{wake}, discard(), sleep.WithTombstones(tombs))
	if err != nil {
		t.Fatalf("sleep.New: %v", err)
	}
	return j, dir
}

func TestTrainingLinesNameTheirUser(t *testing.T) {
	d := newDay(t)
	d.seed(t)
	j, dir := newJob(t, d, standardLLM(), newMemorizer(), nil)
	if _, err := j.Consolidate(context.Background(), night); err != nil {
		t.Fatal(err)
	}
	for who, want := range map[string]int{"telegram:10": 2 + 3, "discord:7": 2 + 2, "telegram:30": 0} {
		if got := len(userLines(t, dir, who)); got != want {
			t.Errorf("%s owns %d lines, want %d", who, got, want)
		}
	}
}

func TestNightSkipsForgottenUsers(t *testing.T) {
	ctx := context.Background()
	d := newDay(t)
	d.seed(t)
	tombs := braintest.NewMemTombstones()
	// Ayşe was forgotten after the day; Mehmet long before it (what he
	// wrote since is his to keep).
	if err := tombs.Bury(ctx, ayse.Platform, ayse.UserID, wake.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := tombs.Bury(ctx, mehmet.Platform, mehmet.UserID, night.AddDate(0, 0, -3)); err != nil {
		t.Fatal(err)
	}
	mem := newMemorizer()
	llm := standardLLM()
	j, dir := newGuardedJob(t, d, llm, mem, tombs)
	r, err := j.Consolidate(ctx, night)
	if err != nil {
		t.Fatalf("Consolidate: %v", err)
	}
	if r.Forgotten != 1 || r.Summarized != 1 || r.Messages != 5 {
		t.Errorf("report = %+v; want 1 forgotten user, Mehmet alone summarized over his 4 messages and the quiet user's 1", r)
	}
	if got := mem.of(ayse.Platform, ayse.UserID); len(got) != 0 {
		t.Errorf("the forgotten user got memories: %+v", got)
	}
	if got := len(mem.of(mehmet.Platform, mehmet.UserID)); got != 1 {
		t.Errorf("Mehmet has %d memories, want 1", got)
	}
	for _, req := range llm.requests() {
		if strings.Contains(req.Messages[1].Content, "Flask") {
			t.Errorf("the forgotten user's day reached the model")
		}
	}
	if got := userLines(t, dir, "telegram:10"); len(got) != 0 {
		t.Errorf("training lines of the forgotten user: %q", got)
	}
	if got := len(userLines(t, dir, "discord:7")); got != 4 {
		t.Errorf("Mehmet's training lines = %d, want 4", got)
	}
	if !strings.Contains(r.Turkish(), "Unutulmak isteyen 1 kullanıcının") {
		t.Errorf("the report does not say so:\n%s", r.Turkish())
	}
}

// blockingLLM holds the summary of the transcript holding match until
// release is closed, after saying so on reached.
type blockingLLM struct {
	brain.LLM
	match   string
	once    sync.Once
	reached chan struct{}
	release chan struct{}
}

func (b *blockingLLM) Chat(ctx context.Context, req brain.ChatRequest, fn func(string) error) (brain.ChatStats, error) {
	if strings.Contains(req.Messages[len(req.Messages)-1].Content, b.match) {
		b.once.Do(func() { close(b.reached) })
		select {
		case <-b.release:
		case <-ctx.Done():
			return brain.ChatStats{}, ctx.Err()
		}
	}
	return b.LLM.Chat(ctx, req, fn)
}

// forgettingMemorizer is a memorizer that forgets too (brain.Forgetter).
type forgettingMemorizer struct{ *memorizer }

func (m forgettingMemorizer) ForgetUser(_ context.Context, p brain.Platform, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mems, string(p)+"/"+userID)
	return nil
}

func TestForgetDuringARunningNight(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := newDay(t)
	d.seed(t)
	// A previous night wrote Ayşe's training lines already.
	tombs := braintest.NewMemTombstones()
	mem := forgettingMemorizer{newMemorizer()}
	llm := &blockingLLM{LLM: standardLLM(), match: "Flask projem", reached: make(chan struct{}), release: make(chan struct{})}
	j, dir := newGuardedJob(t, d, llm, mem, tombs)
	close(llm.release)
	if _, err := j.Consolidate(ctx, night); err != nil {
		t.Fatal(err)
	}
	if len(userLines(t, dir, "telegram:10")) == 0 {
		t.Fatal("setup: the first night wrote no line of Ayşe")
	}
	llm.once, llm.reached, llm.release = sync.Once{}, make(chan struct{}), make(chan struct{})

	type result struct {
		r   sleep.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := j.Consolidate(ctx, night)
		done <- result{r, err}
	}()
	select {
	case <-llm.reached:
	case <-ctx.Done():
		t.Fatal("the night never asked the model about Ayşe")
	}
	// Ayşe forgets while the model summarizes her day: what /forget does.
	if err := tombs.Bury(ctx, ayse.Platform, ayse.UserID, wake); err != nil {
		t.Fatal(err)
	}
	if err := mem.ForgetUser(ctx, ayse.Platform, ayse.UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Training().ForgetUser(ctx, ayse.Platform, ayse.UserID); err != nil {
		t.Fatal(err)
	}
	close(llm.release)
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		t.Fatal("the night did not finish")
	}
	if res.err != nil {
		t.Fatalf("Consolidate: %v", res.err)
	}
	if got := mem.of(ayse.Platform, ayse.UserID); len(got) != 0 {
		t.Errorf("the night stored memories of a user forgotten while it ran: %+v", got)
	}
	if got := userLines(t, dir, "telegram:10"); len(got) != 0 {
		t.Errorf("the night wrote training lines of a user forgotten while it ran: %q", got)
	}
	if len(mem.of(mehmet.Platform, mehmet.UserID)) != 1 || len(userLines(t, dir, "discord:7")) != 4 {
		t.Errorf("Mehmet lost his memory or lines")
	}
	if res.r.Forgotten != 1 {
		t.Errorf("report = %+v, want 1 forgotten user", res.r)
	}
}

func TestNightFailsWhenTombstonesCannotBeRead(t *testing.T) {
	d := newDay(t)
	d.seed(t)
	mem := newMemorizer()
	j, dir := newGuardedJob(t, d, standardLLM(), mem, brokenTombs{})
	if _, err := j.Consolidate(context.Background(), night); err == nil || !errors.Is(err, brain.ErrStoreUnavailable) {
		t.Errorf("Consolidate = %v, want an error: it cannot know who was forgotten", err)
	}
	if len(mem.of(ayse.Platform, ayse.UserID)) != 0 || len(userLines(t, dir, "telegram:10")) != 0 {
		t.Error("the night wrote without knowing who was forgotten")
	}
}

type brokenTombs struct{}

func (brokenTombs) Bury(context.Context, brain.Platform, string, time.Time) error {
	return brain.ErrStoreUnavailable
}

func (brokenTombs) Buried(context.Context, time.Time) (brain.Graves, error) {
	return nil, brain.ErrStoreUnavailable
}
