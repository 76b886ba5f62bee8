package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// writeTree writes files (relative paths → content) under the current
// folder.
func writeTree(t *testing.T, files map[string]string) {
	t.Helper()
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// readTree reads every file under dir by its path relative to dir.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// chatLine is a training line of one exchange, as evo dataset writes it
// when extra is empty; extra ({"key": value, …}) adds top-level keys.
func chatLine(user, assistant, extra string) string {
	type msg struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	var v any = struct {
		Messages []msg `json:"messages"`
	}{[]msg{{"user", user}, {"assistant", assistant}}}
	if extra != "" {
		m := map[string]any{"messages": []msg{{"user", user}, {"assistant", assistant}}}
		if err := json.Unmarshal([]byte(extra), &m); err != nil {
			panic(err)
		}
		v = m
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestDatasetBuildsTheExpertsSets(t *testing.T) {
	t.Chdir(t.TempDir())
	system := `{"messages":[{"role":"system","content":"Sen bir Python uzmanısın."},{"role":"user","content":"Listeyi ters çevir"},{"role":"assistant","content":"xs[::-1]"}]}`
	writeTree(t, map[string]string{
		"nights/2026-11-23/tr_chat.jsonl": strings.Join([]string{
			chatLine("Merhaba", "Selam! Nasıl yardımcı olabilirim?", `{"user":"telegram:42"}`),
			`{"messages":[{"role":"user","content":"yarım`,
			chatLine("İstanbul'un nüfusu?", "Yaklaşık 15 milyon.", `{"user":"discord:7"}`),
			chatLine("Teşekkürler", "Rica ederim.", ""),
		}, "\n") + "\n",
		"nights/2026-11-23/python_coder.jsonl": strings.Join([]string{
			system,
			chatLine("Fibonacci yaz", "def fib(n): ...", ""),
			chatLine("Dosya oku", "open(p).read()", ""),
		}, "\n") + "\n",
		"nights/2026-11-23/router.jsonl": `{"text":"Merhaba","label":"tr_chat","confidence":0.9}` + "\n",
		"nights/2026-11-24/tr_chat.jsonl": strings.Join([]string{
			chatLine("Merhaba", "Selam! Nasıl yardımcı olabilirim?  ", `{"user":"telegram:43"}`),
			chatLine("Hava nasıl?", "Bilmiyorum, dışarı bakabilir misin?", ""),
			`{"messages":[{"role":"assistant","content":"Selam"},{"role":"user","content":"Hey"}]}`,
		}, "\n") + "\n",
		"public/tr_chat.jsonl": strings.Join([]string{
			chatLine("Teşekkürler", "Rica ederim.", ""),
			chatLine("Türkiye'nin başkenti neresi?", "Ankara.", ""),
			chatLine("Bir şiir yaz", "Kötü bir şiir.", `{"feedback":"bad"}`),
			chatLine("Güneş nedir?", "Bir yıldız.", ""),
		}, "\n") + "\n",
	})

	code, stdout, stderr := evo(t, nil, "", "dataset", "--out", "sets", "nights/", "public/tr_chat.jsonl")
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	for _, want := range []string{
		"nights/2026-11-23/tr_chat.jsonl:2: not JSON\n",
		`nights/2026-11-24/tr_chat.jsonl:3: does not end with the assistant (last role "user")` + "\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name %q:\n%s", want, stderr)
		}
	}
	files := readTree(t, "sets")
	var names []string
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	wantNames := []string{"python_coder/test.jsonl", "python_coder/train.jsonl", "python_coder/valid.jsonl",
		"tr_chat/test.jsonl", "tr_chat/train.jsonl", "tr_chat/valid.jsonl"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Fatalf("wrote %v, want %v", names, wantNames)
	}
	got := map[string][]string{}
	for _, name := range names {
		info, err := os.Stat(filepath.Join("sets", name))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", name, info.Mode().Perm(), err)
		}
		content := files[name]
		if content == "" {
			t.Errorf("%s is empty: with three or more conversations each split gets one", name)
			continue
		}
		for _, l := range strings.Split(strings.TrimSuffix(content, "\n"), "\n") {
			var ex struct {
				Messages []map[string]string `json:"messages"`
			}
			dec := json.NewDecoder(strings.NewReader(l))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&ex); err != nil || len(ex.Messages) < 2 || ex.Messages[len(ex.Messages)-1]["role"] != "assistant" {
				t.Errorf("%s: %s is not an mlx-lm chat line ending with the assistant (%v)", name, l, err)
			}
			for _, m := range ex.Messages {
				if len(m) != 2 || m["role"] == "" || m["content"] == "" {
					t.Errorf("%s: message %v, want only role and content", name, m)
				}
			}
			expert := filepath.Dir(name)
			got[expert] = append(got[expert], l)
		}
	}
	for _, ls := range got {
		sort.Strings(ls)
	}
	want := map[string][]string{
		"python_coder": {system, chatLine("Dosya oku", "open(p).read()", ""), chatLine("Fibonacci yaz", "def fib(n): ...", "")},
		"tr_chat": {
			chatLine("Güneş nedir?", "Bir yıldız.", ""),
			chatLine("Hava nasıl?", "Bilmiyorum, dışarı bakabilir misin?", ""),
			chatLine("Merhaba", "Selam! Nasıl yardımcı olabilirim?", ""),
			chatLine("Teşekkürler", "Rica ederim.", ""),
			chatLine("Türkiye'nin başkenti neresi?", "Ankara.", ""),
			chatLine("İstanbul'un nüfusu?", "Yaklaşık 15 milyon.", ""),
		},
	}
	for _, ls := range want {
		sort.Strings(ls)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("conversations written\n got %q\nwant %q", got, want)
	}
	for _, row := range []string{"python_coder  1      1      1     0           0    0", "tr_chat       4      1      1     2           2    1"} {
		if !strings.Contains(stdout, row) {
			t.Errorf("summary lacks the row %q:\n%s", row, stdout)
		}
	}

	// Again, with the paths in another order and the output inside the
	// nights' folder: the same files, and the output is not read back.
	for i := range 2 {
		code, again, stderr := evo(t, nil, "", "dataset", "public/tr_chat.jsonl", "--out", "nights/sets", "nights")
		if code != 0 {
			t.Fatalf("run %d: exit %d\nstderr: %s", i+2, code, stderr)
		}
		if again != stdout {
			t.Errorf("run %d: summary\n%s\nwant\n%s", i+2, again, stdout)
		}
		if got := readTree(t, "nights/sets"); !reflect.DeepEqual(got, files) {
			t.Errorf("run %d wrote other files", i+2)
		}
	}
	if info, err := os.Stat("nights/sets/tr_chat"); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("expert folder mode %v (%v), want 0700", info.Mode().Perm(), err)
	}
}

