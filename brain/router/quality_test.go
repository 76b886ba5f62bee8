package router

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/evo-tr/evo/brain"
)

// expertsDir is the shipped registry; evalFile the held-back evaluation set.
const (
	expertsDir = "../../deploy/experts"
	evalFile   = "../../deploy/experts/eval/router_eval.jsonl"
)

func loadShipped(tb testing.TB) []brain.Expert {
	tb.Helper()
	experts, err := brain.LoadExperts(os.DirFS(expertsDir))
	if err != nil {
		tb.Fatalf("load experts: %v", err)
	}
	return experts
}

var testBase = brain.Expert{Name: brain.BaseExpert, Model: "qwen2.5:3b-instruct"}

// shippedRouter is trained once for all tests: training under -race is
// slow, and a Router is safe for concurrent use.
var shippedRouter = sync.OnceValues(func() (*Router, error) {
	experts, err := brain.LoadExperts(os.DirFS(expertsDir))
	if err != nil {
		return nil, err
	}
	return New(experts, testBase, shippedThreshold)
})

// shippedThreshold is ROUTER_THRESHOLD's default (cmd/evo/config.go).
const shippedThreshold = 0.65

func newShipped(tb testing.TB) *Router {
	tb.Helper()
	r, err := shippedRouter()
	if err != nil {
		tb.Fatalf("shipped router: %v", err)
	}
	return r
}

func logReport(t *testing.T, name string, rep Report) {
	t.Helper()
	t.Logf("%s: %d lines, exact %.1f%%, wrong %.1f%%, fallback %.1f%%", name, rep.Total,
		100*rep.Accuracy(), 100*rep.WrongRate(), 100*rep.FallbackRate())
	for _, m := range rep.Misses {
		t.Logf("  miss %-12s -> %-12s %.2f %q", m.Label, m.Decision.Candidate, m.Decision.Confidence, m.Text)
	}
}

// TestEvalFiles checks the acceptance targets (>= 97 % exact, <= 1 %
// wrong expert) on the labelled sets the router never trains on: the
// evaluation set, and two blind sets written by someone who never saw the
// examples (the dev one guided tuning; the holdout one never did).
func TestEvalFiles(t *testing.T) {
	for _, name := range []string{"router_eval.jsonl", "router_blind_dev.jsonl", "router_blind_holdout.jsonl"} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join(filepath.Dir(evalFile), name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			set, err := ReadLabeled(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(set) < 150 {
				t.Fatalf("%d lines, want at least 150", len(set))
			}
			r := newShipped(t)
			rep := Evaluate(context.Background(), r, r.Experts(), set)
			logReport(t, name, rep)
			if got := rep.Accuracy(); got < 0.97 {
				t.Errorf("exact = %.3f, want >= 0.97", got)
			}
			if got := rep.WrongRate(); got > 0.01 {
				t.Errorf("wrong expert = %.3f, want <= 0.01", got)
			}
		})
	}
}

// TestHeldOut trains on four fifths of the shipped examples and routes the
// fifth it never saw, for every fifth: a dev split that measures how the
// router generalises beyond its examples.
func TestHeldOut(t *testing.T) {
	experts := loadShipped(t)
	var total Report
	for f := range folds {
		train := make([]brain.Expert, len(experts))
		var held []Labeled
		for i, x := range experts {
			train[i] = x
			train[i].Examples = nil
			for j, ex := range x.Examples {
				if j%folds == f {
					held = append(held, Labeled{Text: ex, Label: x.Name})
				} else {
					train[i].Examples = append(train[i].Examples, ex)
				}
			}
		}
		r, err := New(train, testBase, 0.6)
		if err != nil {
			t.Fatal(err)
		}
		rep := Evaluate(context.Background(), r, r.Experts(), held)
		total.Total += rep.Total
		total.Exact += rep.Exact
		total.Wrong += rep.Wrong
		total.Fallback += rep.Fallback
		total.Misses = append(total.Misses, rep.Misses...)
	}
	logReport(t, "held-out", total)
	// The shipped examples include deliberately confusing pairs (posta
	// kodu, su döngüsü, Python the snake) that only teach when trained on,
	// so this floor is below the evaluation targets; it guards against
	// regressions.
	if got := total.Accuracy(); got < 0.93 {
		t.Errorf("held-out exact = %.3f, want >= 0.93", got)
	}
	if got := total.WrongRate(); got > 0.045 {
		t.Errorf("held-out wrong expert = %.3f, want <= 0.045", got)
	}
}
