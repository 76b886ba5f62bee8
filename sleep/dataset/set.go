package dataset

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/evo-tr/evo/sleep"
)

// Options of Build.
type Options struct {
	// Valid and Test are the shares held out for validation and testing,
	// each in [0, 1), together under 1.
	Valid, Test float64
	// Skip lists folders not walked: the output folder.
	Skip []string
	// Note is told of every line and file left out, in file order; nil
	// drops them.
	Note func(Problem)
}

// Set is one expert's data, split.
type Set struct {
	Expert string
	// Train, Valid and Test are output lines without their newlines, each
	// split in hash order.
	Train, Valid, Test [][]byte
	// Duplicates counts copies left out, Bad malformed lines, Feedback lines
	// marked "feedback": "bad" and the copies of them.
	Duplicates, Bad, Feedback int
}

// Usable is the number of conversations in the set.
func (s *Set) Usable() int { return len(s.Train) + len(s.Valid) + len(s.Test) }

// ErrFraction is returned for a share out of range.
var ErrFraction = errors.New("valid and test must each be in [0, 1) and together under 1")

// Build reads the inputs' training files and returns one set per expert,
// sorted by name, with an entry for every expert a file named even when
// none of its lines was usable.
func Build(ctx context.Context, inputs []Input, opt Options) ([]*Set, error) {
	if !(opt.Valid >= 0 && opt.Valid < 1 && opt.Test >= 0 && opt.Test < 1 && opt.Valid+opt.Test < 1) {
		return nil, fmt.Errorf("%w: valid %v, test %v", ErrFraction, opt.Valid, opt.Test)
	}
	note := opt.Note
	if note == nil {
		note = func(Problem) {}
	}
	files, err := Files(ctx, inputs, opt.Skip, note)
	if err != nil {
		return nil, err
	}
	pools := map[string]*pool{}
	var order []string
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := pools[f.Expert]
		if p == nil {
			p = &pool{count: map[string]int{}, marked: map[string]bool{}}
			pools[f.Expert] = p
			order = append(order, f.Expert) // files are sorted by expert
		}
		if err := p.read(f.Path, note); err != nil {
			return nil, err
		}
	}
	sets := make([]*Set, 0, len(order))
	for _, expert := range order {
		sets = append(sets, pools[expert].set(expert, opt.Valid, opt.Test))
	}
	return sets, nil
}

// pool gathers one expert's lines before the split.
type pool struct {
	count  map[string]int  // usable output line → copies read
	marked map[string]bool // output lines some copy of which had bad feedback
	bad    int
	fbOnly int // marked lines too malformed to compare
}

// read adds a file's lines to the pool.
func (p *pool) read(path string, note func(Problem)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		b, err := r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if len(b) == 0 && err != nil {
			return nil // end of file
		}
		got := parseLine(b)
		switch {
		case got.conv == nil && got.badFB:
			p.fbOnly++
		case got.conv == nil:
			p.bad++
			note(Problem{Path: path, Line: n, Reason: got.reason})
		default:
			line, encErr := got.conv.encode()
			if encErr != nil {
				return fmt.Errorf("%s:%d: %w", path, n, encErr)
			}
			p.count[string(line)]++
			if got.badFB {
				p.marked[string(line)] = true
			}
		}
		if err != nil {
			return nil
		}
	}
}

// set removes copies and marked conversations and splits the rest.
func (p *pool) set(expert string, valid, test float64) *Set {
	s := &Set{Expert: expert, Bad: p.bad, Feedback: p.fbOnly}
	items := make([]item, 0, len(p.count))
	for line, n := range p.count {
		if p.marked[line] {
			s.Feedback += n
			continue
		}
		s.Duplicates += n - 1
		items = append(items, newItem([]byte(line)))
	}
	s.Train, s.Valid, s.Test = split(items, valid, test)
	return s
}

// Write writes the set to dir/<expert>/train.jsonl, valid.jsonl and
// test.jsonl, replacing earlier files; folders are mode 0700 and files
// 0600: they hold users' words.
func (s *Set) Write(dir string) error {
	if !ValidExpert(s.Expert) {
		return fmt.Errorf("expert %q: not a folder name", s.Expert)
	}
	sub := filepath.Join(dir, s.Expert)
	if err := os.MkdirAll(sub, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", sub, err)
	}
	if err := os.Chmod(sub, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", sub, err)
	}
	for _, part := range []struct {
		name  string
		lines [][]byte
	}{{"train.jsonl", s.Train}, {"valid.jsonl", s.Valid}, {"test.jsonl", s.Test}} {
		var buf bytes.Buffer
		for _, l := range part.lines {
			buf.Write(l)
			buf.WriteByte('\n')
		}
		if err := sleep.WriteFileAtomic(filepath.Join(sub, part.name), buf.Bytes(), 0o600); err != nil {
			return err
		}
	}
	return nil
}
