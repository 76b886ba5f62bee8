package ollamatest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ollama/ollama/api"
)

// do sends one raw request and returns status, content type and body.
func do(t *testing.T, s *Server, method, path, body string) (int, string, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.URL()+path, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// lines splits an NDJSON body into decoded objects.
func lines(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

const chatBody = `{"model":"tr_chat","messages":[{"role":"user","content":"Merhaba dünya"}]}`

func TestRoutesAndErrorBodies(t *testing.T) {
	s := NewServer(t)
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantBody                 string // exact, when set
	}{
		{"head root", "HEAD", "/", "", 200, ""},
		{"get root", "GET", "/", "", 200, "Ollama is running"},
		{"version", "GET", "/api/version", "", 200, `{"version":"0.6.5"}`},
		{"chat bad JSON", "POST", "/api/chat", "{", 400, `{"error":"unexpected EOF"}`},
		{"chat no body", "POST", "/api/chat", "", 400, `{"error":"missing request body"}`},
		{"chat no model", "POST", "/api/chat", `{"messages":[{"role":"user","content":"x"}]}`, 400, `{"error":"model is required"}`},
		{"chat missing model", "POST", "/api/chat", `{"model":"yok","messages":[{"role":"user","content":"x"}]}`,
			404, `{"error":"model \"yok\" not found, try pulling it first"}`},
		{"chat option of wrong type", "POST", "/api/chat",
			`{"model":"tr_chat","messages":[{"role":"user","content":"x"}],"options":{"num_ctx":"big"}}`,
			500, `{"error":"option \"num_ctx\" must be of type integer"}`},
		{"chat unknown option ignored", "POST", "/api/chat",
			`{"model":"tr_chat","stream":false,"messages":[{"role":"user","content":"x"}],"options":{"bogus":1}}`, 200, ""},
		{"unload missing model", "POST", "/api/chat", `{"model":"yok","messages":[],"keep_alive":0}`,
			404, `{"error":"model 'yok' not found"}`},
		{"generate missing model", "POST", "/api/generate", `{"model":"yok","prompt":"x"}`, 404, `{"error":"model 'yok' not found"}`},
		{"embed bad input", "POST", "/api/embed", `{"model":"tr_chat","input":5}`, 400, `{"error":"invalid input type"}`},
		{"embed missing model", "POST", "/api/embed", `{"model":"yok","input":"x"}`,
			404, `{"error":"model \"yok\" not found, try pulling it first"}`},
		{"show missing model", "POST", "/api/show", `{"model":"yok"}`, 404, `{"error":"model 'yok' not found"}`},
		{"show no model", "POST", "/api/show", `{}`, 400, `{"error":"model is required"}`},
		{"delete missing model", "DELETE", "/api/delete", `{"model":"yok"}`, 404, `{"error":"model 'yok' not found"}`},
		{"head missing blob", "HEAD", "/api/blobs/" + digest, "", 404, ""},
		{"blob bad digest", "POST", "/api/blobs/sha256:xyz", "data", 400, `{"error":"invalid digest format"}`},
		{"blob digest mismatch", "POST", "/api/blobs/" + digest, "data", 400, ""},
		{"create bad name", "POST", "/api/create", `{"model":"","from":"tr_chat"}`, 400, `{"error":"invalid model name"}`},
		{"unknown path", "GET", "/api/nope", "", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, ctype, body := do(t, s, tc.method, tc.path, tc.body)
			if status != tc.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", status, tc.wantStatus, body)
			}
			if tc.wantBody != "" && string(body) != tc.wantBody {
				t.Errorf("body = %s, want %s", body, tc.wantBody)
			}
			if strings.HasPrefix(tc.wantBody, "{") && ctype != "application/json; charset=utf-8" {
				t.Errorf("content type = %q, want JSON", ctype)
			}
		})
	}
}

