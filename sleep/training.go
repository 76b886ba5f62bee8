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
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/evo-tr/evo/brain"
)

// contextTurns is how many earlier messages of the conversation a training
// example carries before the user's message.
const contextTurns = 4

// RouterFile names the file of a day's routed messages.
const RouterFile = "router.jsonl"

// safeName is what an expert's name must look like to name a file.
var safeName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// Example is one training example in the chat format mlx-lm's LoRA trainer
// reads (`{"messages":[…]}` per line), with the user whose conversation
// it came from ("telegram:42"; mlx-lm ignores the key), so that /forget
// can find it.
type Example struct {
	Messages []ExampleMessage `json:"messages"`
	User     string           `json:"user,omitempty"`
	// Feedback is "good" when a user marked the answer good (a reaction,
	// /iyi); answers marked bad are never written.
	Feedback string `json:"feedback,omitempty"`
}

// Feedback reads what users thought of answers (brain.FeedbackStore is
// one).
type Feedback interface {
	// FeedbackOf returns the feedback given with from <= time < to, by
	// brain.FeedbackKey of the answer: brain.FeedbackGood or FeedbackBad.
	FeedbackOf(ctx context.Context, from, to time.Time) (map[string]int, error)
}

// WithFeedback leaves answers users marked bad out of the training files
// and marks the good ones.
func WithFeedback(f Feedback) Option { return func(j *Job) { j.feedback = f } }

// training is what writeTraining wrote.
type training struct {
	examples    map[string]int
	routerLines int
	rejected    int
	good, bad   int
}

// feedbackSince is the feedback given on the day's answers: from the day's
// start until now (feedback never precedes its answer).
func (j *Job) feedbackSince(ctx context.Context, day time.Time) (map[string]int, error) {
	if j.feedback == nil {
		return nil, nil
	}
	fb, err := j.feedback.FeedbackOf(ctx, day, j.clock.Now().Add(time.Second))
	if err != nil {
		return nil, fmt.Errorf("read feedback: %w", err)
	}
	return fb, nil
}

// ExampleMessage is one message of an Example.
type ExampleMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// RouterLine is one routed message: what the router decided, for review.
// Label is the expert that answered when the router was sure or the user
// chose it (/expert); it is empty on fallbacks, which wait for a person's
// label before they can join the intent examples. User is whose message it
// is ("telegram:42").
type RouterLine struct {
	Text       string  `json:"text"`
	Label      string  `json:"label"`
	Candidate  string  `json:"candidate,omitempty"`
	Confidence float64 `json:"confidence"`
	Fallback   bool    `json:"fallback,omitempty"`
	Forced     bool    `json:"forced,omitempty"`
	User       string  `json:"user,omitempty"`
}

// writeTraining writes the day's examples, one file per expert, and the
// router's lines into TrainingDir/day/, replacing what an earlier run of
// the day wrote. Files are readable by their owner only: they hold users'
// messages.
func (j *Job) writeTraining(day string, recs []brain.Record, feedback map[string]int) (training, error) {
	examples := map[string][]Example{}
	rejected, good, bad := 0, 0, 0
	var routed []RouterLine
	for _, conv := range byConversation(recs) {
		var earlier []brain.Record // usable messages before the current one
		var lastUser *brain.Record
		userAt := 0 // lastUser's index in earlier
		for i := range conv {
			r := conv[i]
			if r.Failed || strings.TrimSpace(r.Text) == "" {
				lastUser = nil
				continue
			}
			if r.Role == brain.RoleUser {
				lastUser, userAt = &conv[i], len(earlier)
				earlier = append(earlier, r)
				continue
			}
			if r.Role != brain.RoleAssistant || r.Decision == nil || lastUser == nil {
				earlier = append(earlier, r)
				continue
			}
			d := *r.Decision
			value := feedback[brain.FeedbackKey(r.Key.Platform, r.Key.ChatID, r.Ref)]
			if value == brain.FeedbackBad {
				// A user said it was bad: in no file, not even the router's
				// (whose label is the expert that answered).
				bad++
				earlier = earlier[:userAt] // nor in a later example's context
				lastUser = nil
				continue
			}
			line := RouterLine{Text: lastUser.Text, Candidate: d.Candidate, Confidence: d.Confidence,
				Fallback: d.Fallback, Forced: d.Forced, User: owner(*lastUser)}
			if !d.Fallback {
				line.Label = d.Expert
			}
			routed = append(routed, line)
			if !d.Fallback && d.Expert != j.cfg.BaseExpert && safeName.MatchString(d.Expert) {
				if rejectedAnswer(conv, i) {
					rejected++
				} else {
					ex := j.example(d.Expert, earlier[:userAt], *lastUser, r)
					if value == brain.FeedbackGood {
						ex.Feedback = "good"
						good++
					}
					examples[d.Expert] = append(examples[d.Expert], ex)
				}
			}
			earlier = append(earlier, r)
			lastUser = nil
		}
	}

	dir := filepath.Join(j.cfg.TrainingDir, day)
	if len(examples) == 0 && len(routed) == 0 {
		// Nothing to write: only clear what an earlier run left.
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return training{examples: map[string]int{}, rejected: rejected, bad: bad}, nil
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return training{}, fmt.Errorf("create %s: %w", dir, err)
	}
	keep := map[string]bool{}
	counts := map[string]int{}
	for name, exs := range examples {
		file := name + ".jsonl"
		if err := writeJSONL(filepath.Join(dir, file), exs); err != nil {
			return training{}, err
		}
		keep[file] = true
		counts[name] = len(exs)
	}
	if len(routed) > 0 {
		if err := writeJSONL(filepath.Join(dir, RouterFile), routed); err != nil {
			return training{}, err
		}
		keep[RouterFile] = true
	}
	// A re-run after /wipe or with fewer messages must not leave old files.
	old, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return training{}, fmt.Errorf("list %s: %w", dir, err)
	}
	for _, f := range old {
		if !keep[filepath.Base(f)] {
			if err := os.Remove(f); err != nil {
				return training{}, fmt.Errorf("remove stale %s: %w", f, err)
			}
		}
	}
	return training{examples: counts, routerLines: len(routed), rejected: rejected, good: good, bad: bad}, nil
}

