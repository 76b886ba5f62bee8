package ollama

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"
)

// The streamed chat reads lines of any length up to maxLine and reports
// errors as api.Client does.
func TestChatStream(t *testing.T) {
	long := strings.Repeat("ğ", 10000) // 20,000 bytes: past the reader's buffer
	for _, tt := range []struct {
		name    string
		status  int
		body    string
		want    string // concatenated content
		wantErr string
		status4 int // api.StatusError code expected, if any
	}{
		{"two lines", 200, `{"message":{"role":"assistant","content":"mer"}}` + "\n" +
			`{"message":{"role":"assistant","content":"haba"},"done":true}` + "\n", "merhaba", "", 0},
		{"a long line and no final newline", 200, `{"message":{"content":"` + long + `"},"done":true}`, long, "", 0},
		{"blank lines are skipped", 200, "\n\n" + `{"message":{"content":"x"},"done":true}` + "\r\n", "x", "", 0},
		{"an error line ends the stream", 200, `{"message":{"content":"a"}}` + "\n" + `{"error":"model crashed"}` + "\n" +
			`{"message":{"content":"b"}}` + "\n", "a", "model crashed", 0},
		{"HTTP error with a JSON body", 404, `{"error":"model \"x\" not found"}`, "", `model "x" not found`, 404},
		{"HTTP error with a text body", 500, "boom", "", "boom", 500},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/chat" || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("request %s %s %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
				}
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			u, _ := url.Parse(srv.URL)
			c := New(u, nil, Options{}, slog.New(slog.DiscardHandler))
			var got strings.Builder
			err := c.chat(context.Background(), &api.ChatRequest{Model: "m"}, func(r api.ChatResponse) error {
				got.WriteString(r.Message.Content)
				return nil
			})
			if got.String() != tt.want {
				t.Errorf("content = %d bytes, want %d", got.Len(), len(tt.want))
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			var se api.StatusError
			if tt.status4 != 0 && (!errors.As(err, &se) || se.StatusCode != tt.status4) {
				t.Errorf("err = %#v, want api.StatusError %d", err, tt.status4)
			}
		})
	}
}

// BenchmarkChatStream: what one streamed reply costs the client (the
// library's client allocated 8 MiB per request).
func BenchmarkChatStream(b *testing.B) {
	body := strings.Repeat(`{"message":{"content":"kelime "}}`+"\n", 50) + `{"done":true}` + "\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := New(u, nil, Options{}, slog.New(slog.DiscardHandler))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.chat(context.Background(), &api.ChatRequest{Model: "m"}, func(api.ChatResponse) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
