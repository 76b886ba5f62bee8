package discordtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"
)

// FlagEphemeral is the message flag of a response only its user sees.
const FlagEphemeral = 1 << 6

// maxAttachment is Discord's upload limit for a bot without boosts.
const maxAttachment = 10 << 20

// Attachment is a file uploaded with a message (files[n]).
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// readMultipart turns a multipart/form-data request, as Discord takes
// messages with files, into its payload_json and its files[n] parts, in
// order; any other body is returned as it is.
func readMultipart(contentType string, body []byte) ([]byte, []Attachment, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" {
		return body, nil, nil
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var payload []byte
	byIndex := map[int]Attachment{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		data, err := io.ReadAll(io.LimitReader(p, maxAttachment+1))
		if err != nil {
			return nil, nil, err
		}
		name := p.FormName()
		switch {
		case name == "payload_json":
			payload = data
		case strings.HasPrefix(name, "files[") && strings.HasSuffix(name, "]"):
			i, err := strconv.Atoi(name[len("files[") : len(name)-1])
			if err != nil || p.FileName() == "" {
				return nil, nil, fmt.Errorf("bad file part %q", name)
			}
			if len(data) > maxAttachment {
				return nil, nil, fmt.Errorf("file %q is too large", p.FileName())
			}
			byIndex[i] = Attachment{Filename: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: data}
		}
	}
	if payload == nil {
		payload = []byte("{}")
	}
	files := make([]Attachment, 0, len(byIndex))
	for i := range len(byIndex) {
		a, ok := byIndex[i]
		if !ok {
			return nil, nil, fmt.Errorf("files[%d] is missing", i)
		}
		files = append(files, a)
	}
	return payload, files, nil
}

func attachmentsJSON(m *Message) []any {
	out := []any{}
	for i, a := range m.Attachments {
		out = append(out, map[string]any{"id": m.ID + strconv.Itoa(i), "filename": a.Filename,
			"content_type": a.ContentType, "size": len(a.Data),
			"url": "https://cdn.discordapp.test/attachments/" + m.ChannelID + "/" + a.Filename})
	}
	return out
}

// Attachments returns copies of the files of every live message, in order.
func (s *Server) Attachments() []Attachment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Attachment
	for _, m := range s.messages {
		if m.Deleted {
			continue
		}
		for _, a := range m.Attachments {
			a.Data = append([]byte(nil), a.Data...)
			out = append(out, a)
		}
	}
	return out
}
