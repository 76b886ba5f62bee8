package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama/ollamatest"
	"github.com/evo-tr/evo/brain/router"
)

// keywordRouter is a fake router: texts with "def" go to python_coder,
// texts with "?" fall back, the rest go to tr_chat.
type keywordRouter struct{ seen []string }

var _ brain.Router = (*keywordRouter)(nil)

func (k *keywordRouter) Route(_ context.Context, text string) brain.Decision {
	k.seen = append(k.seen, text)
	switch {
	case strings.Contains(text, "def"):
		return brain.Decision{Expert: "python_coder", Model: "python_coder", Confidence: 0.91234567, Candidate: "python_coder"}
	case strings.Contains(text, "?"):
		return brain.Decision{Expert: "base", Model: "qwen", Confidence: 0.55, Fallback: true, Candidate: "tr_chat"}
	}
	return brain.Decision{Expert: "tr_chat", Model: "tr_chat", Confidence: 0.8, Candidate: "tr_chat"}
}

func TestParseRouteLine(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		tooLong bool
		want    string
		wantErr string
	}{
		{"text", `{"text":"selam"}`, false, "selam", ""},
		{"other fields ignored", `{"id":7,"text":"def f(): pass","label":"x"}`, false, "def f(): pass", ""},
		{"empty text is routed", `{"text":""}`, false, "", ""},
		{"escaped newline", `{"text":"a\nb"}`, false, "a\nb", ""},
		{"malformed", `{"text":"selam"`, false, "", "not a JSON object"},
		{"not an object", `["selam"]`, false, "", "not a JSON object"},
		{"text not a string", `{"text":42}`, false, "", `"text" is not a string`},
		{"no text", `{"message":"selam"}`, false, "", `no "text" field`},
		{"null text", `{"text":null}`, false, "", `no "text" field`},
		{"blank", "   ", false, "", "empty line"},
		{"too long", `{"text":"x"}`, true, "", "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRouteLine([]byte(tt.line), tt.tooLong)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got != tt.want {
				t.Errorf("text = %q, want %q", got, tt.want)
			}
		})
	}
}

// decodeLines parses every output line as a JSON object.
func decodeLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("output line %d %q: %v", i+1, line, err)
		}
		objs = append(objs, m)
	}
	return objs
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestRouteJSONL(t *testing.T) {
	huge := `{"text":"` + strings.Repeat("a", maxRouteLine) + `"}`
	in := strings.Join([]string{
		`{"text":"merhaba","user":"ali"}`,
		`{"text":"def f(x): return x"}`,
		`not json`,
		``,
		`{"text":"nasıl?"}` + "\r",
		huge,
		`{"text":42}`,
		`{"text":"<b> & </b>"}`, // last line without a newline
	}, "\n")
	fr := &keywordRouter{}
	var out bytes.Buffer
	if err := routeJSONL(context.Background(), fr, strings.NewReader(in), &out); err != nil {
		t.Fatalf("routeJSONL: %v", err)
	}
	objs := decodeLines(t, out.String())
	if got, want := len(objs), 8; got != want {
		t.Fatalf("%d output lines, want %d:\n%s", got, want, out.String())
	}
	decision := []string{"confidence", "expert", "fallback", "model", "text"}
	failed := []string{"error", "line"}
	wants := []struct {
		keys   []string
		text   string
		expert string
		line   float64
	}{
		{decision, "merhaba", "tr_chat", 0},
		{decision, "def f(x): return x", "python_coder", 0},
		{failed, "", "", 3},
		{failed, "", "", 4},
		{decision, "nasıl?", "base", 0},
		{failed, "", "", 6},
		{failed, "", "", 7},
		{decision, "<b> & </b>", "tr_chat", 0},
	}
	for i, w := range wants {
		o := objs[i]
		if got := keys(o); !reflect.DeepEqual(got, w.keys) {
			t.Errorf("line %d keys = %v, want %v", i+1, got, w.keys)
			continue
		}
		if w.line != 0 {
			if got := o["line"]; got != w.line {
				t.Errorf("line %d: line = %v, want %v", i+1, got, w.line)
			}
			continue
		}
		if got := o["text"]; got != w.text {
			t.Errorf("line %d: text = %q, want %q", i+1, got, w.text)
		}
		if got := o["expert"]; got != w.expert {
			t.Errorf("line %d: expert = %v, want %v", i+1, got, w.expert)
		}
	}
	if got, want := objs[1]["confidence"], 0.9123; got != want {
		t.Errorf("confidence = %v, want rounded %v", got, want)
	}
	if got := objs[4]["fallback"]; got != true {
		t.Errorf("fallback = %v, want true", got)
	}
	if !strings.Contains(out.String(), `"<b> & </b>"`) {
		t.Errorf("text was HTML-escaped: %s", out.String())
	}
	if got, want := len(fr.seen), 4; got != want {
		t.Errorf("router saw %d texts, want %d", got, want)
	}
}

