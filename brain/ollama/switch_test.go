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
	// Only the first token is timed: short answers keep the runs quick.
	c := ollama.New(x.srv.URL, nil, ollama.Options{NumCtx: 2048, NumPredict: 4, KeepAlive: -1}, discard())
	return c, models
}

// switchPrompt is message n as the brain sends it: the expert's system
// prompt (the runner keeps it cached) and a new user message of two
// sentences, which the model reads before its first token.
func switchPrompt(n int) []brain.ChatMessage {
	return []brain.ChatMessage{
		{Role: brain.RoleSystem, Content: "Sen EVO-TR'nin Türkçe sohbet uzmanısın. Kısa ve doğru cevap ver."},
		{Role: brain.RoleUser, Content: fmt.Sprintf("%d. soru: yarın sabah İstanbul'da hava nasıl olacak, "+
			"işe giderken şemsiye almalı mıyım? Akşam için de kısa bir mercimek çorbası tarifi verir misin?", n)},
	}
}

// firstToken is the time from sending message n to its first piece of
// answer, and the server's load time for it. The answer runs to its end
// (it is short): the next message then finds the runner idle.
func firstToken(tb testing.TB, c *ollama.Client, model string, n int) (time.Duration, time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	var first time.Duration
	stats, err := c.Chat(ctx, brain.ChatRequest{Model: model, Messages: switchPrompt(n)},
		func(string) error {
			if first == 0 {
				first = time.Since(start)
			}
			return nil
		})
	if err != nil || first == 0 {
		tb.Fatalf("chat %s: %v (first token after %v)", model, err, first)
	}
	return first, stats.LoadDuration
}

// reloadFloor: a load_duration above it means the server (re)started a
// runner for the message; finding a loaded runner takes well under a
// millisecond, starting one ≥ 250 ms even for the tiny model.
const reloadFloor = 100 * time.Millisecond

// switchSample holds first-token latencies after a switch and without one,
// and how many of those messages made the server load a model.
type switchSample struct {
	switched, stayed               []time.Duration
	reloadsSwitched, reloadsStayed int
}

// measure runs rounds of b, b, a, a: the first message of each pair comes
// after a switch, the second stays with the same expert, so both kinds
// interleave and share whatever else the machine is doing.
func (s *switchSample) measure(tb testing.TB, c *ollama.Client, m [2]string, rounds int) {
	tb.Helper()
	n := 0
	ask := func(model string, into *[]time.Duration, reloads *int) {
		n++
		first, load := firstToken(tb, c, model, n)
		if into != nil {
			*into = append(*into, first)
		}
		if load > reloadFloor && reloads != nil {
			*reloads++
		}
	}
	ask(m[0], nil, nil)
	for range rounds {
		for _, model := range []string{m[1], m[0]} {
			ask(model, &s.switched, &s.reloadsSwitched)
			ask(model, &s.stayed, &s.reloadsStayed)
		}
	}
}

// ratio is median(after a switch) ÷ median(same expert).
func (s *switchSample) ratio() float64 {
	return float64(median(s.switched)) / float64(median(s.stayed))
}

func (s *switchSample) String() string {
	return fmt.Sprintf("first token after a switch %v, without %v (median of %d each): ratio %.2f; reloads %d and %d",
		median(s.switched).Round(10*time.Microsecond), median(s.stayed).Round(10*time.Microsecond), len(s.stayed), s.ratio(),
		s.reloadsSwitched, s.reloadsStayed)
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

// TestResidentExpertsSwitchWithoutPenalty checks acceptance 2: with
// resident copies no message reloads a model and the switch ratio is at
// most 1.2, while with a shared base every switch reloads. Switches and
// stays interleave, so a busy machine slows both alike, and the medians
// pool 50 messages of each kind.
func TestResidentExpertsSwitchWithoutPenalty(t *testing.T) {
	const maxRatio = 1.2
	t.Run("naive shared base reloads on every switch", func(t *testing.T) {
		c, models := switchSetup(t, false)
		var s switchSample
		s.measure(t, c, models, 2)
		t.Logf("naive: %s", &s)
		if s.reloadsSwitched != len(s.switched) || s.reloadsStayed != 0 {
			t.Errorf("reloads: %d of %d switches, %d of %d stays; want every switch and no stay (did Ollama change?)",
				s.reloadsSwitched, len(s.switched), s.reloadsStayed, len(s.stayed))
		}
	})
	t.Run("resident copies switch for free", func(t *testing.T) {
		c, models := switchSetup(t, true)
		var s switchSample
		s.measure(t, c, models, 25)
		t.Logf("resident: %s", &s)
		if s.reloadsSwitched+s.reloadsStayed != 0 {
			t.Errorf("%d messages reloaded a model, want none", s.reloadsSwitched+s.reloadsStayed)
		}
		if r := s.ratio(); r > maxRatio {
			t.Errorf("resident ratio %.2f, want ≤ %.1f", r, maxRatio)
		}
	})
}
