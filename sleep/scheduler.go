package sleep

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"
)

// Scheduler runs the Job every night.
type Scheduler struct {
	job  *Job
	cron gocron.Scheduler
	j    gocron.Job
	cfg  ScheduleConfig

	mu     sync.Mutex
	base   context.Context // Start's, cancelled at Stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// ScheduleConfig tunes the Scheduler.
type ScheduleConfig struct {
	// Spec is a five-field cron line in the job's location ("0 3 * * *":
	// every night at 03:00). Each run does the day before it.
	Spec string
	// CatchUp runs, at Start, the days the night log does not have as
	// done (the machine slept through the night, was off for a weekend, or
	// a run failed). It needs the job to have a night log.
	CatchUp bool
	// Days is how many days before today each run looks at (default 3):
	// the nightly run also retries a failed day of that span. Days the
	// night log has as done cost one query each.
	Days int
	// Clock drives the schedule; nil is the wall clock. Tests advance a
	// fake one.
	Clock clockwork.Clock
}

// NewScheduler checks the schedule and prepares it; Start runs it.
func NewScheduler(job *Job, cfg ScheduleConfig) (*Scheduler, error) {
	if job == nil {
		return nil, errors.New("sleep: a job is required")
	}
	opts := []gocron.SchedulerOption{gocron.WithLocation(job.cfg.Location)}
	if cfg.Clock != nil {
		opts = append(opts, gocron.WithClock(cfg.Clock))
	}
	cron, err := gocron.NewScheduler(opts...)
	if err != nil {
		return nil, fmt.Errorf("sleep: scheduler: %w", err)
	}
	if cfg.Days <= 0 {
		cfg.Days = 3
	}
	if job.night == nil {
		cfg.Days = 1 // without a log every look would redo the day
	}
	s := &Scheduler{job: job, cron: cron, cfg: cfg}
	s.j, err = cron.NewJob(gocron.CronJob(cfg.Spec, false),
		gocron.NewTask(s.nightly),
		gocron.WithName("sleep"),
		gocron.WithSingletonMode(gocron.LimitModeReschedule))
	if err != nil {
		_ = cron.Shutdown()
		return nil, fmt.Errorf("sleep: schedule %q (want a cron line such as \"0 3 * * *\"): %w", cfg.Spec, err)
	}
	return s, nil
}

// Start starts the schedule and, with CatchUp, the previous day's run in
// the background. It never blocks on a run. Runs stop when ctx ends or at
// Stop.
func (s *Scheduler) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.base, s.cancel = ctx, cancel
	s.mu.Unlock()
	s.cron.Start()
	if next, err := s.j.NextRun(); err == nil {
		s.job.log.Info("night scheduled", "spec", s.cfg.Spec, "next", next)
	}
	if s.cfg.CatchUp && s.job.night != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.run(ctx, "catch-up")
		}()
	}
}

// nightly is the cron task; gocron cancels its ctx at shutdown, and so
// does the end of Start's ctx.
func (s *Scheduler) nightly(ctx context.Context) {
	s.mu.Lock()
	base := s.base
	s.mu.Unlock()
	if base == nil {
		return // not started through Start
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(base, cancel)()
	s.run(ctx, "scheduled")
}

// run does the days before now that are not done, oldest first.
func (s *Scheduler) run(ctx context.Context, why string) {
	now := s.job.clock.Now().In(s.job.cfg.Location)
	for back := s.cfg.Days; back >= 1; back-- {
		if ctx.Err() != nil {
			return
		}
		r, err := s.job.Consolidate(ctx, now.AddDate(0, 0, -back))
		if err != nil {
			s.job.log.Error("night failed; the next run retries the day", "why", why, "day", r.Day, "err", err)
			continue
		}
		if !r.Skipped {
			s.job.log.Info("night done", "why", why, "day", r.Day, "memories", r.Memories)
		}
	}
}

// NextRun is when the schedule runs next.
func (s *Scheduler) NextRun() (time.Time, error) { return s.j.NextRun() }

// Stop ends the schedule, cancels a run in progress and waits for it.
func (s *Scheduler) Stop() error {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	err := s.cron.Shutdown()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("stop night scheduler: %w", err)
	}
	return nil
}