func TestRouteJSONLEmptyInput(t *testing.T) {
	var out bytes.Buffer
	if err := routeJSONL(context.Background(), &keywordRouter{}, strings.NewReader(""), &out); err != nil {
		t.Fatalf("routeJSONL: %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("output = %q, want nothing", out.String())
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, fmt.Errorf("disk on fire") }

func TestRouteJSONLReadError(t *testing.T) {
	err := routeJSONL(context.Background(), &keywordRouter{}, failingReader{}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("err = %v, want the read error", err)
	}
}

// runEvo runs evo with the shipped experts and no database or Ollama.
func runEvo(t *testing.T, stdin string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	lookup := func(k string) (string, bool) {
		if v, ok := env[k]; ok {
			return v, true
		}
		switch k {
		case "EXPERTS_DIR":
			return "../../deploy/experts", true
		case "EVO_ENV_FILE":
			return "/dev/null", true
		case "OLLAMA_HOST":
			return "http://127.0.0.1:1", true // nothing listens there
		case "DATABASE_URL":
			return "postgres://nobody@127.0.0.1:1/none", true
		}
		return "", false
	}
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb, lookup)
	return code, out.String(), errb.String()
}

func TestCmdRouteText(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"coding question in Turkish", "Python'da liste nasıl sıralanır?", "python_coder"},
		{"greeting", "selam naber", "tr_chat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runEvo(t, "", nil, "route", tt.text)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, errs)
			}
			objs := decodeLines(t, out)
			if len(objs) != 1 {
				t.Fatalf("%d objects, want 1: %s", len(objs), out)
			}
			if got, want := keys(objs[0]), []string{"confidence", "expert", "fallback", "model"}; !reflect.DeepEqual(got, want) {
				t.Errorf("keys = %v, want %v", got, want)
			}
			if got := objs[0]["expert"]; got != tt.want {
				t.Errorf("expert = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCmdRouteFallbackAndBuiltIn(t *testing.T) {
	// A threshold of 1 sends everything to the base model; a missing
	// EXPERTS_DIR falls back to the experts built into the binary.
	env := map[string]string{"ROUTER_THRESHOLD": "1", "BASE_MODEL": "base-model:1b", "EXPERTS_DIR": t.TempDir() + "/none"}
	code, out, errs := runEvo(t, "", env, "route", "selam")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	o := decodeLines(t, out)[0]
	if o["expert"] != brain.BaseExpert || o["model"] != "base-model:1b" || o["fallback"] != true {
		t.Errorf("decision = %v, want a fallback to base-model:1b", o)
	}
}

// TestCmdRouteEmbedModelWithoutOllama: the embedding vote is optional; with
// Ollama unreachable the router still answers and the log says why.
func TestCmdRouteEmbedModelWithoutOllama(t *testing.T) {
	env := map[string]string{"ROUTER_EMBED_MODEL": "nomic-embed-text"}
	code, out, errs := runEvo(t, "", env, "route", "def f(): pass")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if got := decodeLines(t, out)[0]["expert"]; got != "python_coder" {
		t.Errorf("expert = %v, want python_coder", got)
	}
	if !strings.Contains(errs, "embedding vote off") || !strings.Contains(errs, "nomic-embed-text") {
		t.Errorf("stderr lacks the warning:\n%s", errs)
	}
}

// TestCmdRouteEmbedVote: with ROUTER_EMBED_MODEL on a reachable Ollama,
// the examples are embedded once in batches and each text once more.
func TestCmdRouteEmbedVote(t *testing.T) {
	srv := ollamatest.NewServer(t, ollamatest.WithModels("embedder"))
	env := map[string]string{"ROUTER_EMBED_MODEL": "embedder", "OLLAMA_HOST": srv.URL()}
	in := `{"text":"import os"}` + "\n" + `{"text":"iyi geceler"}` + "\n"
	code, out, errs := runEvo(t, in, env, "route", "--jsonl")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if !strings.Contains(errs, "embedding vote on") {
		t.Errorf("stderr lacks the vote's start:\n%s", errs)
	}
	if got := len(decodeLines(t, out)); got != 2 {
		t.Errorf("%d objects, want 2:\n%s", got, out)
	}
	reqs := srv.EmbedRequests()
	if len(reqs) < 3 {
		t.Fatalf("%d embed requests, want the examples' batches and one per text", len(reqs))
	}
	for _, r := range reqs {
		if r.Model != "embedder" {
			t.Errorf("embed request for model %q, want embedder", r.Model)
		}
	}
	if got, ok := reqs[len(reqs)-1].Input.([]any); !ok || len(got) != 1 || got[0] != "iyi geceler" {
		t.Errorf("last embed input = %#v, want the routed text", reqs[len(reqs)-1].Input)
	}
}

func TestCmdRouteJSONL(t *testing.T) {
	in := `{"text":"for i in range(3): print(i)"}` + "\n" + `{"text":"iyi geceler"}` + "\n" + "{oops\n"
	code, out, errs := runEvo(t, in, nil, "route", "--jsonl")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	objs := decodeLines(t, out)
	if len(objs) != 3 {
		t.Fatalf("%d objects, want 3: %s", len(objs), out)
	}
	if objs[0]["expert"] != "python_coder" || objs[1]["expert"] != "tr_chat" || objs[2]["error"] == nil {
		t.Errorf("objects = %v", objs)
	}
}

func TestCmdRouteEval(t *testing.T) {
	code, out, errs := runEvo(t, "", nil, "route", "eval", "--min-exact", "0.97", "--max-wrong", "0.0125", // router_eval's level in evalFiles
		"../../deploy/experts/eval/router_eval.jsonl")
	if code != 0 {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, want := range []string{"accuracy (exact)", "wrong expert", "fallback to base", "precision", "recall",
		"confusion", "python_coder", "tr_chat", "misrouted (", "reliability", "0.9-1.0", "expected calibration error (ECE)", "thresholds (", "0.72 ", "<- ROUTER_THRESHOLD"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestCmdRouteEvalOffGrid: a ROUTER_THRESHOLD between the table's steps
// gets a row of its own, marked, between its neighbours.
func TestCmdRouteEvalOffGrid(t *testing.T) {
	code, out, errs := runEvo(t, "", map[string]string{"ROUTER_THRESHOLD": "0.65"}, "route", "eval", "--min-exact", "0", "--max-wrong", "1",
		"../../deploy/experts/eval/router_eval.jsonl")
	if code != 0 {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	var rows []string
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 5 && strings.HasPrefix(l, "0.6") && l[4] == ' ' {
			rows = append(rows, l)
		}
	}
	i := slices.IndexFunc(rows, func(l string) bool { return strings.HasPrefix(l, "0.65 ") })
	if i < 1 || i+1 >= len(rows) || !strings.HasPrefix(rows[i-1], "0.64 ") || !strings.HasPrefix(rows[i+1], "0.66 ") {
		t.Fatalf("no row 0.65 between 0.64 and 0.66 in:\n%s", out)
	}
	if !strings.HasSuffix(rows[i], "<- ROUTER_THRESHOLD") || strings.Contains(rows[i+1], "<-") {
		t.Errorf("rows %q, want only 0.65 marked", rows[i-1:i+2])
	}
}

func TestCmdRouteUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no text", []string{"route"}, 2, "no text"},
		{"jsonl with text", []string{"route", "--jsonl", "selam"}, 2, "takes no text"},
		{"eval without file", []string{"route", "eval"}, 2, "one file"},
		{"eval missing file", []string{"route", "eval", "/nonexistent.jsonl"}, 1, "open evaluation file"},
		{"unknown flag", []string{"route", "--nope"}, 1, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runEvo(t, "", nil, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, errs)
			}
			if !strings.Contains(errs, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, errs)
			}
		})
	}
}

