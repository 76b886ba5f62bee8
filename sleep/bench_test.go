package sleep_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/sleep"
)

// BenchmarkConsolidate measures the night's own work over a busy day — 20
// users, 2,000 messages, in two chats each — with an instant model and
// in-memory stores: reading, grouping, transcripts, parsing, and writing
// the training files. The model's time is extra (and dominates).
func BenchmarkConsolidate(b *testing.B) {
	h := braintest.NewMemHistory()
	ctx := context.Background()
	for u := range 20 {
		for c := range 2 {
			k := brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: fmt.Sprintf("%d-%d", u, c), UserID: fmt.Sprint(u)}
			for i := range 25 {
				at := night.Add(time.Duration(8*3600+u*600+c*300+i*10) * time.Second)
				for _, r := range []*brain.Record{
					{Key: k, Role: brain.RoleUser, Text: fmt.Sprintf("Python'da %d. soru: listeyi nasıl sıralarım, sözlükte nasıl ararım?", i), Time: at},
					{Key: k, Role: brain.RoleAssistant, Text: "```python\nsorted(liste)\n```\nBöyle sıralarsın; sözlükte `d.get(k)` kullan.",
						Decision: sure("python_coder"), Time: at.Add(time.Second)},
				} {
					if err := h.Append(ctx, r); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	}
	llm := &scriptedLLM{answers: map[string]string{"Kullanıcı": `{"memories":[{"text":"Kullanıcı Python'da sıralama ve sözlük çalışıyor.","tags":["python"]},{"text":"Kullanıcı veri yapılarını öğreniyor.","tags":["öğrenme"]}]}`}}
	j, err := sleep.New(sleep.Config{Model: "m", Location: istanbul, TrainingDir: b.TempDir()}, h, llm,
		braintest.NewMemMemory(braintest.HashEmbedder{}, "hash"), nil, fixedClock{wake}, discard())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := j.Consolidate(ctx, night)
		if err != nil || r.Memories != 40 || r.Examples["python_coder"] != 1000 {
			b.Fatalf("Consolidate = %+v, %v", r, err)
		}
	}
}
