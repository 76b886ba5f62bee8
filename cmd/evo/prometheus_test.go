package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/ollama/ollama/api"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/evo-tr/evo/bots/discord/discordtest"
	"github.com/evo-tr/evo/bots/telegram/telegramtest"
	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/brain/ollama/ollamatest"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

// promJob is the scrape job the test's Prometheus scrapes evo serve in.
const promJob = "evo"

// promFamilies are the series names evo serve must hand Prometheus
// (histograms as their _bucket, _sum and _count series).
var promFamilies = func() []string {
	names := []string{"evo_messages_total", "evo_replies_total", "evo_router_decisions_total",
		"evo_recall_failures_total", "evo_night_runs_total", "evo_pending_messages"}
	for _, h := range []string{"evo_reply_seconds", "evo_first_token_seconds", "evo_route_confidence",
		"evo_stage_seconds", "evo_night_seconds"} {
		names = append(names, h+"_bucket", h+"_sum", h+"_count")
	}
	return names
}()

// promLabels are the label names of the labelled families (job and
// instance, which Prometheus adds, and a histogram's le left out).
var promLabels = map[string][]string{
	"evo_messages_total":         {"platform", "role"},
	"evo_replies_total":          {"expert", "outcome"},
	"evo_router_decisions_total": {"kind"},
	"evo_stage_seconds_count":    {"stage"},
	"evo_night_runs_total":       {"outcome"},
}

// TestPrometheusScrapesServe has a real Prometheus (built by
// .ci/prometheus.sh) scrape `evo serve` every second while users talk on
// the fake Telegram and the fake Discord (the fake Ollama answers, the
// real Postgres keeps) and an admin runs the night: Prometheus holds every
// series family, the Go runtime's and the process's too, with the values
// /metrics shows; promtool finds nothing to lint in /metrics; /readyz is
// 200. It fails, never skips, when Prometheus cannot be built.
func TestPrometheusScrapesServe(t *testing.T) {
	promBin, promtool := prometheusBinaries(t)

	dsn := pgtest.NewSchema(t)
	llm := ollamatest.NewServer(t, ollamatest.WithReply(func(req api.ChatRequest) string {
		if isSummary(req) {
			return `{"memories":[{"text":"Kullanıcı selam verdi.","tags":["selam"]}]}`
		}
		return "«" + req.Messages[len(req.Messages)-1].Content + "»"
	}))
	tg := telegramtest.NewServer(telegramtest.DefaultToken, "evo_test_bot")
	t.Cleanup(tg.Close)
	dc, botUser, channel := discordGuild(t)
	httpAddr := freeAddr(t)
	serveInProcess(t, map[string]string{envFileKey: "/dev/null", "EXPERTS_DIR": "../../deploy/experts",
		"DATABASE_URL": dsn, "OLLAMA_HOST": llm.URL(), "HTTP_ADDR": httpAddr,
		"TELEGRAM_BOT_TOKEN": telegramtest.DefaultToken, "TELEGRAM_API_URL": tg.URL(), "TELEGRAM_ADMIN_IDS": "99",
		"DISCORD_BOT_TOKEN": discordToken, "DISCORD_API_URL": dc.URL,
		"TRAINING_DIR": t.TempDir(), "SPOOL_DIR": t.TempDir(), "ACCESS_MODE": "open",
		"SLEEP_SCHEDULE": "off", "SLEEP_TIMEZONE": "UTC", "CHROMA_URL": ""})
	base := "http://" + httpAddr
	// Training the router at start takes a while under -race.
	if !waitUntil(2*time.Minute, func() bool { code, _ := getJSON(base + "/readyz"); return code == http.StatusOK }) {
		code, body := getJSON(base + "/readyz")
		t.Fatalf("/readyz = %d %v, want 200", code, body)
	}

	// Prometheus scrapes from before the first message to after the night.
	prom := startPrometheus(t, promBin, httpAddr)

	// Users talk: three Telegram messages from two people, two Discord
	// mentions.
	tgSay := func(u models.User, text, want string) {
		t.Helper()
		before := len(tg.BotMessages(u.ID))
		tg.Post(models.Message{Chat: models.Chat{ID: u.ID, Type: models.ChatTypePrivate}, From: &u, Text: text})
		if !waitUntil(time.Minute, func() bool {
			msgs := tg.BotMessages(u.ID)
			return slices.ContainsFunc(msgs[min(before, len(msgs)):], func(m telegramtest.Message) bool {
				return strings.Contains(m.Visible, want)
			})
		}) {
			t.Fatalf("no Telegram reply to %q saying %q: %q", text, want, visibles(tg.BotMessages(u.ID)))
		}
	}
	ayse := models.User{ID: 42, FirstName: "Ayşe"}
	mehmet := models.User{ID: 43, FirstName: "Mehmet"}
	tgSay(ayse, "Merhaba EVO", "«Merhaba EVO»")
	tgSay(mehmet, "Python'da bir listeyi nasıl ters çeviririm?", "«Python'da bir listeyi nasıl ters çeviririm?»")
	tgSay(ayse, "Bana İstanbul hakkında kısa bir şiir yazar mısın?", "«Bana İstanbul hakkında kısa bir şiir yazar mısın?»")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := dc.Wait(ctx, func(v discordtest.View) bool { return v.Sessions[discordToken].Connected }); err != nil {
		t.Fatalf("the Discord bot did not connect: %v", err)
	}
	zeynep := discordtest.User{ID: dc.NewID(), Username: "zeynep"}
	for _, text := range []string{"selam, nasılsın?", "bugün hava nasıl?"} {
		if _, err := dc.Post(discordtest.Post{ChannelID: channel.ID, Author: zeynep,
			Content: "<@" + botUser.ID + "> " + text, Mentions: []discordtest.User{botUser}}); err != nil {
			t.Fatal(err)
		}
		if _, err := dc.Wait(ctx, func(v discordtest.View) bool {
			return slices.ContainsFunc(v.Messages, func(m discordtest.Message) bool {
				return m.Author.ID == botUser.ID && strings.Contains(m.Content, "«"+text+"»")
			})
		}); err != nil {
			t.Fatalf("no Discord reply to %q: %v", text, err)
		}
	}

	// A night runs: the admin's /sleep over today.
	boss := models.User{ID: 99, FirstName: "Yönetici"}
	tgSay(boss, "/sleep", "Gece işi tamam")

	// Prometheus catches up: every family is there, the target is up, and
	// each evo_ counter, gauge and histogram count and sum it holds is the
	// one /metrics shows (the replies are stored a moment after they are
	// on screen: the loop waits for those too).
	want := map[string]float64{ // at least
		`evo_messages_total{platform="telegram", role="user"}`:      3,
		`evo_messages_total{platform="telegram", role="assistant"}`: 3,
		`evo_messages_total{platform="discord", role="user"}`:       2,
		`evo_messages_total{platform="discord", role="assistant"}`:  2,
		`evo_reply_seconds_count`:                                   5,
		`evo_first_token_seconds_count`:                             5,
		`evo_route_confidence_count`:                                1,
		`evo_stage_seconds_count{stage="reply_stored"}`:             5,
		`evo_night_runs_total{outcome="ok"}`:                        1,
		`evo_night_seconds_count`:                                   1,
	}
	var problem string
	ok := waitUntil(2*time.Minute, func() bool {
		problem = prom.check(base, want)
		return problem == ""
	})
	if !ok {
		t.Fatalf("Prometheus at %s: %s", prom.url, problem) // its log follows
	}
	names, err := prom.names()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Prometheus holds %d series names from job %q", len(names), promJob)

	// promtool lints the page Prometheus scraped.
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: HTTP %d, %v", resp.StatusCode, err)
	}
	lintCmd := exec.Command(promtool, "check", "metrics")
	lintCmd.Stdin = bytes.NewReader(page)
	if out, err := lintCmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	if code, body := getJSON(base + "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d %v, want 200", code, body)
	}
}

