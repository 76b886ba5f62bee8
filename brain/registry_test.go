package brain_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/evo-tr/evo/brain"
)

// lines returns n distinct example lines.
func lines(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(prefix)
		b.WriteString(" ")
		b.WriteString(strings.Repeat("x", i+1))
		b.WriteString("\n")
	}
	return b.String()
}

const chatYAML = `name: chat
model: chat-model
description: Sohbet
system_prompt: |
  Sen bir sohbet uzmanısın.
options:
  temperature: 0.7
packaging: adapter
from: base:3b
file: ${ADAPTER_PATH}/chat.gguf
examples:
  - merhaba
examples_file: chat.examples.txt
keywords: [selam]
keywords_file: chat.keywords.txt
`

// yamlExamples is an examples: list of n distinct lines.
func yamlExamples(prefix string, n int) string {
	return "examples:\n" + strings.ReplaceAll("\n"+strings.TrimSuffix(lines(prefix, n), "\n"), "\n", "\n  - ") + "\n"
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func validFS() fstest.MapFS {
	return fstest.MapFS{
		"chat.yaml": file(chatYAML),
		"chat.examples.txt": file("# comment\n\nmerhaba\n  naber  \n~~~\ndef f():\n\n    # not a comment\n    pass\n~~~\n" +
			lines("örnek", brain.MinExamples)),
		"chat.keywords.txt":      file("# words\nşiir*\nçeviri\n"),
		"code.yml":               file("name: code\nmodel: code-model\nsystem_prompt: Kod uzmanı.\n" + yamlExamples("kod", brain.MinExamples)),
		"README.md":              file("not an expert"),
		"eval/router_eval.jsonl": file(`{"text":"x","label":"chat"}`),
		"eval/nested.yaml":       file("name: nested\n"),
	}
}

func TestLoadExperts(t *testing.T) {
	experts, err := brain.LoadExperts(validFS())
	if err != nil {
		t.Fatalf("LoadExperts: %v", err)
	}
	if got, want := len(experts), 2; got != want {
		t.Fatalf("%d experts, want %d", got, want)
	}
	chat, code := experts[0], experts[1]
	if chat.Name != "chat" || code.Name != "code" {
		t.Fatalf("names = %q, %q; want chat, code (file order)", chat.Name, code.Name)
	}
	if got, want := chat.SystemPrompt, "Sen bir sohbet uzmanısın."; got != want {
		t.Errorf("system prompt = %q, want %q", got, want)
	}
	if got, want := chat.Options["temperature"], 0.7; got != want {
		t.Errorf("temperature = %v, want %v", got, want)
	}
	if chat.Packaging != brain.PackagingAdapter || chat.From != "base:3b" {
		t.Errorf("packaging = %q from %q", chat.Packaging, chat.From)
	}
	// "merhaba" is in the YAML and the file: kept once, YAML first.
	if got, want := chat.Examples[:3], []string{"merhaba", "naber", "def f():\n\n    # not a comment\n    pass"}; !equal(got, want) {
		t.Errorf("first examples = %q, want %q", got, want)
	}
	if got, want := len(chat.Examples), 3+brain.MinExamples; got != want {
		t.Errorf("%d examples, want %d", got, want)
	}
	if got, want := chat.Keywords, []string{"selam", "şiir*", "çeviri"}; !equal(got, want) {
		t.Errorf("keywords = %q, want %q", got, want)
	}
	if got, want := len(code.Examples), brain.MinExamples; got != want {
		t.Errorf("code: %d examples, want %d", got, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLoadExpertsErrors(t *testing.T) {
	many := lines("örnek", brain.MinExamples)
	withExamples := func(head string) string { return head + yamlExamples("örnek", brain.MinExamples) }
	ok := withExamples("name: ok\nmodel: m\nsystem_prompt: p\n")
	tests := []struct {
		name  string
		files fstest.MapFS
		want  []string // substrings of the error
	}{
		{"no experts", fstest.MapFS{"README.md": file("x")}, []string{"no expert files"}},
		{"empty file", fstest.MapFS{"a.yaml": file("")}, []string{"a.yaml", "parse"}},
		{"bad yaml", fstest.MapFS{"a.yaml": file("name: [unclosed\n")}, []string{"a.yaml", "parse"}},
		{"unknown field", fstest.MapFS{"a.yaml": file("name: a\nmodle: m\n")}, []string{"a.yaml", "modle"}},
		{"no name", fstest.MapFS{"a.yaml": file(withExamples("model: m\nsystem_prompt: p\n"))}, []string{"a.yaml", "name: must be set"}},
		{"bad name", fstest.MapFS{"a.yaml": file(withExamples("name: Tr-Chat\nmodel: m\nsystem_prompt: p\n"))}, []string{"a.yaml", `"Tr-Chat"`}},
		{"reserved name", fstest.MapFS{"a.yaml": file(withExamples("name: base\nmodel: m\nsystem_prompt: p\n"))}, []string{"reserved"}},
		{"no model", fstest.MapFS{"a.yaml": file(withExamples("name: a\nsystem_prompt: p\n"))}, []string{"model: must be set"}},
		{"no prompt", fstest.MapFS{"a.yaml": file(withExamples("name: a\nmodel: m\n"))}, []string{"system_prompt: must be set"}},
		{"few examples", fstest.MapFS{"a.yaml": file("name: a\nmodel: m\nsystem_prompt: p\nexamples: [x, y]\n")}, []string{"a.yaml", "2 given", "at least"}},
		{"bad packaging", fstest.MapFS{"a.yaml": file(withExamples("name: a\nmodel: m\nsystem_prompt: p\npackaging: docker\n"))}, []string{`packaging "docker"`}},
		{"duplicate name", fstest.MapFS{"a.yaml": file(ok), "b.yaml": file(ok)}, []string{"b.yaml", `"ok"`, "a.yaml"}},
		{"missing examples file", fstest.MapFS{"a.yaml": file("name: a\nmodel: m\nsystem_prompt: p\nexamples_file: a.txt\n")}, []string{"a.yaml", "a.txt"}},
		{"examples file outside", fstest.MapFS{"a.yaml": file("name: a\nmodel: m\nsystem_prompt: p\nexamples_file: ../a.txt\n")}, []string{"inside the experts directory"}},
		{"unclosed fence", fstest.MapFS{
			"a.yaml": file("name: a\nmodel: m\nsystem_prompt: p\nexamples_file: a.txt\n"),
			"a.txt":  file(many + "~~~\ndef f():\n"),
		}, []string{"a.txt", "line " + strconv.Itoa(brain.MinExamples+1), "never closed"}},
		{"invalid utf-8", fstest.MapFS{
			"a.yaml": file("name: a\nmodel: m\nsystem_prompt: p\nexamples_file: a.txt\n"),
			"a.txt":  file(many + "\xff\xfe\n"),
		}, []string{"a.txt", "UTF-8"}},
		{"missing keywords file", fstest.MapFS{"a.yaml": file(ok + "keywords_file: k.txt\n")}, []string{"keywords_file k.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := brain.LoadExperts(tt.files)
			if err == nil {
				t.Fatalf("err = nil, want one mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestResolveFile(t *testing.T) {
	x := brain.Expert{File: "${ADAPTER_PATH}/a.gguf"}
	tests := []struct {
		name   string
		lookup func(string) string
		want   string
	}{
		{"nil lookup", nil, "${ADAPTER_PATH}/a.gguf"},
		{"set", func(k string) string { return map[string]string{"ADAPTER_PATH": "/models"}[k] }, "/models/a.gguf"},
		{"unset", func(string) string { return "" }, "/a.gguf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := x.ResolveFile(tt.lookup); got != tt.want {
				t.Errorf("ResolveFile = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestShippedExperts checks the registry in deploy/experts: both experts
// load, with the examples the router needs.
func TestShippedExperts(t *testing.T) {
	experts, err := brain.LoadExperts(os.DirFS("../deploy/experts"))
	if err != nil {
		t.Fatalf("LoadExperts: %v", err)
	}
	want := map[string]bool{"tr_chat": true, "python_coder": true}
	for _, x := range experts {
		if !want[x.Name] {
			t.Errorf("unexpected expert %q", x.Name)
			continue
		}
		delete(want, x.Name)
		if len(x.Examples) < 300 {
			t.Errorf("%s: %d examples, want at least 300", x.Name, len(x.Examples))
		}
		if len(x.Keywords) == 0 {
			t.Errorf("%s: no keywords", x.Name)
		}
		if x.Model == "" || x.SystemPrompt == "" || x.Packaging == "" || x.File == "" {
			t.Errorf("%s: model/prompt/packaging/file not all set: %+v", x.Name, x)
		}
	}
	for name := range want {
		t.Errorf("expert %q missing", name)
	}
}
