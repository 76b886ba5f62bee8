package router

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/evo-tr/evo/brain"
)

func TestRouteHardCases(t *testing.T) {
	r := newShipped(t)
	tests := []struct {
		name, text, want string
	}{
		{"coding question in Turkish", "Python'da liste nasıl sıralanır?", "python_coder"},
		{"ascii turkish coding", "pythonda sozluk nasil siralanir", "python_coder"},
		{"pasted code", "def kare(x):\n    return x * x\n\nprint(kare(4))", "python_coder"},
		{"pasted traceback", "Traceback (most recent call last):\n  File \"a.py\", line 2, in <module>\n    x = int('a')\nValueError: invalid literal for int() with base 10: 'a'", "python_coder"},
		{"algorithm, no code", "ikili arama neden O(log n) çalışır", "python_coder"},
		{"english coding", "how do I read a file line by line in python", "python_coder"},
		{"greeting", "selam", "tr_chat"},
		{"small talk", "naber, nasılsın", "tr_chat"},
		{"summarize", "bu metni özetle", "tr_chat"},
		{"spelling", "yazım hatalarını düzelt: herkez geldi", "tr_chat"},
		{"translation", "bunu İngilizceye çevir: iyi akşamlar", "tr_chat"},
		{"python the snake", "piton yılanı ne kadar uzar", "tr_chat"},
		{"long prose", strings.Repeat("Dün akşam arkadaşlarla sahilde yürüdük, hava çok güzeldi. ", 30), "tr_chat"},
		{"english prose to summarize", "Summarize this:\n\nThe new library downtown opened on Monday. It has a large children's section, a quiet reading room and a small café. Volunteers will offer free language classes every weekend.", "tr_chat"},
		{"spreadsheet formula", "excel'de ETOPLA formülüyle iki koşula göre toplam almak", "tr_chat"},
		{"math homework", "3x - 7 = 8 denklemini adım adım çözer misin", "tr_chat"},
		{"algorithm by name", "merge sort nedir", "python_coder"},
		{"git", "git'te yanlış dosyayı commitledim nasıl çıkarırım", "python_coder"},
		{"sql", "SQL'de iki tabloyu birleştirip sayım yapmak", "python_coder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := r.Route(context.Background(), tt.text)
			if d.Expert != tt.want || d.Fallback {
				t.Errorf("Route = %s, want %s", d, tt.want)
			}
			if d.Model != tt.want { // the shipped experts' models carry their names
				t.Errorf("model = %q, want %q", d.Model, tt.want)
			}
		})
	}
}

// TestRouteBadInput: no input makes the router panic or return an unusable
// decision.
func TestRouteBadInput(t *testing.T) {
	r := newShipped(t)
	tests := []struct {
		name, text string
		fallback   bool
	}{
		{"empty", "", true},
		{"spaces", " \t\n\r ", true},
		{"invalid utf-8", "\xff\xfe\xfd merhaba \xc3", false},
		{"only invalid utf-8", "\xff\xfe\xfd", false},
		{"nul bytes", "a\x00b\x00c", false},
		{"huge", strings.Repeat("çok uzun bir mesaj ", 1<<19), false},
		{"huge single line of code", strings.Repeat("x=1;", 1<<20), false},
		{"emoji", "🙂🙂🙂", false},
		{"arabic", "السلام عليكم", false},
		{"cut rune at the clip boundary", strings.Repeat("a", headBytes-1) + strings.Repeat("ş", 3000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := r.Route(context.Background(), tt.text)
			if d.Expert == "" || d.Model == "" {
				t.Fatalf("decision has no expert or model: %+v", d)
			}
			if d.Confidence < 0 || d.Confidence > 1 || math.IsNaN(d.Confidence) {
				t.Errorf("confidence = %v, want within [0, 1]", d.Confidence)
			}
			if tt.fallback {
				want := brain.Decision{Expert: brain.BaseExpert, Model: testBase.Model, Fallback: true}
				if d != want {
					t.Errorf("Route = %+v, want %+v", d, want)
				}
			}
		})
	}
}