func TestWriteReport(t *testing.T) {
	set := []router.Labeled{
		{Line: 1, Text: "def f(): pass", Label: "python_coder"},
		{Line: 2, Text: "merhaba", Label: "tr_chat"},
		{Line: 3, Text: "neden?", Label: "tr_chat"},
		{Line: 4, Text: "def " + strings.Repeat("ş", 200), Label: "tr_chat"},
	}
	rep := router.Evaluate(context.Background(), &keywordRouter{}, []string{"tr_chat", "python_coder"}, set)
	var out bytes.Buffer
	if err := writeReport(&out, "x.jsonl", 0.6, rep); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"4 lines, threshold 0.60",
		"accuracy (exact)       2   50.00%",
		"wrong expert           1   25.00%",
		"fallback to base       1   25.00%",
		"misrouted (2):",
		`line 3: tr_chat -> base (fallback; tr_chat 0.55)  "neden?"`,
		"line 4: tr_chat -> python_coder 0.91",
		"…\"",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}

// copyExperts copies the shipped registry and its evaluation sets to a
// temporary EXPERTS_DIR.
func copyExperts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"", "eval"} {
		src := filepath.Join("../../deploy/experts", sub)
		ents, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			data, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, sub, e.Name()), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// snapshot returns the examples files of dir, to see whether learn wrote.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.examples.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples files in %s (%v)", dir, err)
	}
	out := map[string]string{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = string(data)
	}
	return out
}

