package router

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/evo-tr/evo/brain"
)

// Labeled is one line of an evaluation set: a text and the expert that
// should answer it (or brain.BaseExpert when the base model should).
type Labeled struct {
	Line  int    `json:"-"`
	Text  string `json:"text"`
	Label string `json:"label"`
}

// ReadLabeled reads an evaluation set: JSON lines with "text" and "label".
// Blank lines are skipped; a malformed line is an error naming it.
func ReadLabeled(r io.Reader) ([]Labeled, error) {
	var out []Labeled
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var l Labeled
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if l.Label == "" {
			return nil, fmt.Errorf("line %d: no \"label\"", n)
		}
		l.Line = n
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	if len(out) == 0 {
		return nil, errors.New("no labelled lines")
	}
	return out, nil
}

// Miss is one line the router did not send to its label.
type Miss struct {
	Labeled
	Decision brain.Decision
}

// ExpertScore is the precision and recall of one expert.
type ExpertScore struct {
	Name      string
	Precision float64 // of the texts routed to it, how many were its own
	Recall    float64 // of its texts, how many were routed to it
	Support   int     // texts labelled with it
}

// Report is the result of an evaluation.
type Report struct {
	Total int
	// Exact: routed to the labelled expert. Wrong: routed to another
	// expert (not a fallback). Fallback: sent to the base model.
	Exact, Wrong, Fallback int
	// Names orders the rows (labels) and columns (decisions) of
	// Confusion; brain.BaseExpert is the fallback column.
	Names     []string
	Confusion [][]int
	Scores    []ExpertScore
	// Misses lists every line not routed to its label, in input order.
	Misses []Miss
	// Bins is the reliability table: the lines by the confidence of the
	// router's best expert (the candidate, even when it fell back), in
	// reliabilityBins equal bins, with how often that candidate was the
	// label. ECE is the expected calibration error: the bins' gaps between
	// mean confidence and accuracy, weighted by their share of lines.
	Bins []Bin
	ECE  float64
	// Sweep is what each of sweepThresholds, and the router's own
	// threshold when it is off that grid, would have made of the set: the
	// figures that choose ROUTER_THRESHOLD.
	Sweep []ThresholdRow
}

// sweepThresholds are the thresholds a report's sweep tries: 0.50 to
// 0.90 in steps of 0.02.
var sweepThresholds = func() []float64 {
	var ts []float64
	for i := 0; i <= 20; i++ {
		ts = append(ts, float64(50+2*i)/100) // 0.68, not 0.5+9*0.02
	}
	return ts
}()

// ThresholdRow is the outcome a threshold would have given on a set:
// a line goes to its best expert when that expert's confidence is at
// least Threshold, else to the base model.
type ThresholdRow struct {
	Threshold              float64
	Exact, Wrong, Fallback int
}

// At reports whether the row is that of threshold t (up to rounding: the
// grid's 0.68 is float64(68)/100, a configured one is parsed from text).
func (row ThresholdRow) At(t float64) bool { return math.Abs(row.Threshold-t) < 1e-9 }

