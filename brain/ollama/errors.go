package ollama

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/ollama/ollama/api"

	"github.com/evo-tr/evo/brain"
)

// NotFoundError says the server lacks a model. It wraps
// brain.ErrModelNotFound; callers use errors.As to get the model's name
// (e.g. to log "ollama pull <model>").
type NotFoundError struct {
	Model string
	// Server is the server's own message.
	Server string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("model %q not found on the Ollama server (%s)", e.Model, e.Server)
}

// Unwrap makes errors.Is(err, brain.ErrModelNotFound) true.
func (e *NotFoundError) Unwrap() error { return brain.ErrModelNotFound }

// wrap turns a client error into one the brain understands:
// unreachable server → brain.ErrModelUnavailable, missing model →
// *NotFoundError (brain.ErrModelNotFound), a cancelled ctx → ctx.Err(),
// anything else wrapped with the operation and model.
func (c *Client) wrap(ctx context.Context, op, model string, err error) error {
	what := op
	if model != "" {
		what = op + " " + model
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", what, ctxErr)
	}
	if model != "" {
		if msg, ok := notFound(err); ok {
			return fmt.Errorf("%s: %w", op, &NotFoundError{Model: model, Server: msg})
		}
	}
	if unreachable(err) {
		return fmt.Errorf("%s: %w at %s: %w", what, brain.ErrModelUnavailable, c.base.Redacted(), err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: connection lost mid-reply: %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, cleanError{err})
}

// maxErrorText bounds the server text an error carries.
const maxErrorText = 300

// cleanError shows a server's error text as valid UTF-8 of bounded
// length (a broken server can send any bytes), keeping the original for
// errors.Is and errors.As.
type cleanError struct{ err error }

func (e cleanError) Error() string {
	s := e.err.Error()
	if len(s) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	if !utf8.ValidString(s) {
		s = strconv.Quote(s)
	}
	return s
}

func (e cleanError) Unwrap() error { return e.err }

// notFound reports whether err is the server saying a model is missing:
// a 404 on a model endpoint, or an error line naming a missing model.
func notFound(err error) (string, bool) {
	var se api.StatusError
	if errors.As(err, &se) {
		if se.StatusCode == http.StatusNotFound {
			return se.ErrorMessage, true
		}
		return "", false
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "model ") && strings.Contains(msg, "not found") {
		return msg, true
	}
	return "", false
}

// unreachable reports whether err means no server answered: nothing
// listens on the port, the host name does not resolve, dialing timed out,
// or the server is too busy to queue the request (503).
func unreachable(err error) bool {
	var se api.StatusError
	if errors.As(err, &se) {
		return se.StatusCode == http.StatusServiceUnavailable
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}
