package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/evo-tr/evo/brain"
)

// recTarget is a hand-written target that records what a reply does.
type recTarget struct {
	mu       sync.Mutex
	ops      []string
	msgs     map[string]string
	order    []string
	next     int
	failSend int // fail sends of this part index (-1: never)
	// ph is the placeholder's id, "" for none; the first send reuses it,
	// as an interaction's deferred response becomes its first part.
	ph string
}

func newRecTarget() *recTarget { return &recTarget{msgs: map[string]string{}, failSend: -1} }

func (r *recTarget) start(context.Context) error { return nil }

func (r *recTarget) typing(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, "typing")
	return nil
}

func (r *recTarget) send(_ context.Context, i int, content string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i == r.failSend {
		return "", errors.New("403: Missing Permissions")
	}
	r.next++
	id := fmt.Sprint(r.next)
	if i == 0 && r.ph != "" {
		id = r.ph
	}
	r.msgs[id] = content
	r.order = append(r.order, id)
	r.ops = append(r.ops, fmt.Sprintf("send %d", i))
	return id, nil
}

func (r *recTarget) edit(_ context.Context, id, content string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.msgs[id]; !ok {
		return errors.New("404: Unknown Message")
	}
	r.msgs[id] = content
	r.ops = append(r.ops, "edit "+id)
	return nil
}

func (r *recTarget) remove(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.msgs, id)
	r.order = slices.DeleteFunc(r.order, func(o string) bool { return o == id })
	r.ops = append(r.ops, "remove "+id)
	return nil
}

func (r *recTarget) placeholder() string { return r.ph }

// log returns the operations so far.
func (r *recTarget) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops)
}

// shown returns the live messages' contents in order.
func (r *recTarget) shown() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, id := range r.order {
		out = append(out, r.msgs[id])
	}
	return out
}

func testConfig() Config {
	return Config{EditInterval: 10 * time.Millisecond, TypingInterval: time.Hour, MaxParts: 4}
}

// runReply feeds deltas and a final text to a reply and waits for it.
func runReply(t *testing.T, cfg Config, out target, deltas []string, final string) {
	t.Helper()
	r := newReply(cfg, out, discardLogger())
	done := make(chan struct{})
	go func() { r.run(context.Background()); close(done) }()
	for _, d := range deltas {
		r.Delta(d)
		time.Sleep(15 * time.Millisecond)
	}
	r.Done(brain.Reply{Kind: brain.ReplyAnswer, Text: final})
	r.Done(brain.Reply{Kind: brain.ReplyAnswer, Text: "ikinci Done yok sayılır"})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("reply did not finish")
	}
}

func TestReplyFinalText(t *testing.T) {
	long := strings.Repeat("kelime ", 2000) // 14000 characters: more than MaxParts
	tests := []struct {
		name   string
		deltas []string
		final  string
		check  func(t *testing.T, shown []string)
	}{
		{
			name: "short answer", deltas: []string{"Mer", "haba"}, final: "Merhaba!",
			check: func(t *testing.T, shown []string) {
				if !slices.Equal(shown, []string{"Merhaba!"}) {
					t.Errorf("shown %q, want [Merhaba!]", shown)
				}
			},
		},
		{
			name: "empty answer gets a Turkish notice", deltas: nil, final: " \n ",
			check: func(t *testing.T, shown []string) {
				if !slices.Equal(shown, []string{msgNoAnswer}) {
					t.Errorf("shown %q, want the no-answer notice", shown)
				}
			},
		},
		{
			name: "huge answer is capped", deltas: []string{long[:5000], long[5000:]}, final: long,
			check: func(t *testing.T, shown []string) {
				if len(shown) != 4 || shown[3] != msgTruncated {
					t.Fatalf("shown %d parts ending %q, want 4 ending with the truncation notice", len(shown), shown[len(shown)-1])
				}
				for i, p := range shown {
					if n := utf8.RuneCountInString(p); n > MaxMessageLen {
						t.Errorf("part %d has %d characters", i, n)
					}
				}
			},
		},
		{
			name: "final longer than the stream", deltas: []string{"kısa"}, final: strings.Repeat("b ", 1500),
			check: func(t *testing.T, shown []string) {
				if len(shown) != 2 || strings.Join(shown, "") != strings.Repeat("b ", 1500) {
					t.Errorf("shown %d parts, want the final text in 2", len(shown))
				}
			},
		},
		{
			name: "invalid UTF-8 survives", deltas: []string{"a\xff"}, final: "a\xffb",
			check: func(t *testing.T, shown []string) {
				if !slices.Equal(shown, []string{"a\xffb"}) {
					t.Errorf("shown %q", shown)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := newRecTarget()
			runReply(t, testConfig(), out, tt.deltas, tt.final)
			tt.check(t, out.shown())
		})
	}
}

func TestReplyStopsOnSendFailure(t *testing.T) {
	out := newRecTarget()
	out.failSend = 1
	runReply(t, testConfig(), out, nil, strings.Repeat("c ", 1500))
	if got := out.shown(); len(got) != 1 {
		t.Errorf("shown %d parts, want the first only after the second failed", len(got))
	}
}

func TestReplyStopsWithContext(t *testing.T) {
	out := newRecTarget()
	r := newReply(testConfig(), out, discardLogger())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.run(ctx); close(done) }()
	r.Delta("yarım")
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop when its context ended")
	}
	r.Done(brain.Reply{Text: "geç"}) // must not block
}

