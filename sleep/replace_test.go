package sleep_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/memory/longterm"
	"github.com/evo-tr/evo/sleep"
)

// newLongTerm is long-term memory over in-memory rows and index.
func newLongTerm(t *testing.T) (*longterm.Memory, *braintest.MemRows, *braintest.MemMemory) {
	t.Helper()
	rows, index := braintest.NewMemRows(), braintest.NewMemMemory(nil, "hash")
	m, err := longterm.New(rows, index, discard())
	if err != nil {
		t.Fatal(err)
	}
	return m, rows, index
}

func listIDs(t *testing.T, m brain.MemoryLister, p brain.Platform, userID string) []string {
	t.Helper()
	ms, err := m.List(context.Background(), p, userID, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(ms))
	for i, x := range ms {
		out[i] = x.ID
	}
	slices.Sort(out)
	return out
}

// ayseSays is an LLM that answers Ayşe's day with memories and Mehmet's
// with the standard answer.
func ayseSays(memories string) *scriptedLLM {
	llm := standardLLM()
	llm.answers["Flask projem"] = `{"memories":[` + memories + `]}`
	return llm
}

func TestRerunWithFewerMemoriesLeavesOnlyTheNew(t *testing.T) {
	for _, tombstones := range []bool{false, true} {
		name := "plain"
		if tombstones {
			name = "with tombstones"
		}
		t.Run(name, func(t *testing.T) {
			d := newDay(t)
			d.seed(t)
			mem, rows, index := newLongTerm(t)
			ctx := context.Background()
			run := func(llm brain.LLM) sleep.Report {
				t.Helper()
				var opts []sleep.Option
				if tombstones {
					opts = append(opts, sleep.WithTombstones(braintest.NewMemTombstones()))
				}
				j, err := sleep.New(sleep.Config{Model: "qwen2.5:3b-instruct", Location: istanbul}, d.h, llm, mem, nil, fixedClock{wake}, discard(), opts...)
				if err != nil {
					t.Fatal(err)
				}
				r, err := j.Consolidate(ctx, night)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			if r := run(ayseSays(`{"text":"Kullanıcı Flask öğreniyor."},{"text":"Kullanıcı kedisini seviyor."},{"text":"Kullanıcı İzmir'de yaşıyor."}`)); r.Memories != 4 {
				t.Fatalf("first run: %d memories, want 4", r.Memories)
			}
			if got := listIDs(t, mem, brain.PlatformTelegram, "10"); len(got) != 3 {
				t.Fatalf("after the first run Ayşe has %q", got)
			}
			run(ayseSays(`{"text":"Kullanıcı artık Django öğreniyor."}`))
			want := []string{"night-2026-11-23-01"}
			if got := listIDs(t, mem, brain.PlatformTelegram, "10"); !slices.Equal(got, want) {
				t.Errorf("after a re-run with one memory Ayşe's rows are %q, want %q", got, want)
			}
			ms, _ := rows.List(ctx, brain.PlatformTelegram, "10", 10)
			if len(ms) != 1 || ms[0].Text != "Kullanıcı artık Django öğreniyor." || ms[0].Day != "2026-11-23" || len(ms[0].Sources) == 0 {
				t.Errorf("Ayşe's row = %+v, want the new memory with its day and sources", ms)
			}
			if n := index.Len(brain.PlatformTelegram, "10"); n != 1 {
				t.Errorf("the index holds %d of Ayşe's memories, want 1", n)
			}
			if n := index.Len(brain.PlatformDiscord, "7"); n != 1 {
				t.Errorf("the index holds %d of Mehmet's memories, want 1", n)
			}
			// A re-run that finds nothing to remember leaves nothing of the day.
			run(ayseSays(``))
			if got := listIDs(t, mem, brain.PlatformTelegram, "10"); len(got) != 0 {
				t.Errorf("after a re-run with no memories Ayşe's rows are %q, want none", got)
			}
		})
	}
}

func TestRerunKeepsARefreshedEarlierMemoryOne(t *testing.T) {
	d := newDay(t)
	d.seed(t)
	mem, rows, _ := newLongTerm(t)
	ctx := context.Background()
	old := brain.Memory{ID: "night-2026-11-22-01", Text: "Kullanıcı Python ile bir Flask projesi geliştiriyor.",
		Time: night.Add(-4 * time.Hour), Day: "2026-11-22", Sources: []int64{900}}
	if err := mem.ReplaceDay(ctx, brain.PlatformTelegram, "10", "2026-11-22", []brain.Memory{old}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		j, _ := newJob(t, d, standardLLM(), mem, nil)
		r, err := j.Consolidate(ctx, night)
		if err != nil {
			t.Fatal(err)
		}
		if r.Updated != 1 {
			t.Errorf("updated = %d, want 1", r.Updated)
		}
	}
	if got, want := listIDs(t, mem, brain.PlatformTelegram, "10"), []string{"night-2026-11-22-01", "night-2026-11-23-02"}; !slices.Equal(got, want) {
		t.Fatalf("Ayşe's rows = %q, want %q", got, want)
	}
	got, _ := rows.Get(ctx, brain.PlatformTelegram, "10", []string{old.ID})
	if len(got) != 1 || got[0].Day != "2026-11-22" || !slices.Contains(got[0].Sources, 900) || len(got[0].Sources) < 2 {
		t.Errorf("the refreshed memory = %+v, want the earlier day's, with its sources and today's", got)
	}
	// A re-run of today that no longer says it leaves the earlier day's memory.
	j, _ := newJob(t, d, ayseSays(`{"text":"Kullanıcı bugün kitap okudu."}`), mem, nil)
	if _, err := j.Consolidate(ctx, night); err != nil {
		t.Fatal(err)
	}
	if got, want := listIDs(t, mem, brain.PlatformTelegram, "10"), []string{"night-2026-11-22-01", "night-2026-11-23-01"}; !slices.Equal(got, want) {
		t.Errorf("after a re-run without the refresh Ayşe's rows = %q, want %q", got, want)
	}
}
