package sleep

import (
	"context"
	"fmt"
	"time"

	"github.com/evo-tr/evo/brain"
)

// Progress records which users a night has finished (their memories
// written), so that a night that crashed or failed resumes with the users
// not done instead of asking the model about everyone again.
type Progress interface {
	// UsersDone returns the users finished for day (YYYY-MM-DD).
	UsersDone(ctx context.Context, day string) (map[brain.UserRef]bool, error)
	// MarkUserDone records that the night finished u for day at now;
	// marking a user again is no error.
	MarkUserDone(ctx context.Context, day string, u brain.UserRef, now time.Time) error
	// ClearUsersDone forgets day's progress: the next run does every user.
	ClearUsersDone(ctx context.Context, day string) error
}

// WithProgress lets the scheduled runs (Consolidate) resume a day that a
// crashed or failed run left half done: users already summarized for the
// day are skipped (their memories are there), the day's training files are
// still written in full. Sleep (/sleep, evo sleep) always does the whole
// day: it clears the day's progress first. Progress is used only with a
// NightLog, which tells a resumed run from a new one.
func WithProgress(p Progress) Option { return func(j *Job) { j.progress = p } }

// tracksProgress tells whether the job records and resumes progress.
func (j *Job) tracksProgress() bool { return j.progress != nil && j.night != nil && j.mem != nil }

// usersDone is who an earlier run of day finished already. When the
// progress cannot be read everyone is done again: a user summarized twice
// gets the same memories (stable IDs), only the model's time is lost.
func (j *Job) usersDone(ctx context.Context, day string) map[brain.UserRef]bool {
	if !j.tracksProgress() {
		return nil
	}
	done, err := j.progress.UsersDone(ctx, day)
	if err != nil {
		j.log.Warn("night progress unreadable: summarizing every user", "day", day, "err", err)
		return nil
	}
	if len(done) > 0 {
		j.log.Info("night resumed: users an earlier run finished are skipped", "day", day, "done", len(done))
	}
	return done
}

// markDone records that u is finished for day. A failure costs only a
// second summary of u if the night has to resume.
func (j *Job) markDone(ctx context.Context, day string, u *userDay) {
	if !j.tracksProgress() {
		return
	}
	if err := j.progress.MarkUserDone(ctx, day, userRef(u), j.clock.Now()); err != nil {
		j.log.Warn("record night progress", "day", day, "platform", u.platform, "user", u.userID, "err", err)
	}
}

// restartDay clears day's progress before a run on demand, which does
// every user again.
func (j *Job) restartDay(ctx context.Context, day time.Time) error {
	if j.progress == nil {
		return nil
	}
	name := day.Format(time.DateOnly)
	if err := j.progress.ClearUsersDone(ctx, name); err != nil {
		return fmt.Errorf("clear night progress of %s: %w", name, err)
	}
	return nil
}

func userRef(u *userDay) brain.UserRef { return brain.UserRef{Platform: u.platform, UserID: u.userID} }
