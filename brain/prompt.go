package brain

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// EstimateTokens is a conservative token count for text: Qwen's tokenizer
// averages about 3.5–4 bytes per token on Turkish and English, so a third
// of the UTF-8 length, plus a few tokens of chat-template overhead per
// message, errs on the side of fitting.
func EstimateTokens(s string) int { return len(s)/3 + 4 }

// promptInput is everything a prompt is made of.
type promptInput struct {
	expert   Expert
	userName string
	now      time.Time
	memories []Memory
	history  []Record // oldest first, already filtered
	text     string   // the message being answered
	budget   int      // tokens the prompt may use
}

// prompt is a built prompt and what had to be left out to fit.
type prompt struct {
	messages []ChatMessage
	// dropped counts history messages left out for the budget.
	dropped int
	// truncated is true when the user's own message was cut to fit.
	truncated bool
}

// buildPrompt assembles the system prompt, long-term memories, as much of
// the history as fits (newest first) and the user's message, so that the
// estimated size never exceeds the budget. The user's message is cut when
// it alone would not fit.
func buildPrompt(in promptInput) prompt {
	sys := systemPrompt(in.expert, in.userName, in.now, in.memories)
	used := EstimateTokens(sys)
	remaining := in.budget - used
	var p prompt
	text := in.text
	// Leave the user's message at least half of what remains, then cut it.
	if need := EstimateTokens(text); need > remaining {
		text = truncateToTokens(text, remaining)
		p.truncated = true
	}
	remaining -= EstimateTokens(text)
	keep := 0
	for i := len(in.history) - 1; i >= 0; i-- {
		t := EstimateTokens(in.history[i].Text)
		if t > remaining {
			break
		}
		remaining -= t
		keep++
	}
	p.dropped = len(in.history) - keep
	p.messages = make([]ChatMessage, 0, keep+2)
	p.messages = append(p.messages, ChatMessage{Role: RoleSystem, Content: sys})
	for _, r := range in.history[len(in.history)-keep:] {
		p.messages = append(p.messages, ChatMessage{Role: r.Role, Content: r.Text})
	}
	p.messages = append(p.messages, ChatMessage{Role: RoleUser, Content: text})
	return p
}

// systemPrompt is the expert's prompt, then what EVO-TR knows of the user.
func systemPrompt(e Expert, userName string, now time.Time, memories []Memory) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(e.SystemPrompt))
	fmt.Fprintf(&b, "\n\nBugünün tarihi: %s.", turkishDate(now))
	if userName != "" {
		fmt.Fprintf(&b, " Konuştuğun kişi: %s.", oneLine(userName, 64))
	}
	if len(memories) > 0 {
		b.WriteString("\n\nBu kullanıcı hakkında önceki konuşmalardan hatırladıkların (gerekirse kullan):")
		for _, m := range memories {
			b.WriteString("\n- ")
			b.WriteString(oneLine(m.Text, 500))
		}
	}
	return b.String()
}

// truncateToTokens cuts s so that EstimateTokens(s) <= tokens, on a rune
// boundary, marking the cut.
func truncateToTokens(s string, tokens int) string {
	const mark = "\n[…]"
	maxBytes := (tokens-4)*3 - len(mark)
	if maxBytes <= 0 {
		return ""
	}
	if len(s) <= maxBytes {
		return s
	}
	cut := maxBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// oneLine flattens s to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

var turkishMonths = [...]string{"Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran",
	"Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık"}

func turkishDate(t time.Time) string {
	return fmt.Sprintf("%d %s %d", t.Day(), turkishMonths[t.Month()-1], t.Year())
}