func TestDatasetExitCodes(t *testing.T) {
	t.Chdir(t.TempDir())
	writeTree(t, map[string]string{
		"empty/notes.txt":                "no training here",
		"bad/2026-11-23/tr_chat.jsonl":   "not json\n" + `{"messages":[{"role":"user","content":"a"}]}` + "\n",
		"good/2026-11-23/tr_chat.jsonl":  chatLine("a", "b", "") + "\n",
		"router/2026-11-23/router.jsonl": `{"text":"a","label":"tr_chat"}` + "\n",
		"feedback/2026-11-23/x_se.jsonl": chatLine("a", "b", `{"feedback":"bad"}`) + "\n",
	})
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{name: "no arguments", args: nil, code: 2, stderr: "--out DIR is required"},
		{name: "no --out", args: []string{"good"}, code: 2, stderr: "--out DIR is required"},
		{name: "no path", args: []string{"--out", "sets"}, code: 2, stderr: "no PATH given"},
		{name: "unknown flag", args: []string{"--shuffle", "--out", "sets", "good"}, code: 2},
		{name: "valid out of range", args: []string{"--out", "sets", "--valid", "1", "good"}, code: 2, stderr: "valid and test"},
		{name: "fractions too large together", args: []string{"--out", "sets", "--valid", "0.5", "--test", "0.5", "good"}, code: 2, stderr: "valid and test"},
		{name: "EXPERT: without a path", args: []string{"--out", "sets", "tr_chat:"}, code: 2, stderr: "no path"},
		{name: "a missing path", args: []string{"--out", "sets", "nope"}, code: 1, stderr: "nope"},
		{name: "no training files", args: []string{"--out", "sets", "empty", "router"}, code: 1, stderr: "no training files found"},
		{name: "only bad lines", args: []string{"--out", "sets", "bad"}, code: 1, stderr: "bad/2026-11-23/tr_chat.jsonl:1: not JSON"},
		{name: "only lines marked bad", args: []string{"--out", "sets", "feedback"}, code: 1, stderr: "no usable conversations"},
		{name: "one conversation", args: []string{"--out", "sets", "good"}, code: 0},
		{name: "help", args: []string{"-h"}, code: 0, stderr: "evo dataset --out DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := evo(t, nil, "", append([]string{"dataset"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr)
			}
		})
	}
}
