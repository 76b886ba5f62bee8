package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/memory/postgres"
	"github.com/evo-tr/evo/sleep"
)

// newNightJob builds the night job over the store, the base model and
// long-term memory (mem may be nil: then the night only writes training
// data).
func (a *app) newNightJob(st *postgres.Store, llm brain.LLM, mem sleep.Memory, experts []brain.Expert) (*sleep.Job, error) {
	loc, err := a.cfg.SleepLocation()
	if err != nil {
		return nil, err
	}
	prompts := map[string]string{}
	for _, e := range experts {
		prompts[e.Name] = e.SystemPrompt
	}
	return sleep.New(sleep.Config{
		Model:         a.cfg.BaseModel,
		Location:      loc,
		TrainingDir:   a.cfg.TrainingDir,
		ExpertPrompts: prompts,
		MinMessages:   a.cfg.SleepMinMessages,
	}, st, llm, mem, st, brain.SystemClock{}, a.log)
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
	if svc.memory == nil {
		a.log.Warn("CHROMA_URL is empty: no long-term memory; the night writes only training data")
	}
	report, err := svc.night.Sleep(ctx, t)
	if err != nil {
		return fmt.Errorf("sleep: %w", err)
	}
	fmt.Fprintln(a.stdout, report)
	return nil
}