func TestRouteDecisionFields(t *testing.T) {
	text := "listeyi ters çevirmek istiyorum python"
	tests := []struct {
		name      string
		threshold float64
		fallback  bool
	}{
		{"sure enough", 0.6, false},
		{"always falls back", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newShipped(t)
			if tt.threshold != 0.6 {
				var err error
				if r, err = New(loadShipped(t), testBase, tt.threshold); err != nil {
					t.Fatal(err)
				}
			}
			d := r.Route(context.Background(), text)
			if d.Fallback != tt.fallback {
				t.Fatalf("fallback = %v, want %v (%+v)", d.Fallback, tt.fallback, d)
			}
			if d.Candidate != "python_coder" || d.RunnerUp != "tr_chat" {
				t.Errorf("candidate, runner-up = %q, %q; want python_coder, tr_chat", d.Candidate, d.RunnerUp)
			}
			if got := d.Confidence + d.RunnerUpConfidence; math.Abs(got-1) > 1e-9 {
				t.Errorf("confidences sum to %v, want 1", got)
			}
			if d.Confidence < d.RunnerUpConfidence {
				t.Errorf("confidence %v below the runner-up's %v", d.Confidence, d.RunnerUpConfidence)
			}
			wantExpert, wantModel := "python_coder", "python_coder"
			if tt.fallback {
				wantExpert, wantModel = brain.BaseExpert, testBase.Model
			}
			if d.Expert != wantExpert || d.Model != wantModel {
				t.Errorf("expert, model = %q, %q; want %q, %q", d.Expert, d.Model, wantExpert, wantModel)
			}
		})
	}
}

func TestNewIsDeterministic(t *testing.T) {
	a := newShipped(t)
	b, err := New(loadShipped(t), testBase, shippedThreshold)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range benchTexts(t) {
		if da, db := a.Route(context.Background(), text), b.Route(context.Background(), text); da != db {
			t.Fatalf("two trainings disagree on %q: %+v vs %+v", text, da, db)
		}
	}
}

