package main

// Helpers for tests that run the real evo binary as a child process: the
// binary is built once per test run, each test gets a rig of its own (a
// private Postgres cluster, the fake Ollama, the fake Bot API behind a
// small proxy, temp folders and a free HTTP port), and assertions read rows
// from Postgres.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/jackc/pgx/v5"
	"github.com/ollama/ollama/api"

	"github.com/evo-tr/evo/bots/telegram/telegramtest"
	"github.com/evo-tr/evo/brain/ollama/ollamatest"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
	"github.com/evo-tr/evo/migrations"
)

// TestMain removes the evo binary built for the process tests and the
// in-process runs' router snapshot.
func TestMain(m *testing.M) {
	code := m.Run()
	if evoBin.dir != "" {
		_ = os.RemoveAll(evoBin.dir)
	}
	if routerCacheDir != "" {
		_ = os.RemoveAll(routerCacheDir)
	}
	os.Exit(code)
}

// evoBin is the binary built once for every process test of this run.
var evoBin struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// raceEnabled reports whether this test binary was built with -race; the
// evo binary is then built with it too, so a race in the child fails its
// exit code (66).
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// evoBinary builds evo (`go build -o DIR/evo .` here in cmd/evo) the first
// time a test asks, and returns its path.
func evoBinary(t *testing.T) string {
	t.Helper()
	evoBin.once.Do(func() {
		evoBin.dir, evoBin.err = os.MkdirTemp("", "evo-bin-")
		if evoBin.err != nil {
			return
		}
		evoBin.path = filepath.Join(evoBin.dir, "evo")
		args := []string{"build", "-o", evoBin.path}
		if raceEnabled() {
			args = append(args, "-race")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", append(args, ".")...)
		evoBin.out, evoBin.err = cmd.CombinedOutput()
		if evoBin.err != nil {
			return
		}
		// Train the shipped router once and leave its snapshot beside the
		// binary: the process tests then start from it, as at a restart,
		// instead of each training at once (under -race, on two cores,
		// several trainings together outlast the tests' 30 s readiness wait).
		warm := exec.CommandContext(ctx, evoBin.path, "route", "warm")
		warm.Env = childEnv(map[string]string{envFileKey: "/dev/null", "EXPERTS_DIR": "../../deploy/experts"})
		if out, err := warm.CombinedOutput(); err != nil {
			evoBin.err, evoBin.out = fmt.Errorf("train the router snapshot: %w", err), out
		}
	})
	if evoBin.err != nil {
		t.Fatalf("build evo: %v\n%s", evoBin.err, evoBin.out)
	}
	return evoBin.path
}

// childEnv is the environment of an evo child: this process's, without any
// key evo reads (so a developer's settings do not leak in), plus env.
func childEnv(env map[string]string) []string {
	drop := map[string]bool{envFileKey: true}
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		drop[t.Field(i).Tag.Get("env")] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	if _, ok := env["ROUTER_CACHE"]; !ok {
		// Beside the binary that made it: shared by the runs of this
		// binary, removed with it, never in the source tree.
		out = append(out, "ROUTER_CACHE="+filepath.Join(evoBin.dir, "router.snapshot"))
	}
	return out
}

// evoProc is `evo serve` running as a child process in its own process
// group. Every run's stderr and stdout go to one log, shown when the test
// fails.
type evoProc struct {
	t    *testing.T
	bin  string
	env  map[string]string
	logs *syncBuffer
	runs int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the current run has exited
	code int           // its exit code, -1 when killed by a signal
}

func newEvoProc(t *testing.T, env map[string]string) *evoProc {
	t.Helper()
	p := &evoProc{t: t, bin: evoBinary(t), env: env, logs: &syncBuffer{}}
	t.Cleanup(func() {
		if p.running() {
			p.kill()
			select {
			case <-p.exited():
			case <-time.After(10 * time.Second):
				t.Errorf("evo (pid %d) did not die on SIGKILL", p.pid())
			}
		}
		if t.Failed() {
			t.Logf("evo serve output (all runs):\n%s", p.logs.String())
		}
	})
	return p
}

// start starts a new run of `evo serve`; the previous one must have exited.
func (p *evoProc) start() {
	p.t.Helper()
	if p.running() {
		p.t.Fatal("evo serve is already running")
	}
	p.runs++
	fmt.Fprintf(p.logs, "===== evo serve, run %d, %s =====\n", p.runs, time.Now().Format(time.TimeOnly))
	cmd := exec.Command(p.bin, "serve")
	cmd.Env = childEnv(p.env)
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start evo serve: %v", err)
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.done, p.code = cmd, done, 0
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode() // -1 when a signal killed it
		} else if err != nil {
			code = -2
		}
		fmt.Fprintf(p.logs, "===== run exited: %v =====\n", cmd.ProcessState)
		p.mu.Lock()
		p.code = code
		p.mu.Unlock()
		close(done)
	}()
}

