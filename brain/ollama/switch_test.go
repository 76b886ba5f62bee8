package ollama_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama"
	"github.com/evo-tr/evo/brain/ollama/ollamareal"
)

// The expert switch penalty: first-token latency of a message whose expert
// differs from the previous message's, divided by that of a message for
// the same expert. Naive: two adapter experts on one base file (Ollama
// gives them one runner and reloads it on every switch). Chosen (EVO-TR's
// `evo experts sync --resident`): each expert has its own copy of the base
// file, so both runners stay loaded (OLLAMA_MAX_LOADED_MODELS ≥ 3).

// switchSetup syncs two adapter experts, resident or not, and warms them.
func switchSetup(tb testing.TB, resident bool) (*ollama.Client, [2]string) {
	tb.Helper()
	x := newTiny(tb, ollamareal.Config{MaxLoaded: 3})
	adapter2 := ollamareal.WriteFile(tb, "second.lora.gguf", ollamareal.TinyAdapter())
	retag(tb, adapter2, "second expert")
	models := [2]string{"expert_a", "expert_b"}
	experts := []brain.Expert{
		{Name: "a", Model: models[0], Packaging: brain.PackagingAdapter, From: tinyBase, File: x.adapter},
		{Name: "b", Model: models[1], Packaging: brain.PackagingAdapter, From: tinyBase, File: adapter2},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := x.client.Sync(ctx, experts, ollama.SyncOptions{Resident: resident}); err != nil {
		tb.Fatalf("sync: %v", err)
	}
	for r := range ollama.Warm(ctx, x.client, models[:], discard()) {
		if r.Err != nil {
			tb.Fatalf("warm %s: %v", r.Model, r.Err)
		}
	}
	return x.client, models
}

// switchPrompt is a message as the brain sends it: the expert's system
// prompt (cached by the runner after its first message) and a new user
// message of a few sentences.
func switchPrompt(n int) []brain.ChatMessage {
	return []brain.ChatMessage{
		{Role: brain.RoleSystem, Content: "Sen EVO-TR'nin Türkçe sohbet uzmanısın. Kısa ve doğru cevap ver."},
		{Role: brain.RoleUser, Content: fmt.Sprintf("Merhaba, %d. sorum: yarın hava nasıl olacak?", n)},
	}
}

// firstToken is the time from sending message n to its first piece of
// answer. The answer runs to its end (a few milliseconds more): the next
// message then finds the runner idle.
func firstToken(tb testing.TB, c *ollama.Client, model string, n int) time.Duration {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	var first time.Duration
	_, err := c.Chat(ctx, brain.ChatRequest{Model: model, Messages: switchPrompt(n)},
		func(string) error {
			if first == 0 {
				first = time.Since(start)
			}
			return nil
		})
	if err != nil || first == 0 {
		tb.Fatalf("chat %s: %v (first token after %v)", model, err, first)
	}
	return first
}

// switchSample holds first-token latencies after a switch and without one.
type switchSample struct {
	switched, stayed []time.Duration
}

// measure runs rounds of b, b, a, a: the first message of each pair comes
// after a switch, the second stays with the same expert, so both kinds
// interleave and share whatever else the machine is doing.
func (s *switchSample) measure(tb testing.TB, c *ollama.Client, m [2]string, rounds int) {
	tb.Helper()
	n := 0
	ask := func(model string) time.Duration {
		n++
		return firstToken(tb, c, model, n)
	}
	ask(m[0])
	for range rounds {
		for _, model := range []string{m[1], m[0]} {
			s.switched = append(s.switched, ask(model))
			s.stayed = append(s.stayed, ask(model))
		}
	}
}

// ratio is median(after a switch) ÷ median(same expert).
func (s *switchSample) ratio() float64 {
	return float64(median(s.switched)) / float64(median(s.stayed))
}

func (s *switchSample) String() string {
	return fmt.Sprintf("first token after a switch %v, without %v (median of %d each): ratio %.2f",
		median(s.switched).Round(10*time.Microsecond), median(s.stayed).Round(10*time.Microsecond), len(s.stayed), s.ratio())
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkExpertSwitch reports the switch penalty (ratio) for the naive
// and the chosen setup. One op is a few rounds of four messages, so
// -benchtime=1x already gives stable medians (a few seconds in all).
func BenchmarkExpertSwitch(b *testing.B) {
	for _, setup := range []struct {
		name     string
		resident bool
		rounds   int
	}{
		{"naive-shared-base", false, 3},
		{"chosen-resident", true, 20},
	} {
		b.Run(setup.name, func(b *testing.B) {
			c, models := switchSetup(b, setup.resident)
			var s switchSample
			b.ResetTimer()
			for b.Loop() {
				s.measure(b, c, models, setup.rounds)
			}
			b.ReportMetric(float64(median(s.switched).Microseconds())/1000, "ms-ttft-switch")
			b.ReportMetric(float64(median(s.stayed).Microseconds())/1000, "ms-ttft-same")
			b.ReportMetric(s.ratio(), "switch/same")
			b.Logf("%s: %s", setup.name, &s)
		})
	}
}

// TestResidentExpertsSwitchWithoutPenalty checks acceptance: the chosen
// setup's ratio is at most 1.2, while the naive setup pays a reload on
// every switch. Switches and stays interleave, so a busy machine slows
// both alike, and the medians pool 60 messages of each kind.
func TestResidentExpertsSwitchWithoutPenalty(t *testing.T) {
	const maxRatio = 1.2
	t.Run("naive shared base pays a reload", func(t *testing.T) {
		c, models := switchSetup(t, false)
		var s switchSample
		s.measure(t, c, models, 2)
		t.Logf("naive: %s", &s)
		if r := s.ratio(); r < 3 {
			t.Errorf("naive ratio %.2f: expected a reload (ratio ≥ 3) on every switch between experts sharing a base; did Ollama change?", r)
		}
	})
	t.Run("resident copies switch for free", func(t *testing.T) {
		c, models := switchSetup(t, true)
		var s switchSample
		s.measure(t, c, models, 30)
		t.Logf("resident: %s", &s)
		if r := s.ratio(); r > maxRatio {
			t.Errorf("resident ratio %.2f, want ≤ %.1f", r, maxRatio)
		}
	})
}