// example is the expert's system prompt, up to contextTurns earlier
// messages, the user's message and the answer.
func (j *Job) example(expert string, earlier []brain.Record, user, answer brain.Record) Example {
	ex := Example{User: owner(user)}
	if p := strings.TrimSpace(j.cfg.ExpertPrompts[expert]); p != "" {
		ex.Messages = append(ex.Messages, ExampleMessage{Role: string(brain.RoleSystem), Content: p})
	}
	if len(earlier) > contextTurns {
		earlier = earlier[len(earlier)-contextTurns:]
	}
	// A conversation turn starts with the user.
	for len(earlier) > 0 && earlier[0].Role != brain.RoleUser {
		earlier = earlier[1:]
	}
	for _, r := range earlier {
		ex.Messages = append(ex.Messages, ExampleMessage{Role: string(r.Role), Content: r.Text})
	}
	ex.Messages = append(ex.Messages,
		ExampleMessage{Role: string(brain.RoleUser), Content: user.Text},
		ExampleMessage{Role: string(brain.RoleAssistant), Content: answer.Text})
	return ex
}

// owner is the user a record belongs to, as training lines name them.
func owner(r brain.Record) string {
	return brain.UserRef{Platform: r.Key.Platform, UserID: r.Key.UserID}.String()
}

// byConversation splits records by conversation, keeping their order but
// threaded (brain.Thread): each answer right after its question, so that a
// question sent while the last one was being answered is paired with its
// own answer.
func byConversation(recs []brain.Record) [][]brain.Record {
	idx := map[brain.ConvKey]int{}
	var out [][]brain.Record
	for _, r := range recs {
		i, ok := idx[r.Key]
		if !ok {
			i = len(out)
			idx[r.Key] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	for i := range out {
		out[i] = brain.Thread(out[i])
	}
	return out
}

// writeJSONL writes one JSON value per line to path atomically.
func writeJSONL[T any](path string, vs []T) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, v := range vs {
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
		}
	}
	return WriteFileAtomic(path, buf.Bytes(), 0o600)
}

// rejectWithin is how soon after an answer the user's next message can
// reject it.
const rejectWithin = 15 * time.Minute

// rejections start a message that says the previous answer was wrong.
var rejections = []string{"yanlış", "yanlis", "hatalı", "hatali", "olmadı", "olmadi", "olmuyor",
	"çalışmadı", "calismadi", "çalışmıyor", "calismiyor", "hata veriyor", "hala hata", "hâlâ hata",
	"saçma", "anlamadın", "yanlış anladın", "wrong", "doesn't work", "does not work", "not working"}

// rejectedAnswer reports whether the user's next message after the answer
// at conv[i] rejects it: an answer the user said was wrong is no example to
// learn from.
func rejectedAnswer(conv []brain.Record, i int) bool {
	for _, r := range conv[i+1:] {
		if r.Role != brain.RoleUser {
			continue
		}
		if r.Time.Sub(conv[i].Time) > rejectWithin {
			return false
		}
		head := strings.ToLowerSpecial(unicode.TurkishCase, strings.TrimSpace(r.Text))
		if len(head) > 80 {
			head = head[:80]
		}
		for _, w := range rejections {
			if strings.HasPrefix(head, w) || strings.Contains(head, " "+w) {
				return true
			}
		}
		return false
	}
	return false
}
