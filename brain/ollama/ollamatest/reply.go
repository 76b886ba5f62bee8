package ollamatest

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ollama/ollama/api"
)

// DefaultReply is the fake's answer: a Turkish sentence that quotes the
// start of the last user message and names the model, so a test can check
// that the right answer reached the right user from the right expert.
func DefaultReply(req api.ChatRequest) string {
	return fmt.Sprintf("Merhaba! Mesajını aldım: «%s». Yanıtlayan model: %s.", Echo(LastUser(req)), req.Model)
}

// LastUser returns the content of the request's last user message.
func LastUser(req api.ChatRequest) string {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "user" {
			return req.Messages[i].Content
		}
	}
	return ""
}

// EchoRunes is how much of the user's message DefaultReply quotes.
const EchoRunes = 60

// Echo is the part of a user message DefaultReply quotes: its words on
// one line, at most EchoRunes runes.
func Echo(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= EchoRunes {
		return text
	}
	return string([]rune(text)[:EchoRunes])
}

// maxTokenBytes bounds one fake token, so a reply without spaces still
// streams in many small lines.
const maxTokenBytes = 12

// Tokens splits a reply the way the fake streams it: words with their
// trailing space, long words cut on rune boundaries. Joined, they give
// back the reply byte for byte.
func Tokens(s string) []string {
	var out []string
	for _, w := range strings.SplitAfter(s, " ") {
		for len(w) > maxTokenBytes {
			cut := maxTokenBytes
			for cut > 0 && !utf8.RuneStart(w[cut]) {
				cut--
			}
			if cut == 0 {
				cut = maxTokenBytes
			}
			out = append(out, w[:cut])
			w = w[cut:]
		}
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// promptTokens is the fake's prompt_eval_count: about four bytes a token
// plus a few tokens of template per message.
func promptTokens(msgs []api.Message) int {
	n := 0
	for _, m := range msgs {
		n += len(m.Content)/4 + 4
	}
	return n
}
