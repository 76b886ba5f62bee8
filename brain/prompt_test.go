package brain

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestBuildPrompt(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	e := Expert{Name: "tr_chat", SystemPrompt: "Sistem."}
	hist := func(n, size int) []Record {
		var out []Record
		for i := range n {
			role := RoleUser
			if i%2 == 1 {
				role = RoleAssistant
			}
			out = append(out, Record{Role: role, Text: strings.Repeat("ş", size/2) + string(rune('a'+i))})
		}
		return out
	}
	tests := []struct {
		name          string
		history       []Record
		text          string
		budget        int
		wantHistory   int
		wantTruncated bool
	}{
		{"all fits", hist(4, 30), "soru", 1000, 4, false},
		{"oldest dropped", hist(10, 300), "soru", 600, 5, false},
		{"nothing fits but the message", hist(3, 3000), "soru", 200, 0, false},
		{"message cut", nil, strings.Repeat("ğ", 10000), 500, 0, true},
		{"empty history", nil, "soru", 100, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := buildPrompt(promptInput{expert: e, userName: "Ayşe", now: now, history: tt.history, text: tt.text, budget: tt.budget})
			if got := len(p.messages) - 2; got != tt.wantHistory {
				t.Errorf("history kept = %d, want %d", got, tt.wantHistory)
			}
			if p.truncated != tt.wantTruncated {
				t.Errorf("truncated = %v, want %v", p.truncated, tt.wantTruncated)
			}
			total := 0
			for _, m := range p.messages {
				total += EstimateTokens(m.Content)
				if !utf8.ValidString(m.Content) {
					t.Errorf("invalid UTF-8 in %q", m.Content)
				}
			}
			if total > tt.budget {
				t.Errorf("estimate %d > budget %d", total, tt.budget)
			}
			if len(tt.history) > 0 && tt.wantHistory > 0 {
				if got, want := p.messages[len(p.messages)-2].Content, tt.history[len(tt.history)-1].Text; got != want {
					t.Errorf("newest history message not kept")
				}
			}
			sys := p.messages[0].Content
			if !strings.HasPrefix(sys, "Sistem.") || !strings.Contains(sys, "24 Kasım 2026") || !strings.Contains(sys, "Ayşe") {
				t.Errorf("system prompt = %q", sys)
			}
		})
	}
}

func TestSystemPromptMemories(t *testing.T) {
	sys := systemPrompt(Expert{SystemPrompt: "S"}, "", time.Now(), []Memory{{Text: "Kedisinin adı\nPamuk"}, {Text: "Python öğreniyor"}})
	if !strings.Contains(sys, "- Kedisinin adı Pamuk") || !strings.Contains(sys, "- Python öğreniyor") {
		t.Errorf("memories missing or not flattened: %q", sys)
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in, name, args string
		ok             bool
	}{
		{"/reset", "reset", "", true},
		{"/expert python_coder", "expert", "python_coder", true},
		{"/expert@evo_bot  auto ", "expert", "auto", true},
		{"/Help", "help", "", true},
		{"/why\nsonra", "why", "sonra", true},
		{"merhaba", "", "", false},
		{"/", "", "", false},
		{"/usr/bin/env python", "", "", false},
		{"/çık", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			name, args, ok := parseCommand(tt.in)
			if name != tt.name || args != tt.args || ok != tt.ok {
				t.Errorf("parseCommand(%q) = %q, %q, %v; want %q, %q, %v", tt.in, name, args, ok, tt.name, tt.args, tt.ok)
			}
		})
	}
}
