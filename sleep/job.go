package sleep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/evo-tr/evo/brain"
)

// Days reads the stored messages of a span of time.
type Days interface {
	// Between returns every message with from <= Time < to, oldest first.
	Between(ctx context.Context, from, to time.Time) ([]brain.Record, error)
}

// Memory is the long-term memory the night writes to: it recalls to find
// what the user's memories already say, and remembers the rest.
type Memory interface {
	brain.Recall
	brain.Memorizer
}

// Config tunes the Job.
type Config struct {
	// Model is the Ollama model that summarizes (the frozen base model).
	Model string
	// Location decides where a day starts and ends (default Europe/Istanbul).
	Location *time.Location
	// TrainingDir receives the training data, one folder per day; "" writes
	// none.
	TrainingDir string
	// BaseExpert names the base model in decisions; its answers are not
	// training data for any expert (default brain.BaseExpert).
	BaseExpert string
	// ExpertPrompts are the experts' system prompts, by expert name, put at
	// the head of each training example. Experts missing here get none.
	ExpertPrompts map[string]string
	// MinMessages is how many messages a user must have written in the day
	// to be summarized (default 2).
	MinMessages int
	// MaxMemories bounds the memories one summary call may add (default 5).
	MaxMemories int
	// ChunkTokens bounds the transcript sent in one summary call; a longer
	// day is summarized in several calls (default 2500).
	ChunkTokens int
	// SameDistance is the distance under which a new memory says what an
	// earlier one says: the earlier one is updated (new wording, new
	// time) instead of a near copy being added (default 0.1, cosine).
	SameDistance float64
	// Stale is how long a claimed run may go unfinished before another
	// instance takes it over (default 6h).
	Stale time.Duration
}

// Job consolidates days. It is safe for concurrent use; one day's runs
// should not overlap (the NightLog sees to that for scheduled runs).
type Job struct {
	cfg   Config
	days  Days
	llm   brain.LLM
	mem   Memory
	night brain.NightLog
	clock brain.Clock
	log   *slog.Logger
	// tombs are the forgotten users (WithTombstones); nil: none.
	tombs brain.Tombstones
	// train is TrainingDir, whose lock the night holds while it writes.
	train *TrainingFiles
	// progress is who the day's runs finished (WithProgress): progress.go.
	progress Progress
	// feedback is what users thought of answers (WithFeedback): training.go.
	feedback Feedback
}

var _ brain.Sleeper = (*Job)(nil)

// New returns a Job. mem may be nil (no long-term memory: only training
// data is written) and so may night (every run does its day).
func New(cfg Config, days Days, llm brain.LLM, mem Memory, night brain.NightLog, clock brain.Clock, log *slog.Logger, opts ...Option) (*Job, error) {
	if days == nil || llm == nil || clock == nil || log == nil {
		return nil, errors.New("sleep: days, llm, clock and log are required")
	}
	if cfg.Model == "" {
		return nil, errors.New("sleep: a summary model is required")
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Europe/Istanbul")
		if err != nil {
			return nil, fmt.Errorf("sleep: load Europe/Istanbul: %w", err)
		}
		cfg.Location = loc
	}
	if cfg.BaseExpert == "" {
		cfg.BaseExpert = brain.BaseExpert
	}
	if cfg.MinMessages <= 0 {
		cfg.MinMessages = 2
	}
	if cfg.MaxMemories <= 0 {
		cfg.MaxMemories = 5
	}
	if cfg.ChunkTokens <= 0 {
		cfg.ChunkTokens = 2500
	}
	if cfg.SameDistance <= 0 {
		cfg.SameDistance = 0.1
	}
	if cfg.Stale <= 0 {
		cfg.Stale = 6 * time.Hour
	}
	j := &Job{cfg: cfg, days: days, llm: llm, mem: mem, night: night, clock: clock, log: log,
		train: NewTrainingFiles(cfg.TrainingDir)}
	for _, o := range opts {
		o(j)
	}
	if j.tombs != nil && j.mem != nil {
		j.mem = guardedMemory{Memory: j.mem, j: j}
	}
	return j, nil
}

// Report is what one run did.
type Report struct {
	Day string `json:"day"`
	// Skipped is true when the night log says the day is done or running.
	Skipped  bool `json:"skipped,omitempty"`
	Messages int  `json:"messages"`
	Users    int  `json:"users"`
	// Summarized users got memories; Quiet ones wrote too little; Failed
	// ones could not be summarized (their day is retried on the next run).
	Summarized int `json:"summarized"`
	Quiet      int `json:"quiet"`
	Failed     int `json:"failed"`
	Memories   int `json:"memories"`
	// Updated counts the memories among Memories that refreshed an
	// earlier day's memory saying the same.
	Updated int `json:"updated,omitempty"`
	// Examples counts training examples by expert; RouterLines the routed
	// messages written for the router's review.
	Examples    map[string]int `json:"examples,omitempty"`
	RouterLines int            `json:"router_lines"`
	// Rejected counts answers left out of the examples because the user's
	// next message said they were wrong.
	Rejected int `json:"rejected,omitempty"`
	// Good counts the examples users marked good (marked in the files);
	// Bad the answers users marked bad, left out of every file.
	Good int `json:"good,omitempty"`
	Bad  int `json:"bad,omitempty"`
	// Forgotten counts the users whose messages, or some of them, the
	// night left out because the user was forgotten after writing them.
	Forgotten int           `json:"forgotten,omitempty"`
	Duration  time.Duration `json:"duration_ns"`
}

