package sleep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/evo-tr/evo/brain"
)

// TrainingFiles is the training data under TRAINING_DIR as /forget and
// /export see it: every line of every .jsonl file below the folder (the
// experts' examples and the router's review lines of every day) names its
// user. The night writes its files under the same lock, so a forget is
// never undone by a night running at the same time. It is safe for
// concurrent use.
type TrainingFiles struct {
	dir string
	// mu serializes rewrites of the files: the night's and ForgetUser's.
	mu *sync.Mutex
}

var _ brain.TrainingData = (*TrainingFiles)(nil)

// NewTrainingFiles returns the training data under dir; "" is a folder
// with nothing in it.
func NewTrainingFiles(dir string) *TrainingFiles {
	return &TrainingFiles{dir: dir, mu: &sync.Mutex{}}
}

// lineOwner is the key every training line carries.
type lineOwner struct {
	User string `json:"user"`
}

// UserLines returns every line of the user, as stored, file by file in
// name order (days oldest first).
func (t *TrainingFiles) UserLines(ctx context.Context, p brain.Platform, userID string) ([]string, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return nil, fmt.Errorf("training lines: %w", err)
	}
	who := brain.UserRef{Platform: p, UserID: userID}.String()
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	err := t.eachFile(ctx, func(path string, data []byte, _ fs.FileMode) error {
		for _, line := range bytes.SplitAfter(data, []byte("\n")) {
			if ownedBy(line, who) {
				out = append(out, strings.TrimRight(string(line), "\r\n"))
			}
		}
		return nil
	})
	return out, err
}

// ForgetUser deletes every line of the user from every file, rewriting
// each file that held one atomically with its mode kept (a file left with
// no line stays, empty), and reports how many lines it deleted.
func (t *TrainingFiles) ForgetUser(ctx context.Context, p brain.Platform, userID string) (int, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return 0, fmt.Errorf("forget training lines: %w", err)
	}
	who := brain.UserRef{Platform: p, UserID: userID}.String()
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	err := t.eachFile(ctx, func(path string, data []byte, mode fs.FileMode) error {
		var kept bytes.Buffer
		gone := 0
		for _, line := range bytes.SplitAfter(data, []byte("\n")) {
			if ownedBy(line, who) {
				gone++
				continue
			}
			kept.Write(line)
		}
		if gone == 0 {
			return nil
		}
		if err := WriteFileAtomic(path, kept.Bytes(), mode); err != nil {
			return err
		}
		n += gone
		return nil
	})
	return n, err
}

// eachFile calls fn with the content and mode of every .jsonl file below
// the folder, in name order.
func (t *TrainingFiles) eachFile(ctx context.Context, fn func(path string, data []byte, mode fs.FileMode) error) error {
	if t.dir == "" {
		return nil
	}
	err := filepath.WalkDir(t.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == t.dir {
				return fs.SkipAll // no training data yet
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() || !strings.HasSuffix(d.Name(), ".jsonl") || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return fn(path, data, info.Mode().Perm())
	})
	if err != nil {
		return fmt.Errorf("training data in %s: %w", t.dir, err)
	}
	return nil
}

// ownedBy reports whether a JSON line names who as its user.
func ownedBy(line []byte, who string) bool {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || !bytes.Contains(line, []byte(`"user"`)) {
		return false
	}
	var o lineOwner
	return json.Unmarshal(line, &o) == nil && o.User == who
}

// Option configures optional parts of a Job.
type Option func(*Job)

// WithTombstones keeps forgotten users out of the night: their records
// older than their forget are skipped, and a forget while the night runs
// stops it from writing their memories and training lines.
func WithTombstones(t brain.Tombstones) Option { return func(j *Job) { j.tombs = t } }

// Training is the training data the job writes, for /forget and /export:
// it shares the job's lock, so a forget and a night never interleave
// their writes.
func (j *Job) Training() *TrainingFiles { return j.train }

// graves are the tombstones that hide records of the day starting at day:
// users forgotten since then. None without tombstones.
func (j *Job) graves(ctx context.Context, day time.Time) (brain.Graves, error) {
	if j.tombs == nil {
		return nil, nil
	}
	g, err := j.tombs.Buried(ctx, day)
	if err != nil {
		return nil, fmt.Errorf("read tombstones: %w", err)
	}
	return g, nil
}

// unburied is recs without the records g hides, and how many those were.
func unburied(recs []brain.Record, g brain.Graves) ([]brain.Record, int) {
	if len(g) == 0 {
		return recs, 0
	}
	out := make([]brain.Record, 0, len(recs))
	for _, r := range recs {
		if !g.Hides(r) {
			out = append(out, r)
		}
	}
	return out, len(recs) - len(out)
}

// guardedMemory is the night's long-term memory when tombstones are on:
// what a summary remembers of a user who was forgotten after the
// summarized messages is never stored, and when the forget comes while it
// is being stored, it is deleted again.
type guardedMemory struct {
	Memory
	j *Job
}

func (g guardedMemory) Remember(ctx context.Context, p brain.Platform, userID string, ms []brain.Memory) error {
	if len(ms) == 0 {
		return g.Memory.Remember(ctx, p, userID, ms)
	}
	oldest := ms[0].Time
	for _, m := range ms {
		if m.Time.Before(oldest) {
			oldest = m.Time
		}
	}
	buried := func() (bool, error) {
		gr, err := g.j.tombs.Buried(ctx, oldest)
		if err != nil {
			return false, fmt.Errorf("read tombstones: %w", err)
		}
		at, ok := gr[brain.UserRef{Platform: p, UserID: userID}]
		return ok && oldest.Before(at), nil
	}
	if gone, err := buried(); err != nil {
		return err
	} else if gone {
		g.j.log.Info("night: user forgotten meanwhile; their memories are not stored", "platform", p, "user", userID)
		return errForgotten
	}
	if err := g.Memory.Remember(ctx, p, userID, ms); err != nil {
		return err
	}
	gone, err := buried()
	if err != nil || !gone {
		return err
	}
	f, ok := g.Memory.(brain.Forgetter)
	if !ok {
		return fmt.Errorf("user %s/%s forgotten while their memories were stored, and the memory cannot forget", p, userID)
	}
	g.j.log.Info("night: user forgotten while their memories were stored; deleting them again", "platform", p, "user", userID)
	if err := f.ForgetUser(ctx, p, userID); err != nil {
		return fmt.Errorf("forget again: %w", err)
	}
	return errForgotten
}

// errForgotten is returned by guardedMemory.Remember for a user forgotten
// while the night ran: nothing of theirs was stored.
var errForgotten = errors.New("the user was forgotten")
