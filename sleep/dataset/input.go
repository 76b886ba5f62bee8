package dataset

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// RouterFile names the night's file of routed messages (sleep.RouterFile):
// the router's review queue, not training data. It is never read.
const RouterFile = "router.jsonl"

// ext is how a training file's name ends.
const ext = ".jsonl"

// expertName is what an expert's name must look like to name a folder (the
// night writes only such names).
var expertName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// ValidExpert reports whether name can name an expert's folder.
func ValidExpert(name string) bool { return expertName.MatchString(name) }

// Input is one path argument: a file or a folder to walk. Expert, when set,
// is the expert of every file it reads; otherwise a file's expert is its
// name without ".jsonl".
type Input struct {
	Expert string
	Path   string
}

// ParseInput reads "PATH" or "EXPERT:PATH". The part before the first colon
// names the expert when it is a valid expert name; a path that itself holds
// a colon can be written "./a:b".
func ParseInput(arg string) (Input, error) {
	if arg == "" {
		return Input{}, errors.New("empty path")
	}
	if name, path, ok := strings.Cut(arg, ":"); ok && ValidExpert(name) {
		if path == "" {
			return Input{}, fmt.Errorf("%q: no path after the expert's name", arg)
		}
		return Input{Expert: name, Path: path}, nil
	}
	return Input{Path: arg}, nil
}

// File is one training file to read and the expert it feeds.
type File struct {
	Expert string
	Path   string
}

// Files lists the training files of the inputs, sorted by expert and path,
// each (expert, file) once. A folder is walked for "*.jsonl" files, leaving
// out router.jsonl, hidden files and folders (the night's ".tmp-*"), and
// the folders in skip (the output folder, when it lies inside an input).
// What is left out for a reason a person should know (a file whose name is
// no expert's, a router file named on its own) goes to note.
func Files(ctx context.Context, inputs []Input, skip []string, note func(Problem)) ([]File, error) {
	skipAbs := map[string]bool{}
	for _, s := range skip {
		if abs, err := filepath.Abs(s); err == nil {
			skipAbs[abs] = true
		}
	}
	type key struct{ expert, abs string }
	seen := map[key]bool{}
	var out []File
	add := func(expert, path string) {
		abs, err := filepath.Abs(path)
		if err != nil {
			abs = filepath.Clean(path)
		}
		k := key{expert, abs}
		if !seen[k] {
			seen[k] = true
			out = append(out, File{Expert: expert, Path: path})
		}
	}
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		info, err := os.Stat(in.Path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", in.Path, err)
		}
		if !info.IsDir() {
			expert, ok := fileExpert(in, in.Path, note)
			if ok {
				add(expert, in.Path)
			}
			continue
		}
		err = filepath.WalkDir(in.Path, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("walk %s: %w", path, err)
			}
			name := d.Name()
			if d.IsDir() {
				if path != in.Path && strings.HasPrefix(name, ".") {
					return fs.SkipDir
				}
				if abs, err := filepath.Abs(path); err == nil && skipAbs[abs] {
					return fs.SkipDir
				}
				return nil
			}
			if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ext) || name == RouterFile {
				return nil
			}
			if expert, ok := fileExpert(in, path, note); ok {
				add(expert, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Expert != out[j].Expert {
			return out[i].Expert < out[j].Expert
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

// fileExpert is the expert a file feeds: the input's, or the file's name.
func fileExpert(in Input, path string, note func(Problem)) (string, bool) {
	base := filepath.Base(path)
	if base == RouterFile {
		note(Problem{Path: path, Reason: "router file, not training data: skipped"})
		return "", false
	}
	if in.Expert != "" {
		return in.Expert, true
	}
	name := strings.TrimSuffix(base, ext)
	if !strings.HasSuffix(base, ext) || !ValidExpert(name) {
		note(Problem{Path: path, Reason: fmt.Sprintf("%q is no expert's name (lower-case letters, digits, _.-): skipped; name it with EXPERT:%s", name, path)})
		return "", false
	}
	return name, true
}
