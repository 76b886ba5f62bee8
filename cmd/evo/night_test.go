package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain/ollama/ollamatest"
	"github.com/evo-tr/evo/memory/chroma/chromatest"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
	"github.com/ollama/ollama/api"
)

func TestSleepCommandInChatWritesTrainingData(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	srv := ollamatest.NewServer(t)
	dir := t.TempDir()
	env := map[string]string{"DATABASE_URL": dsn, "OLLAMA_HOST": srv.URL(), "TRAINING_DIR": dir, "SLEEP_TIMEZONE": "UTC"}

	in := "Python'da bir listeyi nasıl ters sıralarım?\nBana İstanbul hakkında kısa bir şiir yazar mısın?\n/sleep bugün\n"
	code, out, stderr := evo(t, env, in, "chat", "--user", "ayse")
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	for _, want := range []string{"Gece işi tamam (" + time.Now().UTC().Format(time.DateOnly) + "): 4 mesaj, 1 kullanıcı", "python_coder 1", "tr_chat 1", "Yönlendirici için 2 satır"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	folder := filepath.Join(dir, time.Now().UTC().Format(time.DateOnly))
	data, err := os.ReadFile(filepath.Join(folder, "python_coder.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "ters sıralarım") || !strings.Contains(string(data), `"role":"system"`) {
		t.Errorf("python_coder.jsonl = %s", data)
	}
	// Without CHROMA_URL the night still summarizes: the memories are rows
	// in Postgres (/memory lists them), only recall is off.
	if len(srv.ChatRequests()) != 3 {
		t.Errorf("chat requests = %d, want 2 answers and 1 summary", len(srv.ChatRequests()))
	}

	// evo sleep does the same from the command line (cron, launchd).
	code, out, stderr = evo(t, env, "", "sleep", "--day", "bugün")
	if code != 0 || !strings.Contains(out, "python_coder 1") {
		t.Errorf("evo sleep: exit %d, stdout %q, stderr %s", code, out, stderr)
	}
}

// TestSleepDayIsSleepTimezones: /sleep and evo sleep --day read "today" and
// dates in SLEEP_TIMEZONE, whatever the host's zone (TZ). Kiritimati
// (UTC+14) and Pago Pago (UTC-11) are 25 hours apart, so their dates
// always differ: a day read in any one other zone fails one of them.
func TestSleepDayIsSleepTimezones(t *testing.T) {
	for _, zone := range []string{"Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Istanbul"} {
		t.Run(zone, func(t *testing.T) {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			// A run that midnight in the zone cuts in two is run again, on
			// a fresh schema: the second cannot straddle midnight too.
			var today, out string
			var env map[string]string
			for attempt := 0; ; attempt++ {
				today = time.Now().In(loc).Format(time.DateOnly)
				dsn := pgtest.NewSchema(t)
				srv := ollamatest.NewServer(t)
				env = map[string]string{"DATABASE_URL": dsn, "OLLAMA_HOST": srv.URL(), "SLEEP_TIMEZONE": zone}
				code, o, stderr := evo(t, env, "Merhaba\nNasılsın?\n/sleep\n/sleep "+today+"\n", "chat", "--user", "ayse")
				if code != 0 {
					t.Fatalf("exit %d\nstderr: %s", code, stderr)
				}
				out = o
				if time.Now().In(loc).Format(time.DateOnly) == today || attempt == 1 {
					break
				}
			}
			want := "Gece işi tamam (" + today + "): 4 mesaj, 1 kullanıcı"
			if strings.Count(out, want) != 2 {
				t.Errorf("/sleep and /sleep %s in chat: want %q twice:\n%s", today, want, out)
			}
			for _, day := range []string{"bugün", today} {
				code, out, stderr := evo(t, env, "", "sleep", "--day", day)
				if code != 0 || !strings.Contains(out, want) {
					t.Errorf("evo sleep --day %s: exit %d, stdout %q, stderr %s; want %q", day, code, out, stderr, want)
				}
			}
			tomorrow := time.Now().In(loc).AddDate(0, 0, 1).Format(time.DateOnly)
			if code, _, stderr := evo(t, env, "", "sleep", "--day", tomorrow); code == 0 || !strings.Contains(stderr, "--day") {
				t.Errorf("evo sleep --day %s (tomorrow in %s): exit %d, stderr %q; want it refused", tomorrow, zone, code, stderr)
			}
		})
	}
}

// TestNightTranscriptTellsSleepTimezonesTime: the transcript the model
// summarizes shows clock times in SLEEP_TIMEZONE, neither the host's nor
// the database session's (Postgres hands timestamptz back in its own
// TimeZone). Chroma is down, so the night asks for the summary and then
// fails to remember it.
func TestNightTranscriptTellsSleepTimezonesTime(t *testing.T) {
	const zone, dbZone = "Pacific/Kiritimati", "Pacific/Pago_Pago" // UTC+14, UTC-11
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	// One chat and night; a run that midnight in the zone cuts in two is
	// run again on a fresh schema (the second cannot straddle it too).
	attempt := func() (srv *ollamatest.Server, out string, before, after time.Time) {
		u, err := url.Parse(pgtest.NewSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("timezone", dbZone)
		u.RawQuery = q.Encode()
		srv = ollamatest.NewServer(t, ollamatest.WithModels(append(append([]string(nil), ollamatest.DefaultModels...), "bge-m3")...),
			ollamatest.WithReply(func(req api.ChatRequest) string {
				if isSummary(req) {
					return `{"memories":[{"text":"Kullanıcı selam verdi.","tags":["selam"]}]}`
				}
				return "Tamam."
			}))
		env := map[string]string{"DATABASE_URL": u.String(), "OLLAMA_HOST": srv.URL(), "CHROMA_URL": "http://" + freeAddr(t),
			"EMBED_MODEL": "bge-m3", "SLEEP_TIMEZONE": zone}
		before = time.Now()
		code, out, stderr := evo(t, env, "Merhaba\nNasılsın?\n/sleep\n", "chat", "--user", "ayse")
		after = time.Now()
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		return srv, out, before, after
	}
	srv, out, before, after := attempt()
	if before.In(loc).Format(time.DateOnly) != after.In(loc).Format(time.DateOnly) {
		srv, out, before, after = attempt()
	}
	if !strings.Contains(out, "long-term memory unavailable") {
		t.Fatalf("the night did not reach the memory step: %q", out)
	}
	var transcript string
	for _, c := range srv.ChatRequests() {
		if isSummary(c) {
			transcript = c.Messages[len(c.Messages)-1].Content
		}
	}
	// The clock times the messages can have, in the night's zone.
	ok := map[string]bool{}
	for m := before.Truncate(time.Minute); !m.After(after); m = m.Add(time.Minute) {
		ok["["+m.In(loc).Format("15:04")+"]"] = true
	}
	lines := 0
	for _, line := range strings.Split(transcript, "\n") {
		if i := strings.Index(line, "] "); strings.HasPrefix(line, "[") && i > 0 {
			lines++
			if !ok[line[:i+1]] {
				t.Errorf("transcript line %q: want a clock time of %s, one of %v", line, zone, ok)
			}
		}
	}
	if lines != 4 {
		t.Errorf("transcript has %d timed lines, want 4:\n%s", lines, transcript)
	}
}

func TestSleepCommandErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"bad day", nil, []string{"sleep", "--day", "yarın"}, "--day"},
		{"future day", nil, []string{"sleep", "--day", "2999-01-01"}, "--day"},
		{"stray argument", nil, []string{"sleep", "dün"}, "unexpected argument"},
		{"bad time zone", map[string]string{"SLEEP_TIMEZONE": "Mars/Olympus"}, []string{"sleep"}, "SLEEP_TIMEZONE"},
		{"bad chroma url", map[string]string{"CHROMA_URL": "chroma:8000"}, []string{"sleep"}, "CHROMA_URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x"}
			for k, v := range tt.env {
				env[k] = v
			}
			code, _, stderr := evo(t, env, "", tt.args...)
			if code == 0 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want failure naming %q", code, stderr, tt.want)
			}
		})
	}
}