func TestChatWireFormat(t *testing.T) {
	s := NewServer(t)
	status, ctype, body := do(t, s, "POST", "/api/chat", chatBody)
	if status != 200 || ctype != "application/x-ndjson" {
		t.Fatalf("status %d, content type %q; want 200 NDJSON", status, ctype)
	}
	ls := lines(t, body)
	if len(ls) < 3 {
		t.Fatalf("got %d lines, want tokens and a final line", len(ls))
	}
	var text strings.Builder
	for i, l := range ls[:len(ls)-1] {
		msg, _ := l["message"].(map[string]any)
		if l["model"] != "tr_chat" || l["done"] != false || msg["role"] != "assistant" {
			t.Errorf("line %d = %v, want model, done:false, message.role assistant", i, l)
		}
		if _, err := time.Parse(time.RFC3339Nano, l["created_at"].(string)); err != nil {
			t.Errorf("line %d created_at: %v", i, err)
		}
		if _, ok := l["done_reason"]; ok {
			t.Errorf("line %d has done_reason before the end", i)
		}
		text.WriteString(msg["content"].(string))
	}
	last := ls[len(ls)-1]
	if last["done"] != true || last["done_reason"] != "stop" || last["message"].(map[string]any)["content"] != "" {
		t.Errorf("final line = %v, want done, done_reason stop, empty content", last)
	}
	for _, k := range []string{"total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"} {
		v, ok := last[k].(float64)
		if !ok || v <= 0 || v != math.Trunc(v) {
			t.Errorf("final line %s = %v, want a positive integer", k, last[k])
		}
	}
	if n := int(last["eval_count"].(float64)); n != len(ls)-1 {
		t.Errorf("eval_count = %d, want %d (one line per token)", n, len(ls)-1)
	}
	want := DefaultReply(api.ChatRequest{Model: "tr_chat", Messages: []api.Message{{Role: "user", Content: "Merhaba dünya"}}})
	if text.String() != want {
		t.Errorf("streamed %q, want %q", text.String(), want)
	}
}

func TestChatVariants(t *testing.T) {
	msgs := `"messages":[{"role":"user","content":"bir iki üç dört beş altı"}]`
	tests := []struct {
		name       string
		body       string
		wantReason string
		check      func(t *testing.T, last map[string]any, text string)
	}{
		{name: "stream false is one JSON", body: `{"model":"tr_chat","stream":false,` + msgs + `}`, wantReason: "stop",
			check: func(t *testing.T, _ map[string]any, text string) {
				if !strings.Contains(text, "bir iki üç") {
					t.Errorf("content %q, want the whole reply", text)
				}
			}},
		{name: "num_predict stops at length", body: `{"model":"tr_chat","stream":false,"options":{"num_predict":2},` + msgs + `}`,
			wantReason: "length", check: func(t *testing.T, last map[string]any, text string) {
				if last["eval_count"] != 2.0 || text != "Merhaba! Mesajını " {
					t.Errorf("eval_count %v, content %q; want 2 tokens", last["eval_count"], text)
				}
			}},
		{name: "stop option cuts the reply", body: `{"model":"tr_chat","stream":false,"options":{"stop":["aldım"]},` + msgs + `}`,
			wantReason: "stop", check: func(t *testing.T, _ map[string]any, text string) {
				if text != "Merhaba! Mesajını " {
					t.Errorf("content %q, want it cut before the stop word", text)
				}
			}},
		{name: "preload", body: `{"model":"tr_chat","messages":[]}`, wantReason: "load",
			check: func(t *testing.T, last map[string]any, _ string) {
				if _, ok := last["load_duration"]; ok {
					t.Errorf("preload reply has load_duration; Ollama v0.6.5 sends none")
				}
			}},
		{name: "unload", body: `{"model":"tr_chat","messages":[],"keep_alive":0}`, wantReason: "unload"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(t)
			status, ctype, body := do(t, s, "POST", "/api/chat", tc.body)
			if status != 200 || ctype != "application/json; charset=utf-8" {
				t.Fatalf("status %d, content type %q, body %s; want one JSON object", status, ctype, body)
			}
			var last map[string]any
			if err := json.Unmarshal(body, &last); err != nil {
				t.Fatal(err)
			}
			if last["done"] != true || last["done_reason"] != tc.wantReason {
				t.Errorf("reply = %s, want done with reason %q", body, tc.wantReason)
			}
			if tc.check != nil {
				tc.check(t, last, last["message"].(map[string]any)["content"].(string))
			}
		})
	}
}

func TestLoadsAndPs(t *testing.T) {
	s := NewServer(t)
	chat := func(numCtx string) {
		body := `{"model":"tr_chat","stream":false,"keep_alive":-1,"options":{"num_ctx":` + numCtx + `},"messages":[{"role":"user","content":"x"}]}`
		if status, _, b := do(t, s, "POST", "/api/chat", body); status != 200 {
			t.Fatalf("chat: %d %s", status, b)
		}
	}
	chat("2048")
	chat("2048")
	chat("4096") // a different num_ctx reloads, as in Ollama
	if got := s.Loads(); !slices.Equal(got, []string{"tr_chat:latest", "tr_chat:latest"}) {
		t.Errorf("loads = %q, want two loads of tr_chat", got)
	}
	_, _, body := do(t, s, "GET", "/api/ps", "")
	var ps api.ProcessResponse
	if err := json.Unmarshal(body, &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps.Models) != 1 || ps.Models[0].Name != "tr_chat:latest" || ps.Models[0].ContextLength != 4096 ||
		ps.Models[0].ExpiresAt.Before(time.Now().Add(24*time.Hour)) {
		t.Errorf("ps = %+v, want tr_chat with num_ctx 4096 kept loaded", ps.Models)
	}
}

