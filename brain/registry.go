package brain

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// MinExamples is the fewest intent examples an expert may have: the router
// cannot learn an expert from less.
const MinExamples = 20

// exampleFence opens and closes a multi-line example in an examples file.
const exampleFence = "~~~"

// expertName is the charset of expert names: they appear in /expert and in
// file names.
var expertName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// LoadExperts reads every expert file (*.yaml, *.yml) at the root of fsys,
// in name order, and validates them. Sub-directories and other files are
// ignored, so evaluation data can live beside the experts.
//
// An expert file is YAML with the fields of Expert. Unknown fields are an
// error, so typos do not pass silently. examples_file names a text file
// (relative to fsys) with one intent example per line; blank lines and lines
// starting with # are skipped, and an example spanning several lines (pasted
// code, a traceback) sits between two lines of exactly ~~~. keywords_file
// is read the same way, one keyword per line.
//
// File is kept as written; ResolveFile expands the ${NAME} in it.
func LoadExperts(fsys fs.FS) ([]Expert, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read experts: %w", err)
	}
	var experts []Expert
	seen := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !isExpertFile(e.Name()) {
			continue
		}
		x, err := loadExpert(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("expert file %s: %w", e.Name(), err)
		}
		if prev, ok := seen[x.Name]; ok {
			return nil, fmt.Errorf("expert file %s: name %q is already used by %s", e.Name(), x.Name, prev)
		}
		seen[x.Name] = e.Name()
		experts = append(experts, x)
	}
	if len(experts) == 0 {
		return nil, errors.New("read experts: no expert files (*.yaml) found")
	}
	return experts, nil
}

func isExpertFile(name string) bool {
	ext := path.Ext(name)
	return (ext == ".yaml" || ext == ".yml") && !strings.HasPrefix(name, ".")
}

// ResolveFile returns File with every ${NAME} replaced by lookup(NAME), so
// the caller decides where values come from (the brain never reads the
// environment). A nil lookup returns File as written.
func (x Expert) ResolveFile(lookup func(name string) string) string {
	if lookup == nil {
		return x.File
	}
	return os.Expand(x.File, lookup)
}

func loadExpert(fsys fs.FS, name string) (Expert, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return Expert{}, err
	}
	var x Expert
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&x); err != nil {
		return Expert{}, fmt.Errorf("parse: %w", err)
	}
	x.Name = strings.TrimSpace(x.Name)
	x.Model = strings.TrimSpace(x.Model)
	x.SystemPrompt = strings.TrimSpace(x.SystemPrompt)
	if x.ExamplesFile != "" {
		p := x.ExamplesFile
		if !fs.ValidPath(p) {
			return Expert{}, fmt.Errorf("examples_file %q: must be a relative path inside the experts directory", p)
		}
		more, err := readExamples(fsys, p)
		if err != nil {
			return Expert{}, fmt.Errorf("examples_file %s: %w", p, err)
		}
		x.Examples = append(x.Examples, more...)
	}
	if x.KeywordsFile != "" {
		p := x.KeywordsFile
		if !fs.ValidPath(p) {
			return Expert{}, fmt.Errorf("keywords_file %q: must be a relative path inside the experts directory", p)
		}
		more, err := readExamples(fsys, p)
		if err != nil {
			return Expert{}, fmt.Errorf("keywords_file %s: %w", p, err)
		}
		x.Keywords = append(x.Keywords, more...)
	}
	x.Examples = cleanExamples(x.Examples)
	x.Keywords = cleanExamples(x.Keywords)
	if err := x.validate(); err != nil {
		return Expert{}, err
	}
	return x, nil
}

func (x Expert) validate() error {
	switch {
	case x.Name == "":
		return errors.New("name: must be set")
	case !expertName.MatchString(x.Name):
		return fmt.Errorf("name %q: use lower-case letters, digits and _ (a letter first, at most 32)", x.Name)
	case x.Name == BaseExpert:
		return fmt.Errorf("name %q: reserved for the base model", x.Name)
	case x.Model == "":
		return errors.New("model: must be set")
	case x.SystemPrompt == "":
		return errors.New("system_prompt: must be set")
	case len(x.Examples) < MinExamples:
		return fmt.Errorf("examples: %d given, the router needs at least %d", len(x.Examples), MinExamples)
	}
	switch x.Packaging {
	case "", PackagingAdapter, PackagingGGUF, PackagingExisting:
	default:
		return fmt.Errorf("packaging %q: must be %s, %s or %s", x.Packaging, PackagingAdapter, PackagingGGUF, PackagingExisting)
	}
	return nil
}

// readExamples parses an examples file (format in LoadExperts).
func readExamples(fsys fs.FS, name string) ([]string, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	var (
		out   []string
		block []string
		open  = 0 // line number of the open fence, 0 when none
		n     = 0
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == exampleFence {
			if open == 0 {
				open, block = n, block[:0]
				continue
			}
			out = append(out, strings.Join(block, "\n"))
			open = 0
			continue
		}
		if open != 0 {
			block = append(block, line)
			continue
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	if open != 0 {
		return nil, fmt.Errorf("line %d: %s opens an example that is never closed", open, exampleFence)
	}
	return out, nil
}

// cleanExamples trims examples and drops empty ones and duplicates, keeping
// the first occurrence.
func cleanExamples(in []string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}
