package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/memory/postgres"
	"github.com/evo-tr/evo/sleep"
)

// newNightJob builds the night job over the store (which also keeps the
// night's per-user progress, so a crashed night resumes), the base model
// (wire passes it behind the brain's slots: the night yields to live chat)
// and long-term memory (mem may be nil: then the night only writes training
// data). m, when not nil, counts the scheduled runs (through the night
// log: see nightMeter).
func (a *app) newNightJob(st *postgres.Store, llm brain.LLM, mem sleep.Memory, experts []brain.Expert, m *metrics) (*sleep.Job, error) {
	loc, err := a.cfg.SleepLocation()
	if err != nil {
		return nil, err
	}
	prompts := map[string]string{}
	for _, e := range experts {
		prompts[e.Name] = e.SystemPrompt
	}
	var night brain.NightLog = st
	if m != nil {
		night = &nightMeter{NightLog: st, m: m}
	}
	return sleep.New(sleep.Config{
		Model:         a.cfg.BaseModel,
		Location:      loc,
		TrainingDir:   a.cfg.TrainingDir,
		ExpertPrompts: prompts,
		MinMessages:   a.cfg.SleepMinMessages,
	}, st, llm, mem, night, brain.SystemClock{}, a.log, sleep.WithTombstones(st), sleep.WithProgress(st),
		sleep.WithFeedback(st))
}

// nightMeter counts the night's scheduled runs (sleep.Job.Consolidate,
// the scheduler's and the catch-up's) from the night log they go
// through: a claim refused is a skipped run, a claim that fails a failed
// one, and a finish is ok or failed, timed from its claim on the job's
// clock.
type nightMeter struct {
	brain.NightLog
	m *metrics

	mu      sync.Mutex
	claimed map[string]time.Time // day → when its run claimed it
}

var _ brain.NightLog = (*nightMeter)(nil)

// ClaimNight implements brain.NightLog.
func (n *nightMeter) ClaimNight(ctx context.Context, day string, now time.Time, stale time.Duration) (bool, error) {
	ok, err := n.NightLog.ClaimNight(ctx, day, now, stale)
	switch {
	case err != nil:
		n.m.observeNight(nightFailed, -1)
	case !ok:
		n.m.observeNight(nightSkipped, 0)
	default:
		n.mu.Lock()
		if n.claimed == nil {
			n.claimed = map[string]time.Time{}
		}
		n.claimed[day] = now
		n.mu.Unlock()
	}
	return ok, err
}

// FinishNight implements brain.NightLog.
func (n *nightMeter) FinishNight(ctx context.Context, day string, now time.Time, report string, runErr error) error {
	n.mu.Lock()
	start, ok := n.claimed[day]
	delete(n.claimed, day)
	n.mu.Unlock()
	took := time.Duration(-1)
	if ok {
		took = now.Sub(start)
	}
	outcome := nightOK
	if runErr != nil {
		outcome = nightFailed
	}
	n.m.observeNight(outcome, took)
	return n.NightLog.FinishNight(ctx, day, now, report, runErr)
}

// meteredSleeper counts the admins' /sleep runs, which do not go through
// the night log. It keeps the rest of the job (Location) for the brain.
type meteredSleeper struct {
	*sleep.Job
	m     *metrics
	clock brain.Clock
}

var _ brain.Sleeper = meteredSleeper{}

// Sleep implements brain.Sleeper.
func (s meteredSleeper) Sleep(ctx context.Context, day time.Time) (string, error) {
	start := s.clock.Now()
	report, err := s.Job.Sleep(ctx, day)
	outcome := nightOK
	if err != nil {
		outcome = nightFailed
	}
	s.m.observeNight(outcome, s.clock.Now().Sub(start))
	return report, err
}

// startNight schedules the night job (SLEEP_SCHEDULE) with a catch-up of
// a missed night; nil when no schedule is set.
func (a *app) startNight(ctx context.Context, job *sleep.Job) (*sleep.Scheduler, error) {
	spec := strings.TrimSpace(a.cfg.SleepSchedule)
	if spec == "" || spec == "off" {
		a.log.Info("night job not scheduled (SLEEP_SCHEDULE is empty); admins can run /sleep")
		return nil, nil
	}
	s, err := sleep.NewScheduler(job, sleep.ScheduleConfig{Spec: spec, CatchUp: true})
	if err != nil {
		return nil, fmt.Errorf("SLEEP_SCHEDULE: %w", err)
	}
	s.Start(ctx)
	return s, nil
}

// cmdSleep runs the night job once over one day, whatever the night log
// says, and prints the report: for cron or launchd instead of
// SLEEP_SCHEDULE, and for trying it out.
func cmdSleep(ctx context.Context, a *app, args []string) error {
	fl := flag.NewFlagSet("sleep", flag.ContinueOnError)
	fl.SetOutput(a.stderr)
	day := fl.String("day", "dün", `the day to consolidate: "dün" (yesterday), "bugün" (today) or YYYY-MM-DD`)
	if err := fl.Parse(args); err != nil {
		return errUsage
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q (use --day)", errUsage, fl.Arg(0))
	}
	loc, err := a.cfg.SleepLocation()
	if err != nil {
		return err
	}
	if strings.TrimSpace(*day) == "" {
		*day = "dün"
	}
	t, ok := brain.ParseDay(strings.TrimSpace(*day), time.Now(), loc)
	if !ok {
		return fmt.Errorf("%w: --day %q: want dün, bugün or a past YYYY-MM-DD date", errUsage, *day)
	}
	svc, err := a.openService(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()
	if a.cfg.ChromaURL == "" {
		a.log.Warn("CHROMA_URL is empty: the night keeps memories in Postgres, but nothing recalls them")
	}
	report, err := svc.night.Sleep(ctx, t)
	if err != nil {
		return fmt.Errorf("sleep: %w", err)
	}
	fmt.Fprintln(a.stdout, report)
	return nil
}
