package ollama

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/ollama/ollama/api"
)

// maxLine bounds one NDJSON line of a streamed chat, as api.Client does.
const maxLine = 8 << 20

// chat is api.Client.Chat without its per-request buffer: the library
// allocates (and zeroes) an 8 MiB scanner buffer for every streamed
// request, which under many short replies was a third of the service's CPU
// and most of its memory peaks (evo bench). Lines are read into a buffer
// that grows only as far as the longest line; requests, responses and
// errors are the library's types and behave as its client does
// (api.StatusError for HTTP errors, an error line ends the stream).
func (c *Client) chat(ctx context.Context, req *api.ChatRequest, fn api.ChatResponseFunc) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.JoinPath("/api/chat").String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/x-ndjson")
	resp, err := c.http.Do(hreq)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	r := bufio.NewReaderSize(resp.Body, 4096)
	for {
		line, err := readLine(r)
		if len(bytes.TrimSpace(line)) > 0 {
			if lerr := chatLine(resp, line, fn); lerr != nil {
				return lerr
			}
		}
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
	}
}

// readLine reads one line without its newline, at most maxLine bytes.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		part, err := r.ReadSlice('\n')
		line = append(line, part...)
		if len(line) > maxLine {
			return nil, fmt.Errorf("ollama: a streamed line is longer than %d bytes", maxLine)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return bytes.TrimRight(line, "\r\n"), err
		}
	}
}

// chatLine handles one NDJSON line the way api.Client's stream does.
func chatLine(resp *http.Response, line []byte, fn api.ChatResponseFunc) error {
	var e struct {
		Error string `json:"error,omitempty"`
	}
	if err := json.Unmarshal(line, &e); err != nil {
		if resp.StatusCode >= http.StatusBadRequest {
			return api.StatusError{StatusCode: resp.StatusCode, Status: resp.Status, ErrorMessage: string(line)}
		}
		return errors.New(string(line))
	}
	if resp.StatusCode >= http.StatusBadRequest {
		return api.StatusError{StatusCode: resp.StatusCode, Status: resp.Status, ErrorMessage: e.Error}
	}
	if e.Error != "" {
		return errors.New(e.Error)
	}
	var cr api.ChatResponse
	if err := json.Unmarshal(line, &cr); err != nil {
		return err
	}
	return fn(cr)
}