func writeReviewed(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "reviewed.jsonl")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCmdRouteLearn: reviewed lines are added to their experts' files,
// the before/after table is printed, every reviewed text then routes to
// its expert, and a second run finds them already there.
func TestCmdRouteLearn(t *testing.T) {
	dir := copyExperts(t)
	env := map[string]string{"EXPERTS_DIR": dir}
	reviewed := writeReviewed(t,
		`{"text": "kuyruk yapısını iki yığınla kuran bir sınıf yazar mısın", "expert": "python_coder"}`,
		`{"text": "# yorum satırı neden çalışmıyor\nprint(1)", "expert": "python_coder"}`,
		`{"text": "torunumun karne hediyesi için ne alsam", "expert": "tr_chat"}`,
	)
	code, out, errs := runEvo(t, "", env, "route", "learn", reviewed)
	if code != 0 {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, want := range []string{"3 reviewed lines: 3 new", "router_eval.jsonl", "router_blind_dev.jsonl",
		"before exact/wrong/fb", "added 2 examples to python_coder.examples.txt", "added 1 examples to tr_chat.examples.txt"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	files := snapshot(t, dir)
	if !strings.Contains(files["python_coder.examples.txt"], "\nkuyruk yapısını iki yığınla kuran bir sınıf yazar mısın\n") {
		t.Error("python_coder.examples.txt lacks the reviewed line")
	}
	if !strings.Contains(files["python_coder.examples.txt"], "~~~\n# yorum satırı neden çalışmıyor\nprint(1)\n~~~\n") {
		t.Error("the text over two lines is not fenced")
	}
	experts, err := brain.LoadExperts(os.DirFS(dir))
	if err != nil {
		t.Fatalf("the written registry does not load: %v", err)
	}
	r, err := router.New(experts, brain.Expert{Name: brain.BaseExpert, Model: "base"}, 0.65)
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"kuyruk yapısını iki yığınla kuran bir sınıf yazar mısın": "python_coder",
		"torunumun karne hediyesi için ne alsam":                  "tr_chat",
	} {
		if d := r.Route(context.Background(), text); d.Fallback || d.Expert != want {
			t.Errorf("%q routes to %s (fallback %v), want %s", text, d.Expert, d.Fallback, want)
		}
	}

	// Again: nothing new, nothing written.
	code, out, errs = runEvo(t, "", env, "route", "learn", reviewed)
	if code != 0 {
		t.Fatalf("second run: exit %d, stderr:\n%s", code, errs)
	}
	if !strings.Contains(out, "0 new, 3 already examples") {
		t.Errorf("second run output:\n%s", out)
	}
	if !reflect.DeepEqual(snapshot(t, dir), files) {
		t.Error("the second run changed the examples files")
	}
}

// TestCmdRouteLearnRefuses: a line that would leak an evaluation line
// into training, or that makes the router worse, is refused with exit 1
// and nothing written.
func TestCmdRouteLearnRefuses(t *testing.T) {
	evalLine := func() string {
		data, err := os.ReadFile("../../deploy/experts/eval/router_dev.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		var l struct{ Text, Label string }
		if err := json.Unmarshal([]byte(strings.SplitN(string(data), "\n", 2)[0]), &l); err != nil {
			t.Fatal(err)
		}
		// Case and punctuation do not hide it.
		b, _ := json.Marshal(map[string]string{"text": strings.ToUpper(l.Text) + "!!", "expert": l.Label})
		return string(b)
	}()
	var mislabelled []string
	for _, s := range []string{"liste", "sözlük", "string", "döngü", "sınıf", "fonksiyon", "dosya", "tarih", "küme", "demet"} {
		for _, q := range []string{"python'da %s nasıl kullanılır", "%s için python kodu yaz", "pythonda %s hatası alıyorum", "%s ile ilgili python örneği"} {
			mislabelled = append(mislabelled, fmt.Sprintf(`{"text": %q, "expert": "tr_chat"}`, fmt.Sprintf(q, s)))
		}
	}
	tests := []struct {
		name    string
		lines   []string
		wantOut string
		wantErr string
	}{
		{"eval line", []string{`{"text": "yeni bir örnek cümle", "expert": "tr_chat"}`, evalLine}, "", "is an evaluation line"},
		{"worse on the eval sets", mislabelled, "exact falls", "refused"},
		{"unknown expert", []string{`{"text": "selam", "expert": "chef"}`}, "", `no expert "chef"`},
		{"no expert", []string{`{"text": "selam"}`}, "", `no "expert"`},
		{"no text", []string{`{"expert": "tr_chat"}`}, "", `no "text"`},
		{"not json", []string{`{oops`}, "", "line 1"},
		{"already another expert's", []string{`{"text": "Python'da liste nasıl sıralanır?", "expert": "tr_chat"}`}, "", "already an example of python_coder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyExperts(t)
			before := snapshot(t, dir)
			code, out, errs := runEvo(t, "", map[string]string{"EXPERTS_DIR": dir}, "route", "learn", writeReviewed(t, tt.lines...))
			if code != 1 {
				t.Errorf("exit %d, want 1; stdout:\n%s\nstderr:\n%s", code, out, errs)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, out)
			}
			if !strings.Contains(errs, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, errs)
			}
			if !reflect.DeepEqual(snapshot(t, dir), before) {
				t.Error("examples files changed")
			}
		})
	}
}

func TestCmdRouteLearnUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantErr  string
	}{
		{"no file", []string{"route", "learn"}, nil, 2, "one file"},
		{"two files", []string{"route", "learn", "a", "b"}, nil, 2, "one file"},
		{"built-in experts", []string{"route", "learn", "x.jsonl"}, map[string]string{"EXPERTS_DIR": "/nonexistent"}, 1, "not a directory"},
		{"missing file", []string{"route", "learn", "/nonexistent.jsonl"}, nil, 1, "open reviewed file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runEvo(t, "", tt.env, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, errs)
			}
			if !strings.Contains(errs, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, errs)
			}
		})
	}
}