func (p *evoProc) exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

func (p *evoProc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// running reports whether the current run is still alive.
func (p *evoProc) running() bool {
	done := p.exited()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// signal sends sig to the evo process itself (as `docker stop` does).
func (p *evoProc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := syscall.Kill(p.pid(), sig); err != nil {
		p.t.Fatalf("signal %v to evo: %v", sig, err)
	}
}

// kill is kill -9 of the whole process group.
func (p *evoProc) kill() {
	if pid := p.pid(); pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// wait waits up to d for the current run to exit and returns its exit
// code; it fails the test when the run is still alive after d.
func (p *evoProc) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited():
	case <-time.After(d):
		p.t.Fatalf("evo serve did not exit within %v", d)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.code
}

// exitCode is the exit code of the last run that exited (-1: killed by
// a signal).
func (p *evoProc) exitCode() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.code
}

// stopGracefully sends SIGTERM and checks that the run exits 0 within 30 s.
func (p *evoProc) stopGracefully() {
	p.t.Helper()
	start := time.Now()
	p.signal(syscall.SIGTERM)
	if code := p.wait(30 * time.Second); code != 0 {
		p.t.Errorf("evo serve exited with %d after SIGTERM (in %v), want 0", code, time.Since(start).Round(time.Millisecond))
	}
}

// waitUntil polls cond every 20 ms until it holds (true) or d passes
// (false).
func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// rig is everything one process test runs evo against.
type rig struct {
	t       *testing.T
	db      *pgtest.Cluster
	llm     *ollamatest.Server
	tg      *telegramtest.Server
	proxy   *tgProxy
	http    string // HTTP_ADDR
	spool   string
	evo     *evoProc
	started time.Time
}

// answerTail is the end of every fake answer: long enough that a reply
// streams in several edits at the token delay the tests set.
const answerTail = "bir iki üç dört beş altı yedi sekiz dokuz on, on bir on iki on üç on dört on beş, " +
	"on altı on yedi on sekiz on dokuz yirmi, yirmi bir yirmi iki yirmi üç yirmi dört yirmi beş. Tamam."

// fakeAnswer is the fake Ollama's answer to a chat whose last user message
// is text: it quotes text, so a test can tell which answer is whose.
func fakeAnswer(text string) string { return "Cevap «" + ollamatest.Echo(text) + "»: " + answerTail }

// newRig starts a private cluster, the fakes and (not yet started) evo.
// Extra env entries override the defaults.
func newRig(t *testing.T, extra map[string]string) *rig {
	t.Helper()
	r := &rig{t: t, started: time.Now()}
	r.db = pgtest.NewCluster(t)
	t.Cleanup(func() {
		if t.Failed() {
			r.dumpMessages()
			r.dumpChats()
		}
	})
	r.llm = ollamatest.NewServer(t, ollamatest.WithReply(func(req api.ChatRequest) string {
		return fakeAnswer(ollamatest.LastUser(req))
	}))
	r.tg = telegramtest.NewServer(telegramtest.DefaultToken, "evo_test_bot")
	t.Cleanup(r.tg.Close)
	r.proxy = newTGProxy(t, r.tg)
	r.http = freeAddr(t)
	r.spool = t.TempDir()
	env := map[string]string{
		envFileKey:           "/dev/null",
		"EXPERTS_DIR":        "../../deploy/experts",
		"DATABASE_URL":       r.db.URL(),
		"OLLAMA_HOST":        r.llm.URL(),
		"HTTP_ADDR":          r.http,
		"TELEGRAM_BOT_TOKEN": telegramtest.DefaultToken,
		"TELEGRAM_API_URL":   r.proxy.URL(),
		"TRAINING_DIR":       t.TempDir(),
		"SPOOL_DIR":          r.spool,
		"SLEEP_SCHEDULE":     "off", // an empty value would mean the default schedule
		"SHUTDOWN_TIMEOUT":   "20s",
		"LOG_LEVEL":          "debug",
		"ACCESS_MODE":        "open", // the users here are strangers; access is tested elsewhere
	}
	for k, v := range extra {
		env[k] = v
	}
	r.evo = newEvoProc(t, env)
	return r
}

// fatalf fails the test saying how long it ran.
func (r *rig) fatalf(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("[at %v] "+format, append([]any{time.Since(r.started).Round(time.Millisecond)}, args...)...)
}

// await waits up to d for cond while evo runs; it fails the test when d
// passes or evo exits first.
func (r *rig) await(d time.Duration, what string, cond func() bool) {
	r.t.Helper()
	died := false
	ok := waitUntil(d, func() bool {
		if cond() {
			return true
		}
		died = !r.evo.running()
		return died
	})
	switch {
	case died && !cond():
		r.fatalf("evo serve exited (code %d) while waiting for %s", r.evo.exitCode(), what)
	case !ok:
		r.fatalf("timed out after %v waiting for %s", d, what)
	}
}

// readyz returns /readyz's status code and body; 0 when it does not
// answer.
func (r *rig) readyz() (int, map[string]any) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + r.http + "/readyz")
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// startEvo starts evo and waits until /readyz says every dependency is
// up (Postgres migrated included) and it polls the fake Bot API: a message
// sent earlier could meet a database that is not ready yet.
//
// /readyz's 200 alone is not enough: it can come before evo migrated the
// schema (TestDurabilityStartWithoutPostgres checks that separately), and
// a message arriving then gets the "database down" notice.
func (r *rig) startEvo() {
	r.t.Helper()
	polls := len(r.tg.Calls("getUpdates"))
	r.evo.start()
	r.await(30*time.Second, "evo to answer /readyz 200, migrate the schema and poll getUpdates", func() bool {
		code, _ := r.readyz()
		return code == http.StatusOK && r.migrated() && len(r.tg.Calls("getUpdates")) > polls
	})
}

