package main

import (
	"bufio"
	"fmt"
	"io"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/router"
)

// writeReport prints an evaluation for people.
func writeReport(w io.Writer, path string, threshold float64, rep router.Report) error {
	bw := bufio.NewWriter(w)
	pct := func(x float64) string { return fmt.Sprintf("%6.2f%%", 100*x) }
	fmt.Fprintf(bw, "evaluation of %s: %d lines, threshold %.2f\n\n", path, rep.Total, threshold)
	fmt.Fprintf(bw, "accuracy (exact)   %5d  %s\n", rep.Exact, pct(rep.Accuracy()))
	fmt.Fprintf(bw, "wrong expert       %5d  %s\n", rep.Wrong, pct(rep.WrongRate()))
	fmt.Fprintf(bw, "fallback to base   %5d  %s\n\n", rep.Fallback, pct(rep.FallbackRate()))

	width := len("expert")
	for _, n := range rep.Names {
		width = max(width, len(n))
	}
	fmt.Fprintf(bw, "%-*s  precision    recall  lines\n", width, "expert")
	for _, s := range rep.Scores {
		fmt.Fprintf(bw, "%-*s    %s   %s  %5d\n", width, s.Name, pct(s.Precision), pct(s.Recall), s.Support)
	}

	fmt.Fprintf(bw, "\nconfusion (rows: label, columns: routed to)\n%-*s", width, "")
	for _, n := range rep.Names {
		fmt.Fprintf(bw, "  %*s", max(len(n), 5), n)
	}
	fmt.Fprintln(bw)
	for i, n := range rep.Names {
		row := 0
		for _, c := range rep.Confusion[i] {
			row += c
		}
		if row == 0 && n == brain.BaseExpert {
			continue
		}
		fmt.Fprintf(bw, "%-*s", width, n)
		for j, c := range rep.Confusion[i] {
			fmt.Fprintf(bw, "  %*d", max(len(rep.Names[j]), 5), c)
		}
		fmt.Fprintln(bw)
	}

	fmt.Fprintf(bw, "\nreliability (confidence of the best expert; accuracy: it was the label)\n")
	fmt.Fprintf(bw, "confidence   lines  mean conf  accuracy\n")
	for _, b := range rep.Bins {
		if b.Count == 0 {
			fmt.Fprintf(bw, "%.1f-%.1f    %5d          -         -\n", b.Lo, b.Hi, 0)
			continue
		}
		fmt.Fprintf(bw, "%.1f-%.1f    %5d     %6.3f    %6.3f\n", b.Lo, b.Hi, b.Count, b.MeanConfidence, b.Accuracy)
	}
	fmt.Fprintf(bw, "expected calibration error (ECE) %.4f\n", rep.ECE)

	fmt.Fprintf(bw, "\nthresholds (a line goes to its best expert at or above the threshold)\n")
	fmt.Fprintf(bw, "threshold    exact    wrong  fallback\n")
	rate := func(n int) string { return pct(float64(n) / float64(max(rep.Total, 1))) }
	for _, row := range rep.Sweep {
		mark := ""
		if row.At(threshold) {
			mark = "  <- ROUTER_THRESHOLD"
		}
		fmt.Fprintf(bw, "%.2f       %s  %s   %s%s\n", row.Threshold, rate(row.Exact), rate(row.Wrong), rate(row.Fallback), mark)
	}

	fmt.Fprintf(bw, "\nmisrouted (%d):\n", len(rep.Misses))
	for _, m := range rep.Misses {
		d := m.Decision
		got := fmt.Sprintf("%s %.2f", d.Expert, d.Confidence)
		if d.Fallback {
			got = fmt.Sprintf("base (fallback; %s %.2f)", d.Candidate, d.Confidence)
		}
		fmt.Fprintf(bw, "  line %d: %s -> %s  %s\n", m.Line, m.Label, got, quoteShort(m.Text, 100))
	}
	return bw.Flush()
}
