package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

// BenchmarkRecent loads a 20-message context window from one user's
// history of 10k and of 100k messages: the cost is the same, because the
// query reads the window from the end of the conversation's index.
func BenchmarkRecent(b *testing.B) {
	k := brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "77", UserID: "77"}
	for _, size := range []int{10_000, 100_000} {
		s := openTest(b, pgtest.NewSchema(b))
		fill(b, s, k, size)
		b.Run(fmt.Sprintf("history=%dk", size/1000), func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				recs, err := s.Recent(ctx, k, 20)
				if err != nil || len(recs) != 20 {
					b.Fatalf("Recent: got %d records, %v", len(recs), err)
				}
			}
		})
	}
}

// BenchmarkAppend stores messages one after another and from parallel
// writers (different users in one group chat).
func BenchmarkAppend(b *testing.B) {
	s := openTest(b, pgtest.NewSchema(b))
	rec := func(user string) *brain.Record {
		return &brain.Record{Key: brain.ConvKey{Platform: brain.PlatformDiscord, ChatID: "g", UserID: user},
			ChatKind: brain.ChatGroup, UserName: "Ayşe", Role: brain.RoleAssistant,
			Text:         "Merhaba! Sana nasıl yardımcı olabilirim? 🙂",
			Decision:     &brain.Decision{Expert: "tr_chat", Model: "evo-tr", Confidence: 0.91, RunnerUp: "python_coder"},
			PromptTokens: 512, ReplyTokens: 48, Latency: 1500 * time.Millisecond, Time: time.Now()}
	}
	b.Run("serial", func(b *testing.B) {
		ctx := context.Background()
		for b.Loop() {
			if err := s.Append(ctx, rec("serial")); err != nil {
				b.Fatalf("Append: %v", err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		ctx := context.Background()
		var writers atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			user := fmt.Sprintf("writer%d", writers.Add(1))
			for pb.Next() {
				if err := s.Append(ctx, rec(user)); err != nil {
					b.Errorf("Append: %v", err)
					return
				}
			}
		})
	})
}
