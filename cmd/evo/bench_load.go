package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/evo-tr/evo/bots/discord/discordtest"
)

// loadResult is what the message load measured.
type loadResult struct {
	overhead []time.Duration
	answered int
	wall     time.Duration
}

// replyWatch sits between the bot and the fake Discord (a reverse proxy
// on the REST API; the gateway goes straight to the fake) and tells each
// user when the bot's message in their channel carries the full reply:
// the tag, the reply's last token. It costs the bot one loopback hop per
// REST call.
type replyWatch struct {
	srv *httptest.Server

	mu      sync.Mutex
	waiting map[string]watchEntry // by channel id
}

type watchEntry struct {
	tag  string
	done chan time.Time
}

func newReplyWatch(target string) (*replyWatch, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	w := &replyWatch{waiting: map[string]watchEntry{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	// The load generator's own hop must not dial per request either.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 1024
	proxy.Transport = tr
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodPost || r.Method == http.MethodPatch) && strings.HasPrefix(r.URL.Path, "/api/v9/channels/") &&
			strings.Contains(r.Header.Get("Content-Type"), "json") {
			body, err := io.ReadAll(r.Body)
			if err == nil {
				r.Body = io.NopCloser(bytes.NewReader(body))
				w.saw(r.URL.Path, body)
			}
		}
		proxy.ServeHTTP(rw, r)
	}))
	return w, nil
}

// saw checks a message create or edit for a waited-for tag.
func (w *replyWatch) saw(path string, body []byte) {
	at := time.Now()
	parts := strings.Split(strings.TrimPrefix(path, "/api/v9/channels/"), "/")
	if len(parts) < 2 || parts[1] != "messages" {
		return
	}
	var msg struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(body, &msg) != nil || msg.Content == "" {
		return
	}
	w.mu.Lock()
	e, ok := w.waiting[parts[0]]
	if ok && strings.Contains(msg.Content, e.tag) {
		delete(w.waiting, parts[0])
	} else {
		ok = false
	}
	w.mu.Unlock()
	if ok {
		e.done <- at
	}
}

// expect registers the tag the next reply in channel must carry.
func (w *replyWatch) expect(channel, tag string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	w.mu.Lock()
	w.waiting[channel] = watchEntry{tag: tag, done: ch}
	w.mu.Unlock()
	return ch
}

func (w *replyWatch) Close() { w.srv.Close() }

// benchDiscord is the fake Discord with the bot, one guild and a channel
// per user.
type benchDiscord struct {
	dc       *discordtest.Server
	watch    *replyWatch
	token    string
	bot      discordtest.User
	channels []discordtest.Channel
	users    []discordtest.User
}

func newBenchDiscord(users int) (*benchDiscord, error) {
	dc := discordtest.New(discordtest.Options{HeartbeatInterval: 10 * time.Second, NoEcho: true})
	w, err := newReplyWatch(dc.URL)
	if err != nil {
		dc.Close()
		return nil, err
	}
	b := &benchDiscord{dc: dc, watch: w, token: "evo-bench-token"}
	b.bot = discordtest.User{ID: dc.NewID(), Username: "evo", GlobalName: "EVO", Bot: true}
	dc.AddBot(b.token, b.bot)
	guild := dc.NewID()
	for i := 0; i <= users; i++ { // the last one warms up
		c := discordtest.Channel{ID: dc.NewID(), Type: discordtest.ChannelGuildText, GuildID: guild, Name: fmt.Sprintf("bench-%d", i), Bot: b.token}
		dc.AddChannel(c)
		b.channels = append(b.channels, c)
		b.users = append(b.users, discordtest.User{ID: dc.NewID(), Username: fmt.Sprintf("kullanici%d", i)})
	}
	return b, nil
}

func (b *benchDiscord) Close() {
	b.watch.Close()
	b.dc.Close()
}

// connected waits for the bot's gateway session.
func (b *benchDiscord) connected(ctx context.Context) error {
	_, err := b.dc.Wait(ctx, func(v discordtest.View) bool {
		s, ok := v.Sessions[b.token]
		return ok && s.Connected && s.Identifies > 0
	})
	return err
}

// benchQuestions are what the users ask, in turn.
var benchQuestions = []string{
	"Python'da bir listeyi nasıl ters çeviririm?",
	"Yarın için kısa bir yapılacaklar listesi hazırlar mısın?",
	"Bu cümleyi İngilizceye çevir: bugün hava çok güzel.",
	"SQL'de iki tabloyu nasıl birleştiririm?",
	"Bana kısa bir masal anlatır mısın?",
	"Go'da goroutine ile kanal arasındaki fark ne?",
	"Bir dakikada nasıl sakinleşebilirim?",
	"Türkiye'nin en uzun nehri hangisi?",
}

// ask posts user i's message and waits for the reply's full text.
func (b *benchDiscord) ask(ctx context.Context, i, m int) (string, time.Duration, error) {
	tag := fmt.Sprintf("b%dx%d", i, m)
	c, u := b.channels[i], b.users[i]
	text := fmt.Sprintf("<@%s> %s %s", b.bot.ID, benchQuestions[(i+m)%len(benchQuestions)], tag)
	done := b.watch.expect(c.ID, tag)
	start := time.Now()
	if _, err := b.dc.Post(discordtest.Post{ChannelID: c.ID, Author: u, Content: text, Mentions: []discordtest.User{b.bot}}); err != nil {
		return tag, 0, err
	}
	select {
	case at := <-done:
		return tag, at.Sub(start), nil
	case <-ctx.Done():
		return tag, 0, fmt.Errorf("no reply to %s: %w", tag, ctx.Err())
	}
}

// runLoad sends messages messages from each of users concurrent users,
// each waiting for its reply before the next, and measures each
// message's time minus the model's own.
func runLoad(ctx context.Context, b *benchDiscord, llm *benchOllama, users, messages int) (loadResult, error) {
	// One warm-up message (not counted): the first reply pays for lazy set-up.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, _, err := b.ask(wctx, users, 0)
	cancel()
	if err != nil {
		return loadResult{}, fmt.Errorf("warm-up: %w", err)
	}
	var (
		mu   sync.Mutex
		res  loadResult
		errs []error
		wg   sync.WaitGroup
	)
	start := time.Now()
	for i := 0; i < users; i++ {
		wg.Go(func() {
			for m := 0; m < messages; m++ {
				mctx, cancel := context.WithTimeout(ctx, 60*time.Second)
				tag, d, err := b.ask(mctx, i, m)
				cancel()
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					res.answered++
					res.overhead = append(res.overhead, max(0, d-llm.took(tag)))
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	res.wall = time.Since(start)
	if len(errs) > 0 {
		return res, fmt.Errorf("%d of %d users stopped: %w", len(errs), users, errors.Join(errs[:min(3, len(errs))]...))
	}
	return res, nil
}