// prometheusBinaries returns the real Prometheus server and promtool,
// building them with .ci/prometheus.sh when they are not built yet (once;
// minutes). The test fails when they cannot be had.
func prometheusBinaries(t *testing.T) (prom, promtool string) {
	t.Helper()
	prom = braintest.CIPath(t, "prometheus.sh", "real Prometheus server (run .ci/prometheus.sh or make services)")
	promtool = filepath.Join(filepath.Dir(prom), "promtool")
	if st, err := os.Stat(promtool); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		t.Fatalf("no promtool next to %s (%v): run .ci/prometheus.sh (or make services)", prom, err)
	}
	return prom, promtool
}

// promServer is a running real Prometheus.
type promServer struct {
	url string // http://127.0.0.1:PORT
	log *syncBuffer
}

// startPrometheus starts Prometheus on a free loopback port, scraping
// target's /metrics every second in job promJob, with its storage in a
// temporary folder, and stops it when the test ends.
func startPrometheus(t *testing.T, bin, target string) *promServer {
	t.Helper()
	dir := t.TempDir()
	config := filepath.Join(dir, "prometheus.yml")
	err := os.WriteFile(config, fmt.Appendf(nil, `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: %s
    metrics_path: /metrics
    static_configs:
      - targets: [%q]
`, promJob, target), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ { // a port taken between choosing and binding: another
		addr := freeAddr(t)
		p := &promServer{url: "http://" + addr, log: &syncBuffer{}}
		cmd := exec.Command(bin, "--config.file="+config,
			"--storage.tsdb.path="+filepath.Join(dir, "data"+strconv.Itoa(attempt)),
			"--web.listen-address="+addr, "--log.level=info")
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = p.log, p.log
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		exited := make(chan struct{})
		var waitErr error
		go func() { waitErr = cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			select {
			case <-exited:
				return
			default:
			}
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		})
		c := http.Client{Timeout: 2 * time.Second}
		ready := waitUntil(time.Minute, func() bool {
			select {
			case <-exited:
				return true
			default:
			}
			resp, err := c.Get(p.url + "/-/ready")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		select {
		case <-exited:
			if attempt < 2 && strings.Contains(p.log.String(), "address already in use") {
				continue
			}
			t.Fatalf("prometheus exited at start: %v\n%s", waitErr, braintest.Tail(p.log.String(), 4000))
		default:
		}
		if !ready {
			t.Fatalf("prometheus at %s is not ready after a minute\n%s", p.url, braintest.Tail(p.log.String(), 4000))
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("prometheus log:\n%s", braintest.Tail(p.log.String(), 8000))
			}
		})
		return p
	}
}