// Turkish renders the report for the admin who asked for it.
func (r Report) Turkish() string {
	if r.Skipped {
		return fmt.Sprintf("%s gecesi zaten işlenmiş ya da şu anda işleniyor; bir şey yapmadım.", r.Day)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Gece işi tamam (%s): %d mesaj, %d kullanıcı.\n", r.Day, r.Messages, r.Users)
	fmt.Fprintf(&b, "• Uzun süreli hafızaya %d anı yazdım (%d kullanıcı özetlendi", r.Memories, r.Summarized)
	if r.Updated > 0 {
		fmt.Fprintf(&b, ", %d anı eskisini güncelledi", r.Updated)
	}
	if r.Quiet > 0 {
		fmt.Fprintf(&b, ", %d kullanıcının mesajı özet için az", r.Quiet)
	}
	if r.Failed > 0 {
		fmt.Fprintf(&b, ", %d kullanıcı özetlenemedi", r.Failed)
	}
	b.WriteString(").\n")
	if len(r.Examples) == 0 {
		b.WriteString("• Eğitim verisi: yok.")
	} else {
		names := make([]string, 0, len(r.Examples))
		for n := range r.Examples {
			names = append(names, n)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = fmt.Sprintf("%s %d", n, r.Examples[n])
		}
		fmt.Fprintf(&b, "• Eğitim verisi: %s örnek.", strings.Join(parts, ", "))
	}
	if r.Rejected > 0 {
		fmt.Fprintf(&b, " Kullanıcının yanlış bulduğu %d cevap dışarıda.", r.Rejected)
	}
	if r.Good > 0 {
		fmt.Fprintf(&b, " Beğenilen %d cevap işaretli.", r.Good)
	}
	if r.Bad > 0 {
		fmt.Fprintf(&b, " Beğenilmeyen %d cevap dışarıda.", r.Bad)
	}
	if r.RouterLines > 0 {
		fmt.Fprintf(&b, " Yönlendirici için %d satır.", r.RouterLines)
	}
	if r.Forgotten > 0 {
		fmt.Fprintf(&b, "\n• Unutulmak isteyen %d kullanıcının unutma öncesi mesajları dışarıda.", r.Forgotten)
	}
	fmt.Fprintf(&b, "\n(%s sürdü.)", r.Duration.Round(time.Millisecond))
	return b.String()
}

// Sleep consolidates the day holding t, even when the night log says it is
// done (re-running a day replaces its memories and files), and returns the
// Turkish report. It implements brain.Sleeper.
func (j *Job) Sleep(ctx context.Context, t time.Time) (string, error) {
	if err := j.restartDay(ctx, j.dayOf(t)); err != nil { // every user again
		return "", err
	}
	r, err := j.consolidate(ctx, j.dayOf(t))
	if err != nil {
		return "", err
	}
	return r.Turkish(), nil
}

// Consolidate does the day holding t unless the night log says another run
// has it or it is done. It is what the scheduler calls.
func (j *Job) Consolidate(ctx context.Context, t time.Time) (Report, error) {
	day := j.dayOf(t)
	name := day.Format(time.DateOnly)
	if j.night == nil {
		return j.consolidate(ctx, day)
	}
	ok, err := j.night.ClaimNight(ctx, name, j.clock.Now(), j.cfg.Stale)
	if err != nil {
		return Report{Day: name}, fmt.Errorf("claim night %s: %w", name, err)
	}
	if !ok {
		j.log.Info("night already done or running", "day", name)
		return Report{Day: name, Skipped: true}, nil
	}
	r, runErr := j.consolidate(ctx, day)
	if runErr == nil && r.Failed > 0 {
		runErr = fmt.Errorf("%d users could not be summarized", r.Failed)
	}
	summary, _ := json.Marshal(r)
	// Record the end even when ctx was cancelled (shutdown mid-run).
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := j.night.FinishNight(fctx, name, j.clock.Now(), string(summary), runErr); err != nil {
		j.log.Error("record night", "day", name, "err", err)
	}
	return r, runErr
}

// Location is the night's time zone (SLEEP_TIMEZONE): where its days
// start and end and in which its transcripts tell the time. Callers that
// name a day for Sleep (brain's /sleep, evo sleep --day) read it in this
// zone, with brain.ParseDay.
func (j *Job) Location() *time.Location { return j.cfg.Location }

// DayBounds is the day holding t in loc: from its midnight (inclusive) to
// the next day's (exclusive), both in loc. The instant t alone decides the
// day; t's own zone (the host's, the database server's) plays no part. A
// day is not always 24 hours long (DST), and a midnight that a DST jump
// skips is the first instant of the day.
func DayBounds(t time.Time, loc *time.Location) (start, end time.Time) {
	t = t.In(loc)
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc), time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}