// sweep counts, for every threshold of sweepThresholds and every extra
// one (in increasing order, each once), the lines whose best expert
// (correct: it is the label) would have answered rightly or wrongly, and
// those that would have fallen back.
func sweep(conf []float64, correct []bool, extra ...float64) []ThresholdRow {
	ts := slices.Clone(sweepThresholds)
	for _, t := range extra {
		if !slices.ContainsFunc(ts, func(u float64) bool { return ThresholdRow{Threshold: u}.At(t) }) {
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	rows := make([]ThresholdRow, len(ts))
	for i, t := range ts {
		rows[i].Threshold = t
		for j, c := range conf {
			switch {
			case c < t: // as the router decides
				rows[i].Fallback++
			case correct[j]:
				rows[i].Exact++
			default:
				rows[i].Wrong++
			}
		}
	}
	return rows
}

// reliabilityBins is how many confidence bins a report has.
const reliabilityBins = 10

// Bin is one row of a reliability table: the lines whose confidence is in
// [Lo, Hi) (the last bin includes 1).
type Bin struct {
	Lo, Hi         float64
	Count          int
	MeanConfidence float64
	Accuracy       float64 // share of the bin's lines whose candidate is the label
}

// reliability bins (confidence, correct) pairs and returns the table and
// the expected calibration error.
func reliability(conf []float64, correct []bool) ([]Bin, float64) {
	bins := make([]Bin, reliabilityBins)
	hits := make([]int, reliabilityBins)
	for i := range bins {
		bins[i].Lo = float64(i) / reliabilityBins
		bins[i].Hi = float64(i+1) / reliabilityBins
	}
	for i, c := range conf {
		b := min(max(int(c*reliabilityBins), 0), reliabilityBins-1)
		bins[b].Count++
		bins[b].MeanConfidence += c
		if correct[i] {
			hits[b]++
		}
	}
	var ece float64
	for i := range bins {
		b := &bins[i]
		if b.Count == 0 {
			continue
		}
		b.MeanConfidence /= float64(b.Count)
		b.Accuracy = float64(hits[i]) / float64(b.Count)
		ece += float64(b.Count) / float64(len(conf)) * math.Abs(b.Accuracy-b.MeanConfidence)
	}
	return bins, ece
}

// Accuracy is the share of lines routed exactly.
func (r Report) Accuracy() float64 { return ratio(r.Exact, r.Total) }

// WrongRate is the share of lines routed to the wrong expert.
func (r Report) WrongRate() float64 { return ratio(r.Wrong, r.Total) }

// FallbackRate is the share of lines sent to the base model.
func (r Report) FallbackRate() float64 { return ratio(r.Fallback, r.Total) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Evaluate routes every labelled text and scores the decisions. experts
// names the router's experts, in the order the report shows them.
func Evaluate(ctx context.Context, r brain.Router, experts []string, set []Labeled) Report {
	type pair struct{ label, got string }
	pairs := make([]pair, 0, len(set))
	rep := Report{Total: len(set)}
	conf := make([]float64, 0, len(set))
	correct := make([]bool, 0, len(set))
	for _, l := range set {
		d := r.Route(ctx, l.Text)
		conf = append(conf, d.Confidence)
		cand := d.Candidate
		if cand == "" && !d.Fallback {
			cand = d.Expert
		}
		correct = append(correct, cand == l.Label)
		got := d.Expert
		if d.Fallback {
			got = brain.BaseExpert
		}
		pairs = append(pairs, pair{l.Label, got})
		switch {
		case got == l.Label:
			rep.Exact++
		case d.Fallback:
			rep.Fallback++
		default:
			rep.Wrong++
		}
		if got != l.Label {
			rep.Misses = append(rep.Misses, Miss{Labeled: l, Decision: d})
		}
	}

	rep.Bins, rep.ECE = reliability(conf, correct)
	// A router that says its threshold gets a row for it even off the grid.
	var own []float64
	if th, ok := r.(interface{ Threshold() float64 }); ok {
		own = append(own, th.Threshold())
	}
	rep.Sweep = sweep(conf, correct, own...)

	names := slices.Clone(experts)
	for _, p := range pairs {
		for _, n := range []string{p.label, p.got} {
			if n != brain.BaseExpert && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	names = append(names, brain.BaseExpert)
	rep.Names = names
	rep.Confusion = make([][]int, len(names))
	for i := range rep.Confusion {
		rep.Confusion[i] = make([]int, len(names))
	}
	for _, p := range pairs {
		rep.Confusion[slices.Index(names, p.label)][slices.Index(names, p.got)]++
	}
	for i, name := range names {
		if name == brain.BaseExpert {
			continue
		}
		var routed, labelled int
		for j := range names {
			routed += rep.Confusion[j][i]
			labelled += rep.Confusion[i][j]
		}
		tp := rep.Confusion[i][i]
		rep.Scores = append(rep.Scores, ExpertScore{
			Name:      name,
			Precision: ratio(tp, routed),
			Recall:    ratio(tp, labelled),
			Support:   labelled,
		})
	}
	return rep
}
