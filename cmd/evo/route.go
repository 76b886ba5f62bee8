package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/router"
)

// maxRouteLine is the longest input line `evo route --jsonl` reads; a
// longer one gets an error object and the stream goes on.
const maxRouteLine = 1 << 20

const routeUsage = `usage:
  evo route "text"                 print the decision for one text as JSON
  evo route --jsonl < in.jsonl     one decision per JSON line {"text": ...}, in order
  evo route eval [--min-exact F] [--max-wrong F] FILE.jsonl
                                   score the router on lines {"text", "label"}
  evo route learn FILE.jsonl       add reviewed lines {"text", "expert"} to the experts'
                                   examples in EXPERTS_DIR, unless a set in EXPERTS_DIR/eval
                                   gets worse (then nothing is written)
Neither Ollama nor PostgreSQL is needed. EXPERTS_DIR names the experts (else the
built-in copy), ROUTER_THRESHOLD the confidence under which BASE_MODEL answers.`

// cmdRoute asks the router, offline: for one text, for a stream of JSON
// lines, or over a labelled evaluation file.
func cmdRoute(ctx context.Context, a *app, args []string) error {
	fl := flag.NewFlagSet("route", flag.ContinueOnError)
	fl.SetOutput(a.stderr)
	fl.Usage = func() { fmt.Fprintln(a.stderr, routeUsage) }
	jsonl := fl.Bool("jsonl", false, "read JSON lines with a \"text\" field from stdin")
	if err := fl.Parse(args); err != nil {
		return err
	}
	rest := fl.Args()
	switch {
	case *jsonl && len(rest) > 0:
		return fmt.Errorf("%w: --jsonl reads stdin and takes no text\n%s", errUsage, routeUsage)
	case !*jsonl && len(rest) == 0:
		return fmt.Errorf("%w: no text given\n%s", errUsage, routeUsage)
	case !*jsonl && rest[0] == "eval":
		return a.routeEval(ctx, rest[1:])
	case !*jsonl && rest[0] == "learn":
		return a.routeLearn(ctx, rest[1:])
	}
	r, err := a.loadRouter(ctx)
	if err != nil {
		return err
	}
	if *jsonl {
		return routeJSONL(ctx, r, a.stdin, a.stdout)
	}
	return newJSONEncoder(a.stdout).Encode(decisionOut(r.Route(ctx, strings.Join(rest, " "))))
}

// Embedding vote settings: its share of each decision, and how long
// embedding the examples at start may take.
const (
	routerEmbedWeight  = 0.3
	routerEmbedTimeout = 2 * time.Minute
)

// loadRouter reads the registry and trains the router.
func (a *app) loadRouter(ctx context.Context) (*router.Router, error) {
	experts, err := a.loadExperts()
	if err != nil {
		return nil, err
	}
	return a.newRouter(ctx, experts)
}

// routerEmbeddings turns on the router's embedding vote when
// ROUTER_EMBED_MODEL is set. It is optional: when Ollama or the model is
// missing it logs why and the in-process classifier decides alone.
func (a *app) routerEmbeddings(ctx context.Context, r *router.Router) {
	model := a.cfg.RouterEmbedModel
	if model == "" {
		return
	}
	client, err := a.ollamaClient()
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, routerEmbedTimeout)
		err = r.UseEmbeddings(ctx, client, model, routerEmbedWeight)
		cancel()
	}
	if err != nil {
		a.log.Warn("router embedding vote off; the classifier decides alone",
			"ROUTER_EMBED_MODEL", model, "hint", "ollama pull "+model, "err", err)
		return
	}
	a.log.Info("router embedding vote on", "model", model, "weight", routerEmbedWeight)
}

// routeDecision is what `evo route` prints for one text.
type routeDecision struct {
	Expert     string  `json:"expert"`
	Model      string  `json:"model"`
	Confidence float64 `json:"confidence"`
	Fallback   bool    `json:"fallback"`
}

// routeLine is one output line of `evo route --jsonl`.
type routeLine struct {
	Text string `json:"text"`
	routeDecision
}

// routeError is the output line for an input line that cannot be routed.
type routeError struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

