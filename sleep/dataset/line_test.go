package dataset

import (
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		want   string // the output line; "" when the line is bad
		reason string
		badFB  bool
	}{
		{name: "user and assistant",
			line: `{"messages":[{"role":"user","content":"Merhaba"},{"role":"assistant","content":"Selam!"}]}`,
			want: `{"messages":[{"role":"user","content":"Merhaba"},{"role":"assistant","content":"Selam!"}]}`},
		{name: "system and earlier turns",
			line: `{"messages":[{"role":"system","content":"Sen bir asistansın."},{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"},{"role":"assistant","content":"d"}]}`,
			want: `{"messages":[{"role":"system","content":"Sen bir asistansın."},{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"},{"role":"assistant","content":"d"}]}`},
		{name: "unknown keys dropped",
			line: `{"user":"telegram:42","day":"2026-11-23","messages":[{"role":"user","content":"x","name":"ayse"},{"role":"assistant","content":"y","weight":1}]}`,
			want: `{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]}`},
		{name: "trailing whitespace trimmed, leading kept",
			line: "{\"messages\":[{\"role\":\"user\",\"content\":\"  kod:\\n\\tx \\n\"},{\"role\":\"assistant\",\"content\":\"tamam\\r\\n\"}]}\r\n",
			want: `{"messages":[{"role":"user","content":"  kod:\n\tx"},{"role":"assistant","content":"tamam"}]}`},
		{name: "html and unicode kept as they are",
			line: `{"messages":[{"role":"user","content":"<b>ğüşiöç</b> & \u0130"},{"role":"assistant","content":"if a < b && c > d"}]}`,
			want: `{"messages":[{"role":"user","content":"<b>ğüşiöç</b> & İ"},{"role":"assistant","content":"if a < b && c > d"}]}`},
		{name: "good feedback kept",
			line: `{"feedback":"good","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}`,
			want: `{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}`},
		{name: "bad feedback marked",
			line:  `{"feedback":"bad","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}`,
			want:  `{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}`,
			badFB: true},
		{name: "bad feedback in capitals", line: `{"feedback":" BAD ","messages":[]}`, reason: `"messages" is empty`, badFB: true},
		{name: "feedback not a string ignored",
			line: `{"feedback":1,"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}`,
			want: `{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}`},
		{name: "empty line", line: "", reason: "empty line"},
		{name: "blank line", line: " \t\r\n", reason: "empty line"},
		{name: "not JSON", line: `{"messages":[`, reason: "not JSON"},
		{name: "text", line: `Merhaba`, reason: "not JSON"},
		{name: "array", line: `[{"role":"user","content":"a"}]`, reason: "not a JSON object"},
		{name: "string", line: `"messages"`, reason: "not a JSON object"},
		{name: "no messages", line: `{"text":"a","label":"tr_chat"}`, reason: `no "messages"`},
		{name: "null messages", line: `{"messages":null}`, reason: `no "messages"`},
		{name: "messages not a list", line: `{"messages":"a"}`, reason: `"messages" is not a list of {"role", "content"} objects`},
		{name: "message not an object", line: `{"messages":["a"]}`, reason: `"messages" is not a list of {"role", "content"} objects`},
		{name: "empty messages", line: `{"messages":[]}`, reason: `"messages" is empty`},
		{name: "no role", line: `{"messages":[{"content":"a"},{"role":"assistant","content":"b"}]}`, reason: "message 1: no role"},
		{name: "unknown role",
			line:   `{"messages":[{"role":"user","content":"a"},{"role":"tool","content":"b"},{"role":"assistant","content":"c"}]}`,
			reason: `message 2: unknown role "tool"`},
		{name: "role in capitals",
			line:   `{"messages":[{"role":"User","content":"a"},{"role":"assistant","content":"b"}]}`,
			reason: `message 1: unknown role "User"`},
		{name: "empty content",
			line:   `{"messages":[{"role":"user","content":""},{"role":"assistant","content":"b"}]}`,
			reason: "message 1: empty content"},
		{name: "whitespace content",
			line:   `{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":" \n "}]}`,
			reason: "message 2: empty content"},
		{name: "missing content",
			line:   `{"messages":[{"role":"user"},{"role":"assistant","content":"b"}]}`,
			reason: "message 1: empty content"},
		{name: "content not a string",
			line:   `{"messages":[{"role":"user","content":[{"type":"text","text":"a"}]},{"role":"assistant","content":"b"}]}`,
			reason: "message 1: content is not a string"},
		{name: "no assistant turn",
			line:   `{"messages":[{"role":"system","content":"s"},{"role":"user","content":"a"}]}`,
			reason: "no assistant turn"},
		{name: "not ending with the assistant",
			line:   `{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]}`,
			reason: `does not end with the assistant (last role "user")`},
		{name: "no user turn",
			line:   `{"messages":[{"role":"system","content":"s"},{"role":"assistant","content":"b"}]}`,
			reason: "no user turn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseLine([]byte(tt.line))
			if got.reason != tt.reason {
				t.Errorf("reason = %q, want %q", got.reason, tt.reason)
			}
			if got.badFB != tt.badFB {
				t.Errorf("bad feedback = %v, want %v", got.badFB, tt.badFB)
			}
			if (got.conv == nil) != (tt.want == "") {
				t.Fatalf("conversation = %+v, want %q", got.conv, tt.want)
			}
			if got.conv == nil {
				return
			}
			line, err := got.conv.encode()
			if err != nil {
				t.Fatal(err)
			}
			if string(line) != tt.want {
				t.Errorf("output line\n got %s\nwant %s", line, tt.want)
			}
		})
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Path: "nights/2026-11-23/tr_chat.jsonl", Line: 7, Reason: "not JSON"}, "nights/2026-11-23/tr_chat.jsonl:7: not JSON"},
		{Problem{Path: "public/Notes.jsonl", Reason: "skipped"}, "public/Notes.jsonl: skipped"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
