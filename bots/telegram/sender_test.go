package telegram

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/evo-tr/evo/bots/telegram/telegramtest"
	"github.com/evo-tr/evo/brain"
)

// TestDo checks the error rules of one API call with errors shaped as the
// library returns them.
func TestDo(t *testing.T) {
	badRequest := func(desc string) error { return fmt.Errorf("%w, %s", tgbot.ErrorBadRequest, desc) }
	tooMany := &tgbot.TooManyRequestsError{Message: "too many requests", RetryAfter: 3}
	network := errors.New("error do request for method sendMessage, connection refused")
	tests := []struct {
		name      string
		errs      []error // answers of successive calls; nil after the end
		wantCalls int
		wantErr   error // nil, errBlocked, or any (errAny)
		wantSleep []time.Duration
	}{
		{name: "ok", wantCalls: 1},
		{name: "429 then ok", errs: []error{tooMany}, wantCalls: 2, wantSleep: []time.Duration{3 * time.Second}},
		{name: "429 zero retry_after waits 1s", errs: []error{&tgbot.TooManyRequestsError{}}, wantCalls: 2, wantSleep: []time.Duration{time.Second}},
		{name: "429 forever gives up", errs: []error{tooMany, tooMany, tooMany, tooMany, tooMany, tooMany, tooMany}, wantCalls: 6, wantErr: errAny,
			wantSleep: []time.Duration{3 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second}},
		{name: "not modified is success", errs: []error{badRequest("Bad Request: message is not modified: specified new message content")}, wantCalls: 1},
		{name: "403 is not retried", errs: []error{fmt.Errorf("%w, Forbidden: bot was blocked by the user", tgbot.ErrorForbidden)}, wantCalls: 1, wantErr: errBlocked},
		{name: "400 is not retried", errs: []error{badRequest("Bad Request: chat not found")}, wantCalls: 1, wantErr: errAny},
		{name: "network error retried twice", errs: []error{network, network, network}, wantCalls: 3, wantErr: errAny,
			wantSleep: []time.Duration{500 * time.Millisecond, time.Second}},
		{name: "network error then ok", errs: []error{network}, wantCalls: 2, wantSleep: []time.Duration{500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var slept []time.Duration
			b, err := New(Config{Token: telegramtest.DefaultToken, Sleep: func(_ context.Context, d time.Duration) error {
				slept = append(slept, d)
				return nil
			}}, &fakeHandler{}, discardLog(), brain.SystemClock{})
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			err = b.do(context.Background(), target{chatID: 1}, "sendMessage", func(context.Context) error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			})
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("err = %v, want nil", err)
			case tt.wantErr == errAny && err == nil:
				t.Errorf("err = nil, want an error")
			case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if fmt.Sprint(slept) != fmt.Sprint(tt.wantSleep) {
				t.Errorf("slept %v, want %v", slept, tt.wantSleep)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestPlainFallbackFits(t *testing.T) {
	long := "<b>" + strings.Repeat("😀", 5000) + "</b>"
	got := plainFallback(long)
	if n := utf16Len(got); n > maxMessageLen {
		t.Errorf("plainFallback gave %d UTF-16 units, want at most %d", n, maxMessageLen)
	}
	if got := plainFallback("<i>a &amp; b</i>"); got != "a & b" {
		t.Errorf("plainFallback = %q, want %q", got, "a & b")
	}
}