func decisionOut(d brain.Decision) routeDecision {
	return routeDecision{
		Expert:     d.Expert,
		Model:      d.Model,
		Confidence: math.Round(d.Confidence*1e4) / 1e4,
		Fallback:   d.Fallback,
	}
}

// newJSONEncoder writes one JSON object per line, leaving <, > and & as
// they are (texts are often code).
func newJSONEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// routeJSONL routes every line of in (a JSON object with a string "text";
// other fields are ignored) and writes one object per line to out, in
// order. A line that cannot be read gets {"line", "error"}; the stream
// never stops for one.
func routeJSONL(ctx context.Context, r brain.Router, in io.Reader, out io.Writer) error {
	br := bufio.NewReaderSize(in, 64<<10)
	bw := bufio.NewWriterSize(out, 64<<10)
	enc := newJSONEncoder(bw)
	for n := 1; ; n++ {
		line, tooLong, err := readLine(br)
		if err == io.EOF && line == nil {
			break
		}
		if err != nil && err != io.EOF {
			bw.Flush()
			return fmt.Errorf("read line %d: %w", n, err)
		}
		var v any
		text, perr := parseRouteLine(line, tooLong)
		if perr != nil {
			v = routeError{Line: n, Error: perr.Error()}
		} else {
			v = routeLine{Text: text, routeDecision: decisionOut(r.Route(ctx, text))}
		}
		if werr := enc.Encode(v); werr != nil {
			return fmt.Errorf("write: %w", werr)
		}
		// Flush when no more input is waiting, so that a caller talking
		// line by line gets its answer at once.
		if br.Buffered() == 0 {
			if werr := bw.Flush(); werr != nil {
				return fmt.Errorf("write: %w", werr)
			}
		}
		if err == io.EOF {
			break
		}
		if ctx.Err() != nil {
			bw.Flush()
			return ctx.Err()
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// readLine returns the next line without its end; when the line is longer
// than maxRouteLine the rest is skipped and tooLong is set. At the end of
// the input it returns io.EOF, with the last line if it had no newline.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxRouteLine {
			tooLong = true
		} else {
			buf = append(buf, chunk...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(buf) == 0 && !tooLong:
			return nil, false, io.EOF
		case err != nil && err != io.EOF:
			return nil, false, err
		}
		buf = bytes.TrimRight(buf, "\r\n")
		if buf == nil {
			buf = []byte{}
		}
		return buf, tooLong, err
	}
}

// parseRouteLine takes the text out of one input line.
func parseRouteLine(line []byte, tooLong bool) (string, error) {
	if tooLong {
		return "", fmt.Errorf("line longer than %d bytes", maxRouteLine)
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return "", errors.New(`empty line; want a JSON object with a "text" field`)
	}
	var in struct {
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(line, &in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "text" {
			return "", errors.New(`"text" is not a string`)
		}
		return "", fmt.Errorf("not a JSON object: %v", err)
	}
	if in.Text == nil {
		return "", errors.New(`no "text" field`)
	}
	return *in.Text, nil
}

// routeEval scores the router on a labelled file and prints the report.
func (a *app) routeEval(ctx context.Context, args []string) error {
	fl := flag.NewFlagSet("route eval", flag.ContinueOnError)
	fl.SetOutput(a.stderr)
	fl.Usage = func() { fmt.Fprintln(a.stderr, routeUsage) }
	minExact := fl.Float64("min-exact", 0, "fail when the exact share is below this (0..1)")
	maxWrong := fl.Float64("max-wrong", 1, "fail when the wrong-expert share is above this (0..1)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 1 {
		return fmt.Errorf("%w: route eval takes one file\n%s", errUsage, routeUsage)
	}
	path := fl.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open evaluation file: %w", err)
	}
	defer f.Close()
	set, err := router.ReadLabeled(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	r, err := a.loadRouter(ctx)
	if err != nil {
		return err
	}
	rep := router.Evaluate(ctx, r, r.Experts(), set)
	if err := writeReport(a.stdout, path, a.cfg.RouterThreshold, rep); err != nil {
		return err
	}
	if rep.Accuracy() < *minExact {
		return fmt.Errorf("exact %.2f%% is below --min-exact %.2f%%", 100*rep.Accuracy(), 100**minExact)
	}
	if rep.WrongRate() > *maxWrong {
		return fmt.Errorf("wrong expert %.2f%% is above --max-wrong %.2f%%", 100*rep.WrongRate(), 100**maxWrong)
	}
	return nil
}

// quoteShort quotes s for one line, cut to at most n runes.
func quoteShort(s string, n int) string {
	if utf8.RuneCountInString(s) > n {
		rs := []rune(s)
		s = string(rs[:n]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// reviewedLine is one input line of `evo route learn`.
type reviewedLine struct {
	Line   int    `json:"-"`
	Text   string `json:"text"`
	Expert string `json:"expert"`
}

// readReviewed reads the lines {"text", "expert"} of path; blank lines
// are skipped.
func readReviewed(path string) ([]reviewedLine, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open reviewed file: %w", err)
	}
	var out []reviewedLine
	for n, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var l reviewedLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n+1, err)
		}
		l.Line = n + 1
		switch {
		case strings.TrimSpace(l.Text) == "":
			return nil, fmt.Errorf("%s line %d: no \"text\"", path, n+1)
		case l.Expert == "":
			return nil, fmt.Errorf("%s line %d: no \"expert\"", path, n+1)
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no reviewed lines", path)
	}
	return out, nil
}

// evalSet is one labelled set of EXPERTS_DIR/eval.
type evalSet struct {
	name  string
	lines []router.Labeled
}

// readEvalSets reads every *.jsonl of dir/eval.
func readEvalSets(dir string) ([]evalSet, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "eval", "*.jsonl"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no evaluation sets in %s", filepath.Join(dir, "eval"))
	}
	var sets []evalSet
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("open evaluation set: %w", err)
		}
		lines, err := router.ReadLabeled(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		sets = append(sets, evalSet{name: filepath.Base(p), lines: lines})
	}
	return sets, nil
}