// panicTarget fails like a library bug would.
type panicTarget struct{ *recTarget }

func (p *panicTarget) send(context.Context, int, string) (string, error) { panic("boom") }

func TestPanicInReplyIsContained(t *testing.T) {
	logs := &lockedBuffer{}
	b, err := New(Config{Token: "x"}, &fakeBrain{answer: echo}, slog.New(slog.NewTextHandler(logs, nil)), fixedClock{testTime})
	if err != nil {
		t.Fatal(err)
	}
	b.submit(context.Background(), brain.Message{Text: "selam"}, &panicTarget{newRecTarget()})
	b.replies.Wait()
	if !strings.Contains(logs.String(), "panic") {
		t.Errorf("log = %q, want the panic reported", logs.String())
	}
}

func TestReplyNoneShowsNothing(t *testing.T) {
	long := strings.Repeat("düşünüyorum ", 200) // two parts
	tests := []struct {
		name        string
		placeholder string
		deltas      []string
		// wantShown is how many messages must show before Done.
		wantShown  int
		wantRemove []string
	}{
		{name: "nothing streamed", wantRemove: nil},
		{name: "streamed part removed", deltas: []string{"Düşünü", "yorum"}, wantShown: 1, wantRemove: []string{"remove 1"}},
		{name: "streamed parts removed", deltas: []string{long}, wantShown: 2, wantRemove: []string{"remove 1", "remove 2"}},
		{name: "placeholder removed", placeholder: "@ph", wantRemove: []string{"remove @ph"}},
		{name: "placeholder that became the first part removed once", placeholder: "@ph", deltas: []string{"Düşünü"},
			wantShown: 1, wantRemove: []string{"remove @ph"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := newRecTarget()
			out.ph = tt.placeholder
			r := newReply(testConfig(), out, discardLogger())
			done := make(chan struct{})
			go func() { r.run(context.Background()); close(done) }()
			for _, d := range tt.deltas {
				r.Delta(d)
			}
			waitFor(t, fmt.Sprintf("%d messages show", tt.wantShown), func() bool {
				return len(out.shown()) == tt.wantShown && (tt.wantShown == 0 || out.shown()[tt.wantShown-1] != "")
			})
			if tt.wantShown > 0 {
				want := strings.Join(tt.deltas, "")
				waitFor(t, "the stream shows", func() bool { return strings.Join(out.shown(), "") == want })
			}
			r.Done(brain.Reply{Kind: brain.ReplyNone})
			waitClosed(t, "the reply finishes", done)
			if got := out.shown(); len(got) != 0 {
				t.Errorf("shown %q after ReplyNone, want nothing", got)
			}
			var removes []string
			sends := 0
			for _, op := range out.log() {
				switch {
				case strings.HasPrefix(op, "remove "):
					removes = append(removes, op)
				case strings.HasPrefix(op, "send "):
					sends++
				}
			}
			if !slices.Equal(removes, tt.wantRemove) {
				t.Errorf("removes = %q, want %q", removes, tt.wantRemove)
			}
			if sends != tt.wantShown {
				t.Errorf("sent %d messages, want %d (the streamed ones only)", sends, tt.wantShown)
			}
		})
	}
}
