package sleep_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/sleep"
	"github.com/jonboulle/clockwork"
)

// waitRun waits until the night log has a finished run of day.
func waitRun(t *testing.T, nl *braintest.MemNightLog, day string) braintest.NightRun {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r, ok := nl.Run(day); ok && !r.Finished.IsZero() {
			return r
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no finished run of %s", day)
	return braintest.NightRun{}
}

func TestSchedulerRunsEveryNightAndCatchesUp(t *testing.T) {
	d := newDay(t)
	d.seed(t)
	nl := braintest.NewMemNightLog()
	// The job's clock and the schedule's clock agree: 2026-11-24 02:00
	// Istanbul, an hour before the nightly run.
	fake := clockwork.NewFakeClockAt(wake.Add(-time.Hour))
	j, err := sleep.New(sleep.Config{Model: "m", Location: istanbul}, d.h, standardLLM(), newMemorizer(), nl, fake, discard())
	if err != nil {
		t.Fatal(err)
	}
	s, err := sleep.NewScheduler(j, sleep.ScheduleConfig{Spec: "0 3 * * *", CatchUp: true, Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})

	// Catch-up: at start the day before (2026-11-23) had not run.
	if r := waitRun(t, nl, "2026-11-23"); r.Err != "" || !strings.Contains(r.Report, `"memories":3`) {
		t.Errorf("catch-up run = %+v", r)
	}
	for _, earlier := range []string{"2026-11-21", "2026-11-22"} {
		if r := waitRun(t, nl, earlier); r.Err != "" {
			t.Errorf("catch-up of %s = %+v", earlier, r)
		}
	}
	next, err := s.NextRun()
	if err != nil || !next.Equal(wake) {
		t.Errorf("next run = %v, %v; want %v", next, err, wake)
	}

	// 03:00: the scheduled run finds 2026-11-23 done; a day later it does
	// 2026-11-24.
	if err := fake.BlockUntilContext(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	fake.Advance(time.Hour + time.Second)
	time.Sleep(50 * time.Millisecond) // let the run claim and skip
	fake.BlockUntilContext(context.Background(), 1)
	fake.Advance(24 * time.Hour)
	if r := waitRun(t, nl, "2026-11-24"); r.Err != "" || !strings.Contains(r.Report, `"day":"2026-11-24"`) {
		t.Errorf("the next night's run = %+v", r)
	}
}

func TestSchedulerRefusesABadSpec(t *testing.T) {
	d := newDay(t)
	j, _ := newJob(t, d, standardLLM(), nil, nil)
	for _, spec := range []string{"", "every night", "0 3 * *", "61 3 * * *"} {
		if _, err := sleep.NewScheduler(j, sleep.ScheduleConfig{Spec: spec}); err == nil {
			t.Errorf("spec %q accepted", spec)
		}
	}
}

func TestSchedulerStopWithoutStart(t *testing.T) {
	d := newDay(t)
	j, _ := newJob(t, d, standardLLM(), nil, nil)
	s, err := sleep.NewScheduler(j, sleep.ScheduleConfig{Spec: "0 3 * * *"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

func TestSchedulerRetriesAFailedDayTheNextNight(t *testing.T) {
	d := newDay(t)
	d.seed(t)
	nl := braintest.NewMemNightLog()
	fake := clockwork.NewFakeClockAt(wake.Add(-time.Hour))
	llm := standardLLM()
	llm.setFail(map[string]error{"kedim Pamuk": errors.New("model crashed")})
	j, err := sleep.New(sleep.Config{Model: "m", Location: istanbul}, d.h, llm, newMemorizer(), nl, fake, discard())
	if err != nil {
		t.Fatal(err)
	}
	s, err := sleep.NewScheduler(j, sleep.ScheduleConfig{Spec: "0 3 * * *", Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	t.Cleanup(func() { _ = s.Stop() })

	fake.BlockUntilContext(context.Background(), 1)
	fake.Advance(time.Hour + time.Second) // 2026-11-24 03:00: 2026-11-23 fails
	if r := waitRun(t, nl, "2026-11-23"); r.Err == "" {
		t.Fatalf("the first run should fail: %+v", r)
	}
	llm.setFail(nil)
	fake.BlockUntilContext(context.Background(), 1)
	fake.Advance(24 * time.Hour) // 2026-11-25 03:00: 2026-11-23 is retried
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r, _ := nl.Run("2026-11-23"); r.Err == "" && !r.Finished.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			r, _ := nl.Run("2026-11-23")
			t.Fatalf("the failed day was not retried: %+v", r)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
