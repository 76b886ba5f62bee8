package dataset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// Roles a chat line may carry, as mlx-lm's chat format names them.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Problem is a line or a file left out, and why.
type Problem struct {
	Path string
	// Line is 1-based; 0 when the problem is the whole file.
	Line   int
	Reason string
}

// String is "PATH:LINE: reason" (or "PATH: reason" for a file).
func (p Problem) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s", p.Path, p.Reason)
	}
	return fmt.Sprintf("%s:%d: %s", p.Path, p.Line, p.Reason)
}

// Message is one message of a conversation: all that the output keeps.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Conversation is one training example in mlx-lm's chat format.
type Conversation struct {
	Messages []Message `json:"messages"`
}

// line is what a training line is read as; every other key is dropped.
type line struct {
	Messages json.RawMessage `json:"messages"`
	Feedback json.RawMessage `json:"feedback"`
}

// rawMessage is a message before its fields are checked.
type rawMessage struct {
	Role    json.RawMessage `json:"role"`
	Content json.RawMessage `json:"content"`
}

// parsed is one line read: a conversation, or why there is none; bad
// feedback marks an answer a user said was wrong (then conv may be nil when
// the line is malformed too).
type parsed struct {
	conv   *Conversation
	reason string
	badFB  bool
}

// parseLine reads one line of a training file. Contents are kept with their
// trailing whitespace trimmed, so copies that differ only there are equal.
func parseLine(b []byte) parsed {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return parsed{reason: "empty line"}
	}
	if !json.Valid(b) {
		return parsed{reason: "not JSON"}
	}
	if b[0] != '{' {
		return parsed{reason: "not a JSON object"}
	}
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return parsed{reason: "not a JSON object"}
	}
	var p parsed
	var fb string
	if json.Unmarshal(l.Feedback, &fb) == nil && strings.EqualFold(strings.TrimSpace(fb), "bad") {
		p.badFB = true
	}
	conv, reason := conversation(l.Messages)
	if reason != "" {
		p.reason = reason
		return p
	}
	p.conv = conv
	return p
}

// conversation checks the messages: known roles, strings, no empty content,
// an assistant turn, ending with the assistant.
func conversation(raw json.RawMessage) (*Conversation, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, `no "messages"`
	}
	var msgs []rawMessage
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return nil, `"messages" is not a list of {"role", "content"} objects`
	}
	if len(msgs) == 0 {
		return nil, `"messages" is empty`
	}
	conv := &Conversation{Messages: make([]Message, 0, len(msgs))}
	user, assistant := false, false
	for i, m := range msgs {
		n := i + 1
		var role, content string
		if json.Unmarshal(m.Role, &role) != nil {
			return nil, fmt.Sprintf("message %d: no role", n)
		}
		switch role {
		case RoleSystem:
		case RoleUser:
			user = true
		case RoleAssistant:
			assistant = true
		default:
			return nil, fmt.Sprintf("message %d: unknown role %q", n, role)
		}
		if len(m.Content) == 0 || string(m.Content) == "null" {
			return nil, fmt.Sprintf("message %d: empty content", n)
		}
		if json.Unmarshal(m.Content, &content) != nil {
			return nil, fmt.Sprintf("message %d: content is not a string", n)
		}
		content = strings.TrimRightFunc(content, unicode.IsSpace)
		if strings.TrimSpace(content) == "" {
			return nil, fmt.Sprintf("message %d: empty content", n)
		}
		conv.Messages = append(conv.Messages, Message{Role: role, Content: content})
	}
	if !assistant {
		return nil, "no assistant turn"
	}
	if !user {
		return nil, "no user turn"
	}
	if last := conv.Messages[len(conv.Messages)-1].Role; last != RoleAssistant {
		return nil, fmt.Sprintf("does not end with the assistant (last role %q)", last)
	}
	return conv, ""
}

// encode is the conversation's output line, without the newline: the same
// conversation always gives the same bytes.
func (c *Conversation) encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode conversation: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