// migrated reports whether the database is at the newest schema version.
func (r *rig) migrated() bool {
	latest, err := migrations.Latest()
	if err != nil {
		r.t.Fatalf("migrations: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, r.db.URL())
	if err != nil {
		return false
	}
	defer conn.Close(ctx)
	var v int32
	err = conn.QueryRow(ctx, "SELECT version FROM "+migrations.VersionTable).Scan(&v)
	return err == nil && v >= latest
}

// dumpChats logs what the fake Bot API holds in the chats of the test's
// users (ids 100 to 999), for a failed test.
func (r *rig) dumpChats() {
	var b strings.Builder
	for id := int64(100); id < 1000; id++ {
		ms := r.tg.Messages(id)
		if len(ms) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  chat %d:\n", id)
		for _, m := range ms {
			who := "user"
			if m.FromBot {
				who = "bot"
			}
			fmt.Fprintf(&b, "    #%d %s deleted=%v versions=%d at %s: %q\n", m.ID, who, m.Deleted, len(m.Versions),
				m.At[0].Format("15:04:05.000"), m.Visible)
		}
	}
	r.t.Logf("Telegram chats:\n%s", b.String())
}

// dumpMessages logs every stored message, for a failed test.
func (r *rig) dumpMessages() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, r.db.URL())
	if err != nil {
		r.t.Logf("messages table: Postgres unreachable: %v", err)
		return
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT m.id, u.platform_user_id, m.role, m.text, m.ref, m.reply_to, m.failed, m.platform_message_id
		FROM messages m JOIN users u ON u.id = m.user_ref ORDER BY m.id`)
	if err != nil {
		r.t.Logf("messages table: %v", err)
		return
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var (
			id                                  int64
			userID, role, text, ref, to, platID string
			failed                              bool
		)
		if err := rows.Scan(&id, &userID, &role, &text, &ref, &to, &failed, &platID); err != nil {
			r.t.Logf("messages table: %v", err)
			return
		}
		fmt.Fprintf(&b, "  %d user=%s %s ref=%q reply_to=%q failed=%v platform_id=%q: %q\n", id, userID, role, ref, to, failed, platID, text)
	}
	r.t.Logf("messages table:\n%s", b.String())
}

// user is a Telegram user writing to the bot in a private chat.
type user struct {
	models.User
}

func newUser(id int64, name string) user { return user{models.User{ID: id, FirstName: name}} }

func (u user) message(text string) models.Message {
	return models.Message{Chat: models.Chat{ID: u.ID, Type: models.ChatTypePrivate}, From: &u.User, Text: text}
}

// say posts text from u through the fake Bot API.
func (r *rig) say(u user, text string) models.Message {
	return r.tg.Post(u.message(text))
}

// answers are the bot's live messages in u's chat that quote text.
func (r *rig) answers(u user, text string) []telegramtest.Message {
	var out []telegramtest.Message
	for _, m := range r.tg.BotMessages(u.ID) {
		if strings.Contains(m.Visible, "«"+ollamatest.Echo(text)+"»") {
			out = append(out, m)
		}
	}
	return out
}

// answered reports whether the bot's last message that quotes text shows
// the whole fake answer.
func (r *rig) answered(u user, text string) bool {
	a := r.answers(u, text)
	return len(a) > 0 && strings.TrimSpace(a[len(a)-1].Visible) == fakeAnswer(text)
}

// fetchedSince reports whether evo has certainly received what was queued
// before since: two getUpdates requests began after it (the first may be
// the one that carries it).
func (r *rig) fetchedSince(since time.Time) bool {
	n := 0
	for _, c := range r.tg.Calls("getUpdates") {
		if c.At.After(since) {
			n++
		}
	}
	return n >= 2
}

// rows counts the stored user messages whose text is text; -1 on an
// error (Postgres down, no table yet).
func (r *rig) rows(text string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, r.db.URL())
	if err != nil {
		return -1
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM messages WHERE role = 'user' AND text = $1", text).Scan(&n); err != nil {
		return -1
	}
	return n
}

// storedAnswers are the texts of the stored answers that quote text.
func (r *rig) storedAnswers(text string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, r.db.URL())
	if err != nil {
		return nil
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT text FROM messages WHERE role = 'assistant' AND strpos(text, $1) > 0 ORDER BY id",
		"«"+ollamatest.Echo(text)+"»")
	if err != nil {
		return nil
	}
	out, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	return out
}

// replies counts the stored assistant messages that reply to the user
// message text (reply_to names its ref), whatever they say: an answer, or
// a notice such as "the database is down". -1 on an error.
func (r *rig) replies(text string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, r.db.URL())
	if err != nil {
		return -1
	}
	defer conn.Close(ctx)
	var n int
	// A ref is unique within its chat only.
	err = conn.QueryRow(ctx, `SELECT count(*) FROM messages a JOIN messages u
		ON a.chat_ref = u.chat_ref AND a.reply_to = u.ref
		WHERE a.role = 'assistant' AND u.role = 'user' AND u.text = $1 AND u.ref <> ''`, text).Scan(&n)
	if err != nil {
		return -1
	}
	return n
}

// expectStoredOnce checks, once evo has exited, that each text is stored
// once as a user message, with one stored reply of any kind.
func (r *rig) expectStoredOnce(texts ...string) {
	r.t.Helper()
	for _, text := range texts {
		if n := r.rows(text); n != 1 {
			r.t.Errorf("user message %q: %d rows in Postgres, want 1", text, n)
		}
		if n := r.replies(text); n != 1 {
			r.t.Errorf("replies to %q: %d assistant rows in Postgres naming it in reply_to, want 1", text, n)
		}
	}
}

// expectAnsweredOnce checks, once evo has exited, that each text is
// stored once, answered once with the model's whole answer, stored once,
// and shown once on Telegram.
func (r *rig) expectAnsweredOnce(u user, texts ...string) {
	r.t.Helper()
	r.expectStoredOnce(texts...)
	for _, text := range texts {
		if got := r.storedAnswers(text); len(got) != 1 || got[0] != fakeAnswer(text) {
			r.t.Errorf("stored answers to %q = %q, want the whole answer once", text, got)
		}
		if n := len(r.answers(u, text)); n != 1 {
			r.t.Errorf("answer to %q: %d bot messages on Telegram, want 1", text, n)
		}
	}
}

// tgProxy stands between evo and the fake Bot API. It passes everything
// through, remembers every update getUpdates returned, and can hand one
// back again, with its update_id, in the next getUpdates answer: a
// redelivery as Telegram makes when an offset was not confirmed.
type tgProxy struct {
	srv *httptest.Server

	mu        sync.Mutex
	seen      map[int64]json.RawMessage
	redeliver []int64
	delivered []time.Time // when each redelivery left the proxy
}

func newTGProxy(t *testing.T, tg *telegramtest.Server) *tgProxy {
	target, err := url.Parse(tg.URL())
	if err != nil {
		t.Fatal(err)
	}
	p := &tgProxy{seen: map[int64]json.RawMessage{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = p.modify
	// evo's long polls are cut when it stops: no need to log that.
	rp.ErrorLog = log.New(io.Discard, "", 0)
	p.srv = httptest.NewServer(rp)
	t.Cleanup(func() {
		p.srv.CloseClientConnections()
		p.srv.Close()
	})
	return p
}

func (p *tgProxy) URL() string { return p.srv.URL }

// Redeliver makes the next getUpdates answer start with the update id
// again (it must have been delivered once).
func (p *tgProxy) Redeliver(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.redeliver = append(p.redeliver, id)
}

// Redelivered is when each redelivery left the proxy, oldest first.
func (p *tgProxy) Redelivered() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.delivered...)
}

func (p *tgProxy) modify(resp *http.Response) error {
	if !strings.HasSuffix(resp.Request.URL.Path, "/getUpdates") || resp.StatusCode != http.StatusOK {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var a struct {
		OK     bool              `json:"ok"`
		Result []json.RawMessage `json:"result"`
	}
	if json.Unmarshal(body, &a) == nil && a.OK {
		p.mu.Lock()
		for _, raw := range a.Result {
			var head struct {
				ID int64 `json:"update_id"`
			}
			if json.Unmarshal(raw, &head) == nil {
				p.seen[head.ID] = raw
			}
		}
		var again []json.RawMessage
		keep := p.redeliver[:0]
		for _, id := range p.redeliver {
			if raw, ok := p.seen[id]; ok {
				again = append(again, raw)
				p.delivered = append(p.delivered, time.Now())
			} else {
				keep = append(keep, id)
			}
		}
		p.redeliver = keep
		p.mu.Unlock()
		if len(again) > 0 {
			a.Result = append(again, a.Result...)
			if b, err := json.Marshal(a); err == nil {
				body = b
			}
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}