func TestCreateFromBlobs(t *testing.T) {
	s := NewServer(t, WithModels("base"))
	data := []byte("GGUF fake model bytes")
	sum := sha256.Sum256(data)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	for i, want := range []int{201, 200} {
		if status, _, b := do(t, s, "POST", "/api/blobs/"+digest, string(data)); status != want {
			t.Errorf("upload %d: status %d (%s), want %d", i, status, b, want)
		}
	}
	if status, _, _ := do(t, s, "HEAD", "/api/blobs/"+digest, ""); status != 200 {
		t.Errorf("HEAD blob = %d, want 200", status)
	}

	tests := []struct {
		name      string
		body      string
		wantError string // "" means the last line is success
		wantModel string
	}{
		{name: "from files", body: `{"model":"tr_chat","files":{"m.gguf":"` + digest + `"},"parameters":{"num_predict":64}}`, wantModel: "tr_chat"},
		{name: "adapter on a base", body: `{"model":"uzman","from":"base","adapters":{"a.gguf":"` + digest + `"}}`, wantModel: "uzman"},
		{name: "missing base", body: `{"model":"x","from":"yok"}`, wantError: `pull model manifest: model "yok" not found`},
		{name: "missing blob", body: `{"model":"x","files":{"m.gguf":"sha256:` + strings.Repeat("0", 64) + `"}}`, wantError: "no such file"},
		{name: "two adapters", body: `{"model":"x","from":"base","adapters":{"a.gguf":"` + digest + `","b.gguf":"` + digest + `"}}`,
			wantError: "only one adapter is currently supported"},
		{name: "nothing to build from", body: `{"model":"x"}`, wantError: "neither 'from' or 'files' was specified"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, ctype, body := do(t, s, "POST", "/api/create", tc.body)
			if status != 200 || ctype != "application/x-ndjson" {
				t.Fatalf("status %d, content type %q; want a 200 NDJSON stream", status, ctype)
			}
			ls := lines(t, body)
			last := ls[len(ls)-1]
			if tc.wantError != "" {
				if msg, _ := last["error"].(string); !strings.Contains(msg, tc.wantError) {
					t.Errorf("last line = %v, want error %q", last, tc.wantError)
				}
				return
			}
			if last["status"] != "success" || len(ls) < 3 {
				t.Errorf("lines = %v, want progress ending in success", ls)
			}
			if !s.HasModel(tc.wantModel) {
				t.Errorf("model %q not created", tc.wantModel)
			}
		})
	}
	if p := s.ModelParams("tr_chat"); p["num_predict"] != 64.0 {
		t.Errorf("tr_chat parameters = %v, want num_predict 64", p)
	}
	status, _, body := do(t, s, "POST", "/api/create", `{"model":"y","from":"base","stream":false}`)
	if status != 200 || string(body) != `{"status":"success"}` {
		t.Errorf("create without stream = %d %s, want 200 {\"status\":\"success\"}", status, body)
	}
	status, _, body = do(t, s, "POST", "/api/create", `{"model":"y","stream":false}`)
	if status != 400 || !strings.Contains(string(body), "neither") {
		t.Errorf("failing create without stream = %d %s, want 400 with the error", status, body)
	}
	_, _, body = do(t, s, "GET", "/api/tags", "")
	var tags api.ListResponse
	if err := json.Unmarshal(body, &tags); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range tags.Models {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	if want := []string{"base:latest", "tr_chat:latest", "uzman:latest", "y:latest"}; !slices.Equal(names, want) {
		t.Errorf("tags = %q, want %q", names, want)
	}
	if status, _, _ := do(t, s, "DELETE", "/api/delete", `{"model":"y"}`); status != 200 || s.HasModel("y") {
		t.Errorf("delete = %d, want 200 and the model gone", status)
	}
}

func TestGenerateStreams(t *testing.T) {
	s := NewServer(t)
	_, ctype, body := do(t, s, "POST", "/api/generate", `{"model":"tr_chat","prompt":"selam"}`)
	ls := lines(t, body)
	var text strings.Builder
	for _, l := range ls {
		text.WriteString(l["response"].(string))
	}
	if ctype != "application/x-ndjson" || !strings.Contains(text.String(), "«selam»") || ls[len(ls)-1]["done"] != true {
		t.Errorf("generate streamed %q (%s), want the reply and a final line", text.String(), ctype)
	}
	_, _, body = do(t, s, "POST", "/api/generate", `{"model":"tr_chat","prompt":""}`)
	if !strings.Contains(string(body), `"done_reason":"load"`) {
		t.Errorf("empty prompt = %s, want a load reply", body)
	}
}

