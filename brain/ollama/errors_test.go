package ollama

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/ollama/ollama/api"

	"github.com/evo-tr/evo/brain"
)

func TestWrap(t *testing.T) {
	base, _ := url.Parse("http://user:secret@127.0.0.1:11434")
	c := New(base, nil, Options{}, nil)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name   string
		ctx    context.Context
		model  string
		err    error
		wantIs []error
		notIs  []error
		text   string
	}{
		{name: "404 status", model: "tr_chat",
			err:    api.StatusError{StatusCode: 404, Status: "404 Not Found", ErrorMessage: `model "tr_chat" not found, try pulling it first`},
			wantIs: []error{brain.ErrModelNotFound}, text: `model "tr_chat" not found`},
		{name: "not-found error line", model: "tr_chat", err: errors.New(`model "tr_chat" not found, try pulling it first`),
			wantIs: []error{brain.ErrModelNotFound}},
		{name: "404 without a model is not a missing model", model: "",
			err:   api.StatusError{StatusCode: 404, ErrorMessage: "404 page not found"},
			notIs: []error{brain.ErrModelNotFound, brain.ErrModelUnavailable}},
		{name: "connection refused", model: "tr_chat", err: &url.Error{Op: "Post", URL: "x", Err: dial},
			wantIs: []error{brain.ErrModelUnavailable}, text: "127.0.0.1:11434"},
		{name: "bare ECONNREFUSED", err: fmt.Errorf("x: %w", syscall.ECONNREFUSED), wantIs: []error{brain.ErrModelUnavailable}},
		{name: "DNS failure", err: &url.Error{Op: "Post", URL: "x", Err: &net.DNSError{Err: "no such host", Name: "ollama.local"}},
			wantIs: []error{brain.ErrModelUnavailable}},
		{name: "503 busy", model: "tr_chat", err: api.StatusError{StatusCode: 503, ErrorMessage: "server busy"},
			wantIs: []error{brain.ErrModelUnavailable}},
		{name: "500", model: "tr_chat", err: api.StatusError{StatusCode: 500, ErrorMessage: "out of memory"},
			notIs: []error{brain.ErrModelNotFound, brain.ErrModelUnavailable}, text: "out of memory"},
		{name: "invalid UTF-8 from the server is quoted", model: "tr_chat", err: errors.New("\xff\xfe not json"),
			text: `"\xff\xfe not json"`},
		{name: "long server text is cut", model: "tr_chat", err: errors.New(strings.Repeat("ş", 10_000)),
			text: strings.Repeat("ş", 100)},
		{name: "cancelled context wins", ctx: canceled, model: "tr_chat", err: dial,
			wantIs: []error{context.Canceled}, notIs: []error{brain.ErrModelUnavailable}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			err := c.wrap(ctx, "chat", tc.model, tc.err)
			for _, want := range tc.wantIs {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want errors.Is %v", err, want)
				}
			}
			for _, not := range tc.notIs {
				if errors.Is(err, not) {
					t.Errorf("err = %v, want not %v", err, not)
				}
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("err = %q, want it to contain %q", err, tc.text)
			}
			if msg := err.Error(); !utf8.ValidString(msg) || len(msg) > 2*maxErrorText {
				t.Errorf("err = %q, want valid UTF-8 of bounded length", msg)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("err = %q leaks the URL's password", err)
			}
		})
	}
}

func TestAsInt(t *testing.T) {
	tests := []struct {
		in     any
		want   int
		wantOK bool
	}{
		{64, 64, true}, {int64(7), 7, true}, {64.0, 64, true}, {64.5, 0, false},
		{"64", 0, false}, {nil, 0, false}, {uint64(1 << 40), 0, false}, {1e300, 0, false},
	}
	for _, tc := range tests {
		got, ok := asInt(tc.in)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("asInt(%v) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}