// api GETs a Prometheus HTTP API path and decodes its data into v.
func (p *promServer) api(path string, q url.Values, v any) error {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(p.url + path + "?" + q.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("%s: HTTP %d: %w", path, resp.StatusCode, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("%s: %s: %s", path, body.ErrorType, body.Error)
	}
	return json.Unmarshal(body.Data, v)
}

// names lists the series names Prometheus holds from job promJob.
func (p *promServer) names() ([]string, error) {
	var names []string
	err := p.api("/api/v1/label/__name__/values", url.Values{"match[]": {`{job="` + promJob + `"}`}}, &names)
	return names, err
}

// promSample is one series of an instant vector.
type promSample struct {
	labels model.Metric // __name__ and the series' own labels: job and instance dropped
	value  float64
}

// query evaluates an instant vector query now, by series (the key is
// the series as model.Metric.String writes it).
func (p *promServer) query(q string) (map[string]promSample, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric model.Metric `json:"metric"`
			Value  [2]any       `json:"value"`
		} `json:"result"`
	}
	if err := p.api("/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %s, want vector", q, data.ResultType)
	}
	out := map[string]promSample{}
	for _, r := range data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v: %w", q, r.Value[1], err)
		}
		delete(r.Metric, "job")
		delete(r.Metric, "instance")
		out[r.Metric.String()] = promSample{labels: r.Metric, value: v}
	}
	return out, nil
}

// check says what Prometheus lacks, "" for nothing: a series family, a Go
// runtime or process series, up == 1, the label names of promLabels, a
// value of want (at least), or an evo_ value /metrics at base shows now.
func (p *promServer) check(base string, want map[string]float64) string {
	names, err := p.names()
	if err != nil {
		return err.Error()
	}
	var missing []string
	for _, n := range promFamilies {
		if !slices.Contains(names, n) {
			missing = append(missing, n)
		}
	}
	for _, prefix := range []string{"go_", "process_"} {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, prefix) }) {
			missing = append(missing, prefix+"*")
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("no series %s (it has %v)", strings.Join(missing, ", "), names)
	}
	up, err := p.query(`up{job="` + promJob + `"}`)
	if err != nil {
		return err.Error()
	}
	if s, ok := up["up"]; !ok || s.value != 1 || len(up) != 1 {
		return fmt.Sprintf("up = %v, want one target, up", up)
	}
	got, err := p.query(`{job="` + promJob + `", __name__=~"evo_.+", __name__!~".+_bucket"}`)
	if err != nil {
		return err.Error()
	}
	for _, s := range got {
		name := string(s.labels[model.MetricNameLabel])
		wantLabels, ok := promLabels[name]
		if !ok {
			continue
		}
		var have []string
		for l := range s.labels {
			if l != model.MetricNameLabel {
				have = append(have, string(l))
			}
		}
		slices.Sort(have)
		if !slices.Equal(have, wantLabels) {
			return fmt.Sprintf("%s has labels %v, want %v", s.labels, have, wantLabels)
		}
	}
	for k, least := range want {
		if got[k].value < least {
			return fmt.Sprintf("%s = %v, want at least %v", k, got[k].value, least)
		}
	}
	shown, err := metricsNow(base)
	if err != nil {
		return err.Error()
	}
	for k, v := range shown {
		if g, ok := got[k]; !ok || g.value != v {
			return fmt.Sprintf("%s: Prometheus has %v (held: %t), /metrics shows %v", k, g.value, ok, v)
		}
	}
	return ""
}

// metricsNow GETs /metrics at base and returns its evo_ counters' and
// gauges' values and its histograms' counts and sums, keyed as query keys
// Prometheus's series.
func metricsNow(base string) (map[string]float64, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	fams, err := parseExposition(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for name, f := range fams {
		if !strings.HasPrefix(name, "evo_") {
			continue
		}
		for _, m := range f.GetMetric() {
			key := func(n string) string {
				lm := model.Metric{model.MetricNameLabel: model.LabelValue(n)}
				for _, l := range m.GetLabel() {
					lm[model.LabelName(l.GetName())] = model.LabelValue(l.GetValue())
				}
				return lm.String()
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key(name)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key(name)] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key(name+"_count")] = float64(m.GetHistogram().GetSampleCount())
				out[key(name+"_sum")] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out, nil
}
