package chroma

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	chhttp "github.com/amikos-tech/chroma-go/pkg/commons/http"

	"github.com/evo-tr/evo/brain"
)

// errNotFound marks a Chroma answer that the collection does not exist.
var errNotFound = errors.New("collection not found")

// wrap names what failed and classifies a chroma-go error: the server not
// answering (no HTTP response: refused, reset, timed out), answering 5xx,
// 408 or 429, or the caller's deadline passing wraps
// brain.ErrMemoryUnavailable; 404 wraps errNotFound. chroma-go keeps only
// the text of transport errors, so the HTTP status is what tells them
// apart.
func wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return fmt.Errorf("%s: %w: %w", op, brain.ErrMemoryUnavailable, ctxErr)
		}
		return fmt.Errorf("%s: %w", op, ctxErr)
	}
	var ce *chhttp.ChromaError
	if errors.As(err, &ce) {
		switch code := ce.ErrorCode; {
		case code == 0, code >= 500, code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
			return fmt.Errorf("%s: %w: %v", op, brain.ErrMemoryUnavailable, err)
		case code == http.StatusNotFound:
			return fmt.Errorf("%s: %w: %v", op, errNotFound, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}
