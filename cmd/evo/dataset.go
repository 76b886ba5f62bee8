package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/evo-tr/evo/sleep/dataset"
)

const datasetUsage = `usage:
  evo dataset --out DIR [--valid F] [--test F] PATH...
Builds mlx-lm data folders, DIR/<expert>/{train,valid,test}.jsonl, from the
nights' files (TRAINING_DIR/<day>/<expert>.jsonl; router.jsonl is skipped)
and public-set files of {"messages":[…]} lines. A folder is walked for
<expert>.jsonl files; EXPERT:PATH names the expert of a file or of every
file under a folder. Copies appear once, lines marked "feedback":"bad" stay
out, bad lines are named on stderr as PATH:LINE: reason. --valid and --test
are the shares held out (0.1 each), chosen by a hash of each conversation:
the same inputs give the same files.`

// cmdDataset builds the experts' training sets for mlx-lm.
func cmdDataset(ctx context.Context, a *app, args []string) error {
	fl := flag.NewFlagSet("dataset", flag.ContinueOnError)
	fl.SetOutput(a.stderr)
	fl.Usage = func() { fmt.Fprintln(a.stderr, datasetUsage) }
	out := fl.String("out", "", "the folder to write DIR/<expert>/{train,valid,test}.jsonl into")
	valid := fl.Float64("valid", 0.1, "share of the conversations held out for validation")
	test := fl.Float64("test", 0.1, "share of the conversations held out for testing")
	// Flags may come after paths too.
	var paths []string
	for {
		if err := fl.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		if fl.NArg() == 0 {
			break
		}
		paths = append(paths, fl.Arg(0))
		args = fl.Args()[1:]
	}
	if *out == "" {
		return fmt.Errorf("%w: --out DIR is required\n%s", errUsage, datasetUsage)
	}
	if len(paths) == 0 {
		return fmt.Errorf("%w: no PATH given\n%s", errUsage, datasetUsage)
	}
	inputs := make([]dataset.Input, 0, len(paths))
	for _, p := range paths {
		in, err := dataset.ParseInput(p)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		inputs = append(inputs, in)
	}
	sets, err := dataset.Build(ctx, inputs, dataset.Options{
		Valid: *valid, Test: *test, Skip: []string{*out},
		Note: func(p dataset.Problem) { fmt.Fprintln(a.stderr, p) },
	})
	if errors.Is(err, dataset.ErrFraction) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err != nil {
		return err
	}
	usable := 0
	for _, s := range sets {
		if s.Usable() == 0 {
			continue
		}
		if err := s.Write(*out); err != nil {
			return err
		}
		usable += s.Usable()
	}
	if err := printDatasets(a, sets); err != nil {
		return err
	}
	if usable == 0 {
		if len(sets) == 0 {
			return errors.New("no training files found (want <expert>.jsonl files, or EXPERT:PATH)")
		}
		return errors.New("no usable conversations found")
	}
	return nil
}

// printDatasets prints one row per expert and, for several, the totals.
func printDatasets(a *app, sets []*dataset.Set) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "expert\ttrain\tvalid\ttest\tduplicates\tbad\tfeedback-skipped")
	var tot [6]int
	for _, s := range sets {
		row := [6]int{len(s.Train), len(s.Valid), len(s.Test), s.Duplicates, s.Bad, s.Feedback}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\n", s.Expert, row[0], row[1], row[2], row[3], row[4], row[5])
		for i := range row {
			tot[i] += row[i]
		}
	}
	if len(sets) > 1 {
		fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t%d\t%d\n", tot[0], tot[1], tot[2], tot[3], tot[4], tot[5])
	}
	return tw.Flush()
}