func TestEmbedVectors(t *testing.T) {
	s := NewServer(t)
	_, _, body := do(t, s, "POST", "/api/embed", `{"model":"tr_chat","input":"tek metin"}`)
	var one api.EmbedResponse
	if err := json.Unmarshal(body, &one); err != nil || len(one.Embeddings) != 1 || len(one.Embeddings[0]) != DefaultEmbedDims {
		t.Fatalf("embed string = %s, %v; want one %d-dim vector", body, err, DefaultEmbedDims)
	}
	cos := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	tests := []struct{ text string }{{""}, {"merhaba"}, {strings.Repeat("çok uzun ", 5000)}, {"\xff\xfe"}}
	for _, tc := range tests {
		v := Vector(tc.text, 64)
		if n := math.Sqrt(cos(v, v)); math.Abs(n-1) > 1e-5 {
			t.Errorf("Vector(%.10q) norm = %f, want 1", tc.text, n)
		}
		if !slices.Equal(v, Vector(tc.text, 64)) {
			t.Errorf("Vector(%.10q) not deterministic", tc.text)
		}
	}
	a := Vector("python ile liste nasıl sıralanır", 64)
	b := Vector("Python'da bir liste nasıl sıralanır?", 64)
	c := Vector("yarın İstanbul'da hava yağmurlu mu", 64)
	if cos(a, b) <= cos(a, c) {
		t.Errorf("similar texts cos %.3f <= unrelated %.3f, want closer", cos(a, b), cos(a, c))
	}
}

func TestFaultTimes(t *testing.T) {
	s := NewServer(t)
	s.Inject(Fault{Kind: FaultStatus, Status: 500, Times: 1})
	want := []int{500, 200, 200}
	for i, w := range want {
		if status, _, b := do(t, s, "POST", "/api/chat", chatBody); status != w {
			t.Errorf("request %d: status %d (%s), want %d", i, status, b, w)
		}
	}
	s.Inject(Fault{Kind: FaultStatus, Status: 503})
	s.ClearFaults()
	if status, _, _ := do(t, s, "POST", "/api/chat", chatBody); status != 200 {
		t.Errorf("after ClearFaults: status %d, want 200", status)
	}
}

func TestTokensAndEcho(t *testing.T) {
	tests := []string{"", "tek", "Merhaba dünya, nasılsın?", strings.Repeat("ğ", 50), "a\xffb \xc3", "çok  boşluk  "}
	for _, text := range tests {
		toks := Tokens(text)
		if strings.Join(toks, "") != text {
			t.Errorf("Tokens(%q) = %q, do not join back", text, toks)
		}
		for _, tok := range toks {
			if len(tok) > maxTokenBytes || (utf8.ValidString(text) && !utf8.ValidString(tok)) {
				t.Errorf("Tokens(%q): token %q too long or splits a rune", text, tok)
			}
		}
	}
	if got := Echo("  çok\n\tboşluk  "); got != "çok boşluk" {
		t.Errorf("Echo = %q, want words on one line", got)
	}
	if got := Echo(strings.Repeat("ş", 100)); utf8.RuneCountInString(got) != EchoRunes {
		t.Errorf("Echo kept %d runes, want %d", utf8.RuneCountInString(got), EchoRunes)
	}
}

func TestRecordsAndReset(t *testing.T) {
	s := NewServer(t)
	do(t, s, "POST", "/api/chat", chatBody)
	do(t, s, "POST", "/api/embed", `{"model":"tr_chat","input":["a","b"]}`)
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[0].Path != "/api/chat" || string(reqs[0].Body) != chatBody {
		t.Errorf("requests = %+v, want the chat then the embed with bodies", reqs)
	}
	if got := s.ChatRequests(); len(got) != 1 || LastUser(got[0]) != "Merhaba dünya" {
		t.Errorf("chat requests = %+v, want the decoded chat", got)
	}
	if got := s.EmbedRequests(); len(got) != 1 {
		t.Errorf("embed requests = %d, want 1", len(got))
	}
	s.ResetRecords()
	if len(s.Requests())+len(s.ChatRequests())+len(s.EmbedRequests())+len(s.Loads()) != 0 {
		t.Error("ResetRecords left records")
	}
}