// TestMemoryAcrossDaysEndToEnd runs evo chat against the fake Ollama, the
// real Postgres and a real Chroma: the night distils the conversation into
// long-term memories, a later conversation's prompt carries them, and
// /forget removes them.
func TestMemoryAcrossDaysEndToEnd(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	chromaSrv := chromatest.Start(t)
	const memory = "Kullanıcının kedisinin adı Pamuk."
	srv := ollamatest.NewServer(t,
		ollamatest.WithModels(append(append([]string(nil), ollamatest.DefaultModels...), "bge-m3")...),
		ollamatest.WithReply(func(req api.ChatRequest) string {
			if isSummary(req) {
				return `{"memories":[{"text":"` + memory + `","tags":["kedi","evcil hayvan"]}]}`
			}
			return "Tamam."
		}))
	env := map[string]string{"DATABASE_URL": dsn, "OLLAMA_HOST": srv.URL(), "CHROMA_URL": chromaSrv.URL(),
		"EMBED_MODEL": "bge-m3", "SLEEP_TIMEZONE": "UTC"}

	in := "Kedimin adı Pamuk, çok yaramaz.\nBugün onu veterinere götürdüm.\n/sleep\n"
	code, out, stderr := evo(t, env, in, "chat", "--user", "ayse")
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	if !strings.Contains(out, "1 anı yazdım (1 kullanıcı özetlendi") {
		t.Fatalf("the night's report: %s", out)
	}
	var summary *api.ChatRequest
	for _, c := range srv.ChatRequests() {
		if isSummary(c) {
			summary = &c
		}
	}
	if summary == nil || summary.Model != "qwen2.5:3b-instruct" || !strings.Contains(summary.Messages[1].Content, "Kedimin adı Pamuk") {
		t.Fatalf("summary request = %+v; want the base model reading the day", summary)
	}

	// The user can see what is remembered.
	if code, out, _ := evo(t, env, "/memory\n", "chat", "--user", "ayse"); code != 0 || !strings.Contains(out, memory) || !strings.Contains(out, "(kedi, evcil_hayvan)") {
		t.Errorf("/memory: exit %d\n%s", code, out)
	}

	// A new conversation, after a restart: the prompt remembers.
	srv.ResetRecords()
	if code, _, stderr := evo(t, env, "Kedim için mama önerir misin?\n", "chat", "--user", "ayse"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	chats := srv.ChatRequests()
	if len(chats) != 1 || !strings.Contains(chats[0].Messages[0].Content, memory) {
		t.Fatalf("system prompt does not carry the memory:\n%+v", chats)
	}
	if len(srv.EmbedRequests()) == 0 {
		t.Error("no embedding request: how was the memory recalled?")
	}
	// Another user does not see it.
	srv.ResetRecords()
	evo(t, env, "Merhaba\n", "chat", "--user", "mehmet")
	if c := srv.ChatRequests(); len(c) != 1 || strings.Contains(c[0].Messages[0].Content, "Pamuk") {
		t.Errorf("mehmet's prompt carries ayse's memory: %+v", c)
	}

	// /forget, confirmed with its code, deletes her long-term memory too.
	if out := forgetInChat(t, env, "ayse"); !strings.Contains(out, "1 anı") {
		t.Fatalf("forget: %q", out)
	}
	srv.ResetRecords()
	evo(t, env, "Kedimin adı neydi?\n", "chat", "--user", "ayse")
	if c := srv.ChatRequests(); len(c) != 1 || strings.Contains(c[0].Messages[0].Content, "Pamuk") {
		t.Errorf("after /forget the prompt still carries the memory: %+v", c)
	}
}

func TestChromaDownDoesNotStopAnswers(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	srv := ollamatest.NewServer(t, ollamatest.WithModels(append(append([]string(nil), ollamatest.DefaultModels...), "bge-m3")...),
		ollamatest.WithReply(func(req api.ChatRequest) string {
			if isSummary(req) {
				return `{"memories":[{"text":"Kullanıcı selam verdi ve hal hatır sordu.","tags":["selam"]}]}`
			}
			return "«" + req.Messages[len(req.Messages)-1].Content + "»"
		}))
	env := map[string]string{"DATABASE_URL": dsn, "OLLAMA_HOST": srv.URL(), "CHROMA_URL": "http://" + freeAddr(t),
		"EMBED_MODEL": "bge-m3"}
	code, out, stderr := evo(t, env, "Merhaba\nNasılsın?\n/sleep\n", "chat", "--user", "ayse")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.SplitN(out, "\n", 2)
	if !strings.Contains(lines[0], "«Merhaba»") {
		t.Errorf("first reply = %q, want the model's answer", lines[0])
	}
	if !strings.Contains(out, "Gece işi tamamlanamadı") || !strings.Contains(out, "long-term memory unavailable") {
		t.Errorf("the night must say memory is down: %q", out)
	}
	if got := len(storedMessages(t, dsn, "ayse")); got != 4 {
		t.Errorf("stored messages = %d, want 4", got)
	}
}

// TestNightOnRealOllama runs the day and the night against a real Ollama
// (the tiny generated model, JSON-constrained summary requests, real
// embeddings) and a real Chroma.
func TestNightOnRealOllama(t *testing.T) {
	_, env := realExperts(t)
	env["DATABASE_URL"] = pgtest.NewSchema(t)
	env["CHROMA_URL"] = chromatest.Start(t).URL()
	env["EMBED_MODEL"] = "tiny-base"
	env["SLEEP_TIMEZONE"] = "UTC"
	env["TRAINING_DIR"] = t.TempDir()

	code, out, stderr := evo(t, env, "Merhaba, benim adım Ayşe.\nPython öğreniyorum.\n/sleep\n", "chat", "--user", "ayse")
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	if !strings.Contains(out, "Gece işi tamam") || strings.Contains(out, "özetlenemedi") || strings.Contains(out, "tamamlanamadı") {
		t.Fatalf("the night on a real Ollama:\n%s\nstderr: %s", out, stderr)
	}
	// The next day's message is answered with recall in the loop.
	if code, out, stderr := evo(t, env, "Beni hatırlıyor musun?\n", "chat", "--user", "ayse"); code != 0 || strings.TrimSpace(out) == "" {
		t.Fatalf("exit %d, out %q: %s", code, out, stderr)
	}
}

// isSummary tells the night's summary requests from chat.
func isSummary(req api.ChatRequest) bool {
	return len(req.Messages) > 0 && strings.Contains(req.Messages[0].Content, "gece hafıza düzenleyicisi")
}