func TestRouteConcurrent(t *testing.T) {
	r := newShipped(t)
	texts := benchTexts(t)
	want := make([]brain.Decision, len(texts))
	for i, text := range texts {
		want[i] = r.Route(context.Background(), text)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range texts {
				j := (i + g*7) % len(texts)
				if got := r.Route(context.Background(), texts[j]); got != want[j] {
					errs <- fmt.Sprintf("goroutine %d, text %d: %+v, want %+v", g, j, got, want[j])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// expert builds a test expert whose examples are the given lines.
func expert(name string, examples ...string) brain.Expert {
	return brain.Expert{Name: name, Model: name + "-model", SystemPrompt: "p", Examples: examples}
}

func TestNewErrors(t *testing.T) {
	a := expert("a", "bir", "iki")
	tests := []struct {
		name      string
		experts   []brain.Expert
		base      brain.Expert
		threshold float64
		want      string
	}{
		{"no experts", nil, testBase, 0.6, "no experts"},
		{"threshold above 1", []brain.Expert{a}, testBase, 1.5, "threshold"},
		{"negative threshold", []brain.Expert{a}, testBase, -0.1, "threshold"},
		{"no base model", []brain.Expert{a}, brain.Expert{Name: "base"}, 0.6, "base model"},
		{"duplicate expert", []brain.Expert{a, a}, testBase, 0.6, "twice"},
		{"no model", []brain.Expert{a, {Name: "b", Examples: []string{"x"}}}, testBase, 0.6, "no name or model"},
		{"no examples", []brain.Expert{a, expert("b", " ", "")}, testBase, 0.6, `"b" has no examples`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.experts, tt.base, tt.threshold)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSingleExpertAnswersEverything(t *testing.T) {
	r, err := New([]brain.Expert{expert("only", "merhaba")}, brain.Expert{Model: "b"}, 0.6)
	if err != nil {
		t.Fatal(err)
	}
	d := r.Route(context.Background(), "def f(): pass")
	if d.Expert != "only" || d.Model != "only-model" || d.Fallback || d.Confidence != 1 {
		t.Errorf("Route = %+v, want only with confidence 1", d)
	}
	if d := r.Route(context.Background(), ""); d.Expert != brain.BaseExpert || !d.Fallback {
		t.Errorf("empty text: Route = %+v, want the base model", d)
	}
}

// TestThirdExpertFromFilesOnly adds an expert by data alone and checks
// that the router learns it.
func TestThirdExpertFromFilesOnly(t *testing.T) {
	experts := loadShipped(t)
	experts = append(experts, brain.Expert{
		Name: "astrolog", Model: "astrolog-model", SystemPrompt: "Astroloji yorumcususun.",
		Examples: strings.Split(`koç burcu bu hafta ne yapmalı
yükselen burcum ne demek
boğa burcunun özellikleri
ikizler ile başak uyumlu mu
Merkür retrosu ne zaman bitiyor
doğum haritamı yorumlar mısın
akrep burcu kadını nasıldır
yay burcu erkeği ile terazi uyumu
aslan burcu bugün şanslı mı
oğlak burcunun zayıf yönleri
kova burcu için aşk yorumu
balık burcunun elementi ne
yengeç burcu annesi nasıl olur
ay burcum hangisi
venüs hangi burçta
Satürn dönüşü nedir
burcuma göre hangi meslek uygun
terazi burcu haftalık yorum
yükselen akrep ne anlama gelir
burç uyumu testi`, "\n"),
		Keywords: []string{"burç*", "burc*", "yükselen*", "retro*", "doğum haritası"},
	})
	r, err := New(experts, testBase, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Experts(); len(got) != 3 || got[2] != "astrolog" {
		t.Fatalf("experts = %v", got)
	}
	tests := []struct{ text, want string }{
		{"balık burcu bu ay ne bekliyor", "astrolog"},
		{"python'da liste nasıl sıralanır", "python_coder"},
		{"selam, nasılsın", "tr_chat"},
	}
	for _, tt := range tests {
		if d := r.Route(context.Background(), tt.text); d.Expert != tt.want {
			t.Errorf("Route(%q) = %s, want %s", tt.text, d, tt.want)
		}
	}
}

// TestFoldModelsVote: the fold models vote with the final model, so the
// probabilities still sum to 1 and the router stays deterministic.
func TestFoldModelsVote(t *testing.T) {
	r := newShipped(t)
	if got, want := len(r.model.bag), folds; got != want {
		t.Fatalf("fold models = %d, want %d", got, want)
	}
	sc := &scratch{}
	for _, text := range []string{"selam", "def f(): pass", "dijkstra nedir", "The weather was lovely."} {
		t.Run(text, func(t *testing.T) {
			p := make([]float64, 2)
			r.model.predict(r.fz.extract(text, sc), p, make([]float64, 2))
			if got := p[0] + p[1]; math.Abs(got-1) > 1e-9 {
				t.Errorf("sum of probabilities = %v, want 1", got)
			}
			single := make([]float64, 2)
			r.model.scores(r.fz.extract(text, sc), single)
			softmax(single, r.model.temp)
			lo, hi := min(single[0], p[0]), max(single[0], p[0])
			for _, b := range r.model.bag {
				q := make([]float64, 2)
				b.scores(r.fz.extract(text, sc), q)
				softmax(q, r.model.temp)
				lo, hi = min(lo, q[0]), max(hi, q[0])
			}
			if p[0] < lo-1e-9 || p[0] > hi+1e-9 {
				t.Errorf("voted p = %v, want between the members' %v and %v", p[0], lo, hi)
			}
		})
	}
}