// dayOf is midnight of the day holding t, in the job's location.
func (j *Job) dayOf(t time.Time) time.Time {
	start, _ := DayBounds(t, j.cfg.Location)
	return start
}

// consolidate does the day starting at midnight day.
func (j *Job) consolidate(ctx context.Context, day time.Time) (Report, error) {
	start := j.clock.Now()
	name := day.Format(time.DateOnly)
	r := Report{Day: name, Examples: map[string]int{}}
	_, end := DayBounds(day, j.cfg.Location)
	recs, err := j.days.Between(ctx, day, end)
	if err != nil {
		return r, fmt.Errorf("read %s: %w", name, err)
	}
	graves, err := j.graves(ctx, day)
	if err != nil {
		return r, fmt.Errorf("%s: %w", name, err)
	}
	forgotten := map[brain.UserRef]bool{}
	recs = j.unburied(recs, graves, forgotten)
	r.Messages = len(recs)
	users := groupByUser(recs)
	r.Users = len(users)
	j.log.Info("night started", "day", name, "messages", len(recs), "users", len(users))

	var memErr error
	done := j.usersDone(ctx, name) // a resumed run: progress.go
	for _, u := range users {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if u.written < j.cfg.MinMessages {
			r.Quiet++
			continue
		}
		if j.mem == nil {
			continue
		}
		if done[userRef(u)] {
			continue // an earlier run of the day wrote its memories
		}
		n, updated, err := j.summarize(ctx, name, u)
		switch {
		case err == nil:
			r.Summarized++
			r.Memories += n
			r.Updated += updated
			j.markDone(ctx, name, u)
		case errors.Is(err, errForgotten):
			forgotten[brain.UserRef{Platform: u.platform, UserID: u.userID}] = true
		case errors.Is(err, brain.ErrMemoryUnavailable):
			memErr = err // nothing can be remembered tonight
		default:
			r.Failed++
			j.log.Warn("summarize user", "day", name, "platform", u.platform, "user", u.userID, "err", err)
		}
		if memErr != nil {
			break
		}
	}
	if memErr != nil {
		return r, fmt.Errorf("remember %s: %w", name, memErr)
	}

	if j.cfg.TrainingDir != "" {
		t, err := j.trainingOf(ctx, day, recs, forgotten)
		if err != nil {
			return r, fmt.Errorf("training data for %s: %w", name, err)
		}
		r.Examples, r.RouterLines, r.Rejected, r.Good, r.Bad = t.examples, t.routerLines, t.rejected, t.good, t.bad
	}
	r.Forgotten = len(forgotten)
	r.Duration = j.clock.Now().Sub(start)
	j.log.Info("night finished", "day", name, "summarized", r.Summarized, "memories", r.Memories,
		"failed", r.Failed, "examples", r.Examples, "router_lines", r.RouterLines, "took", r.Duration)
	return r, nil
}

// trainingOf writes the day's training data under the training lock, from
// recs without what users forgotten meanwhile wrote before their forget:
// a forget is either seen here or comes after the files are written, and
// then deletes its lines itself.
func (j *Job) trainingOf(ctx context.Context, day time.Time, recs []brain.Record, forgotten map[brain.UserRef]bool) (training, error) {
	feedback, err := j.feedbackSince(ctx, day)
	if err != nil {
		return training{}, err
	}
	j.train.mu.Lock()
	defer j.train.mu.Unlock()
	graves, err := j.graves(ctx, day)
	if err != nil {
		return training{}, err
	}
	return j.writeTraining(day.Format(time.DateOnly), j.unburied(recs, graves, forgotten), feedback)
}

// unburied is recs without the records graves hide; it adds their users
// to forgotten.
func (j *Job) unburied(recs []brain.Record, graves brain.Graves, forgotten map[brain.UserRef]bool) []brain.Record {
	out, hidden := unburied(recs, graves)
	if hidden > 0 {
		for _, r := range recs {
			if graves.Hides(r) {
				forgotten[brain.UserRef{Platform: r.Key.Platform, UserID: r.Key.UserID}] = true
			}
		}
		j.log.Info("night: leaving out the messages of forgotten users", "records", hidden)
	}
	return out
}

// userDay is one user's messages of the day, across chats, oldest first.
type userDay struct {
	platform brain.Platform
	userID   string
	name     string
	recs     []brain.Record
	written  int // the user's own non-empty messages (commands are never stored)
}

func groupByUser(recs []brain.Record) []*userDay {
	type key struct {
		p  brain.Platform
		id string
	}
	by := map[key]*userDay{}
	var order []*userDay
	for _, r := range recs {
		k := key{r.Key.Platform, r.Key.UserID}
		u := by[k]
		if u == nil {
			u = &userDay{platform: k.p, userID: k.id}
			by[k] = u
			order = append(order, u)
		}
		u.recs = append(u.recs, r)
		if r.Role == brain.RoleUser {
			if r.UserName != "" {
				u.name = r.UserName
			}
			if strings.TrimSpace(r.Text) != "" {
				u.written++
			}
		}
	}
	return order
}
