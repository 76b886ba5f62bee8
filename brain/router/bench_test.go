package router

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// benchTexts are the evaluation texts plus a long pasted program and a
// huge text (cut by the router), so the figures cover what users send.
func benchTexts(tb testing.TB) []string {
	tb.Helper()
	set := readSet(tb, evalFile)
	var texts []string
	for _, l := range set {
		texts = append(texts, l.Text)
	}
	code := strings.Repeat("def topla(a, b):\n    return a + b  # iki sayıyı topla\n\n", 40)
	prose := strings.Repeat("Dün akşam arkadaşlarla sahilde yürüdük, çok güzeldi. ", 400)
	return append(texts, code, prose)
}

// BenchmarkRoute measures one routing decision and reports the p50 and
// p99 latency over the benchmark texts.
func BenchmarkRoute(b *testing.B) {
	r := newShipped(b)
	texts := benchTexts(b)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		t := texts[i%len(texts)]
		i++
		start := time.Now()
		r.Route(ctx, t)
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds())/1e3, "max-µs")
}

// BenchmarkNew measures training the router on the shipped experts, which
// every start pays.
func BenchmarkNew(b *testing.B) {
	experts := loadShipped(b)
	for b.Loop() {
		if _, err := New(experts, testBase, 0.6); err != nil {
			b.Fatal(err)
		}
	}
}