// routeLearn adds reviewed examples to the experts in EXPERTS_DIR when
// the router does not get worse on any evaluation set there: exact must
// not fall, wrong-expert routing must not rise, no line routed right
// before may be routed to a wrong expert after, and every reviewed text
// must then go to its expert. Otherwise it writes nothing and fails.
func (a *app) routeLearn(ctx context.Context, args []string) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("%w: route learn takes one file\n%s", errUsage, routeUsage)
	}
	dir := a.cfg.ExpertsDir
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("route learn writes to EXPERTS_DIR, and %q is not a directory", dir)
	}
	reviewed, err := readReviewed(args[0])
	if err != nil {
		return err
	}
	experts, err := brain.LoadExperts(os.DirFS(dir))
	if err != nil {
		return fmt.Errorf("load experts from %s: %w", dir, err)
	}
	sets, err := readEvalSets(dir)
	if err != nil {
		return err
	}
	evalKeys := map[string]string{}
	for _, s := range sets {
		for _, l := range s.lines {
			evalKeys[router.TextKey(l.Text)] = fmt.Sprintf("%s line %d", s.name, l.Line)
		}
	}
	index := map[string]int{}
	owner := map[string]string{} // example key -> expert
	for i, x := range experts {
		index[x.Name] = i
		for _, ex := range x.Examples {
			owner[router.TextKey(ex)] = x.Name
		}
	}

	after := slices.Clone(experts)
	added := map[string][]string{}
	skipped := 0
	for _, l := range reviewed {
		i, ok := index[l.Expert]
		if !ok {
			return fmt.Errorf("line %d: no expert %q (have %s)", l.Line, l.Expert, strings.Join(names(experts), ", "))
		}
		if after[i].ExamplesFile == "" {
			return fmt.Errorf("line %d: expert %q has no examples_file to add to", l.Line, l.Expert)
		}
		if strings.Contains("\n"+l.Text+"\n", "\n~~~\n") {
			return fmt.Errorf("line %d: a line of exactly ~~~ cannot be an example", l.Line)
		}
		key := router.TextKey(l.Text)
		if where, ok := evalKeys[key]; ok {
			return fmt.Errorf("line %d is an evaluation line (%s): adding it would leak the evaluation into training; nothing written", l.Line, where)
		}
		switch o := owner[key]; {
		case o == l.Expert:
			skipped++
			continue
		case o != "":
			return fmt.Errorf("line %d: already an example of %s, not %s; nothing written", l.Line, o, l.Expert)
		}
		owner[key] = l.Expert
		after[i].Examples = append(slices.Clone(after[i].Examples), l.Text)
		added[l.Expert] = append(added[l.Expert], l.Text)
	}
	fmt.Fprintf(a.stdout, "%d reviewed lines: %d new, %d already examples\n", len(reviewed), len(reviewed)-skipped, skipped)
	if len(added) == 0 {
		fmt.Fprintln(a.stdout, "nothing to add")
		return nil
	}

	base := a.baseExpert()
	rb, err := router.New(experts, base, a.cfg.RouterThreshold)
	if err != nil {
		return fmt.Errorf("train router: %w", err)
	}
	ra, err := router.New(after, base, a.cfg.RouterThreshold)
	if err != nil {
		return fmt.Errorf("train router with the new examples: %w", err)
	}
	var problems []string
	fmt.Fprintf(a.stdout, "\n%-28s %22s   %22s\n", "set", "before exact/wrong/fb", "after exact/wrong/fb")
	for _, s := range sets {
		before := router.Evaluate(ctx, rb, rb.Experts(), s.lines)
		now := router.Evaluate(ctx, ra, ra.Experts(), s.lines)
		fmt.Fprintf(a.stdout, "%-28s %s   %s\n", s.name, shares(before), shares(now))
		if now.Exact < before.Exact {
			problems = append(problems, fmt.Sprintf("%s: exact falls from %d to %d", s.name, before.Exact, now.Exact))
		}
		if now.Wrong > before.Wrong {
			problems = append(problems, fmt.Sprintf("%s: wrong expert rises from %d to %d", s.name, before.Wrong, now.Wrong))
		}
		for _, l := range s.lines {
			b, n := rb.Route(ctx, l.Text), ra.Route(ctx, l.Text)
			if !b.Fallback && b.Expert == l.Label && !n.Fallback && n.Expert != l.Label {
				problems = append(problems, fmt.Sprintf("%s line %d: routed right before, to %s now", s.name, l.Line, n.Expert))
			}
		}
	}
	for _, l := range reviewed {
		if d := ra.Route(ctx, l.Text); d.Fallback || d.Expert != l.Expert {
			problems = append(problems, fmt.Sprintf("reviewed line %d still goes to %s (%s %.2f)", l.Line, d.Expert, d.Candidate, d.Confidence))
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(a.stdout, "  "+p)
		}
		return fmt.Errorf("route learn: refused (%d problems); nothing written", len(problems))
	}
	for _, x := range after {
		if texts := added[x.Name]; len(texts) > 0 {
			if err := appendExamples(filepath.Join(dir, x.ExamplesFile), filepath.Base(args[0]), texts); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "added %d examples to %s\n", len(texts), x.ExamplesFile)
		}
	}
	return nil
}

func names(experts []brain.Expert) []string {
	out := make([]string, len(experts))
	for i, x := range experts {
		out[i] = x.Name
	}
	return out
}

// shares formats a report's exact, wrong and fallback shares.
func shares(r router.Report) string {
	return fmt.Sprintf("%6.2f%% %5.2f%% %5.2f%%", 100*r.Accuracy(), 100*r.WrongRate(), 100*r.FallbackRate())
}

// appendExamples adds texts to an examples file under a comment naming
// their source, replacing the file atomically. A text over several lines,
// or one that would read as a comment, goes between ~~~ lines.
func appendExamples(path, source string, texts []string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	var b bytes.Buffer
	b.Write(old)
	if len(old) > 0 && !bytes.HasSuffix(old, []byte("\n")) {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "\n# --- reviewed, added by evo route learn from %s\n", strings.ReplaceAll(source, "\n", " "))
	for _, t := range texts {
		t = strings.TrimSpace(t)
		if strings.Contains(t, "\n") || strings.HasPrefix(t, "#") {
			fmt.Fprintf(&b, "~~~\n%s\n~~~\n", t)
			continue
		}
		fmt.Fprintln(&b, t)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".learn-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if st, err := os.Stat(path); err == nil {
		_ = os.Chmod(tmp.Name(), st.Mode().Perm())
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
