package dataset

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// conv is a training line of one exchange; extra is spliced in as
// further top-level keys.
func conv(user, assistant, extra string) string {
	if extra != "" {
		extra += ","
	}
	return fmt.Sprintf(`{%s"messages":[{"role":"user","content":%q},{"role":"assistant","content":%q}]}`, extra, user, assistant)
}

// out is the output line of an exchange.
func out(user, assistant string) string { return conv(user, assistant, "") }

// lines joins lines into a file's content.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

// build runs Build over args in dir and returns the sets and notes.
func build(t *testing.T, dir string, opt Options, args ...string) ([]*Set, []string) {
	t.Helper()
	t.Chdir(dir)
	var inputs []Input
	for _, a := range args {
		in, err := ParseInput(a)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, in)
	}
	var notes []string
	opt.Note = func(p Problem) { notes = append(notes, p.String()) }
	sets, err := Build(context.Background(), inputs, opt)
	if err != nil {
		t.Fatal(err)
	}
	return sets, notes
}

// all is every output line of a set, sorted.
func all(s *Set) []string {
	var ls []string
	for _, part := range [][][]byte{s.Train, s.Valid, s.Test} {
		for _, l := range part {
			ls = append(ls, string(l))
		}
	}
	sort.Strings(ls)
	return ls
}

func TestBuildNamesBadLines(t *testing.T) {
	dir := t.TempDir()
	file := "nights/2026-11-23/tr_chat.jsonl"
	touch(t, dir, lines(
		conv("a", "b", ""),
		`not json`,
		``,
		`{"messages":[{"role":"user","content":"a"}]}`,
		`{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]}`,
		`{"messages":[{"role":"user","content":"a"},{"role":"robot","content":"b"}]}`,
		`{"messages":[{"role":"user","content":""},{"role":"assistant","content":"b"}]}`,
		`[]`,
		`{"text":"a"}`,
		conv("c", "d", `"user":"telegram:42"`),
	), file)
	sets, notes := build(t, dir, Options{Valid: 0.1, Test: 0.1}, "nights")
	want := []string{
		file + ":2: not JSON",
		file + ":3: empty line",
		file + ":4: no assistant turn",
		file + `:5: does not end with the assistant (last role "user")`,
		file + `:6: message 2: unknown role "robot"`,
		file + ":7: message 1: empty content",
		file + ":8: not a JSON object",
		file + `:9: no "messages"`,
	}
	if !reflect.DeepEqual(notes, want) {
		t.Errorf("notes\n got %q\nwant %q", notes, want)
	}
	if len(sets) != 1 || sets[0].Bad != len(want) || sets[0].Usable() != 2 {
		t.Fatalf("sets = %+v, want tr_chat with %d bad and 2 usable lines", sets, len(want))
	}
}

func TestBuild(t *testing.T) {
	type counts struct{ usable, duplicates, bad, feedback int }
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		want  map[string][]string // expert → its output lines, sorted
		count map[string]counts
	}{
		{name: "copies across files and days appear once",
			files: map[string]string{
				"nights/2026-11-23/tr_chat.jsonl": lines(conv("Merhaba", "Selam!", ""), conv("Nasılsın?", "İyiyim.", "")),
				"nights/2026-11-24/tr_chat.jsonl": lines(conv("Merhaba", "Selam!  \n", `"user":"discord:7"`), conv("Merhaba", "Selam!", "")),
				"public/tr_chat.jsonl":            lines(conv("Merhaba", "Selam!", ""), conv("Merhaba ", "Selam!", "")),
			},
			args:  []string{"nights", "public/tr_chat.jsonl"},
			want:  map[string][]string{"tr_chat": {out("Merhaba", "Selam!"), out("Nasılsın?", "İyiyim.")}},
			count: map[string]counts{"tr_chat": {usable: 2, duplicates: 4}}},
		{name: "experts keep their own copies",
			files: map[string]string{
				"nights/2026-11-23/tr_chat.jsonl":      lines(conv("a", "b", "")),
				"nights/2026-11-23/python_coder.jsonl": lines(conv("a", "b", "")),
			},
			args:  []string{"nights"},
			want:  map[string][]string{"python_coder": {out("a", "b")}, "tr_chat": {out("a", "b")}},
			count: map[string]counts{"python_coder": {usable: 1}, "tr_chat": {usable: 1}}},
		{name: "EXPERT:PATH for a file and a folder",
			files: map[string]string{
				"public/mbpp.jsonl":    lines(conv("topla", "def f(a, b): return a + b", "")),
				"public/aya/p1.jsonl":  lines(conv("x", "y", "")),
				"public/aya/p2.jsonl":  lines(conv("z", "w", ""), conv("x", "y", "")),
				"public/aya/README.md": "not read",
			},
			args: []string{"python_coder:public/mbpp.jsonl", "tr_chat:public/aya/"},
			want: map[string][]string{
				"python_coder": {out("topla", "def f(a, b): return a + b")},
				"tr_chat":      {out("x", "y"), out("z", "w")},
			},
			count: map[string]counts{"python_coder": {usable: 1}, "tr_chat": {usable: 2, duplicates: 1}}},
		{name: "bad feedback keeps a line and its copies out",
			files: map[string]string{
				"nights/2026-11-23/tr_chat.jsonl": lines(conv("a", "yanlış", `"feedback":"bad"`), conv("c", "d", `"feedback":"good"`)),
				"nights/2026-11-24/tr_chat.jsonl": lines(conv("a", "yanlış", ""), `{"feedback":"bad","messages":"?"}`, conv("e", "f", "")),
			},
			args:  []string{"nights"},
			want:  map[string][]string{"tr_chat": {out("c", "d"), out("e", "f")}},
			count: map[string]counts{"tr_chat": {usable: 2, feedback: 3}}},
		{name: "unknown keys are dropped",
			files: map[string]string{
				"nights/2026-11-23/tr_chat.jsonl": lines(
					`{"user":"telegram:42","messages":[{"role":"system","content":"Sen EVO'sun."},{"role":"user","content":"a","user_id":"42"},{"role":"assistant","content":"b"}],"day":"2026-11-23"}`),
			},
			args:  []string{"nights"},
			want:  map[string][]string{"tr_chat": {`{"messages":[{"role":"system","content":"Sen EVO'sun."},{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}`}},
			count: map[string]counts{"tr_chat": {usable: 1}}},
		{name: "an expert with nothing usable is listed",
			files: map[string]string{
				"nights/2026-11-23/router.jsonl":  lines(`{"text":"a","label":"tr_chat","confidence":0.9}`),
				"nights/2026-11-23/tr_chat.jsonl": lines(`{"messages":[]}`),
			},
			args:  []string{"nights"},
			want:  map[string][]string{"tr_chat": nil},
			count: map[string]counts{"tr_chat": {bad: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for path, content := range tt.files {
				touch(t, dir, content, path)
			}
			sets, _ := build(t, dir, Options{Valid: 0.1, Test: 0.1}, tt.args...)
			got := map[string][]string{}
			gotCounts := map[string]counts{}
			for _, s := range sets {
				got[s.Expert] = all(s)
				gotCounts[s.Expert] = counts{s.Usable(), s.Duplicates, s.Bad, s.Feedback}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("lines\n got %q\nwant %q", got, tt.want)
			}
			if !reflect.DeepEqual(gotCounts, tt.count) {
				t.Errorf("counts\n got %+v\nwant %+v", gotCounts, tt.count)
			}
			for _, ls := range got {
				for _, l := range ls {
					if strings.Contains(l, "telegram:42") || strings.Contains(l, "user_id") || strings.Contains(l, "feedback") {
						t.Errorf("output line carries a dropped key: %s", l)
					}
				}
			}
		})
	}
}

// written reads every file under dir, by path relative to it.
func written(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// The same conversations give byte-identical files whatever the order of
// the paths, of the lines, and of the files they are spread over.
func TestBuildIsDeterministic(t *testing.T) {
	var convs []string
	for i := range 60 {
		convs = append(convs, conv(fmt.Sprintf("soru %d", i), fmt.Sprintf("cevap %d", i), ""))
	}
	experts := []string{"tr_chat", "python_coder"}
	var first map[string]string
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 8 {
		dir := t.TempDir()
		// Spread the conversations (and some copies) over days and a public
		// file, in a new order each round.
		var args []string
		for _, e := range experts {
			files := map[string][]string{}
			for _, i := range rng.Perm(len(convs) + 20) {
				c := convs[i%len(convs)]
				var f string
				switch d := rng.IntN(4); d {
				case 3:
					f = "public/" + e + ".jsonl"
				default:
					f = fmt.Sprintf("nights/2026-11-%02d/%s.jsonl", 20+d, e)
				}
				files[f] = append(files[f], c)
			}
			for f, ls := range files {
				touch(t, dir, lines(ls...), f)
			}
			args = append(args, "public/"+e+".jsonl")
		}
		args = append(args, "nights")
		rng.Shuffle(len(args), func(i, j int) { args[i], args[j] = args[j], args[i] })

		sets, _ := build(t, dir, Options{Valid: 0.1, Test: 0.1}, args...)
		for _, s := range sets {
			if s.Duplicates != 20 || s.Usable() != 60 {
				t.Fatalf("round %d %s: %d usable, %d duplicates, want 60 and 20", round, s.Expert, s.Usable(), s.Duplicates)
			}
			if err := s.Write(filepath.Join(dir, "sets")); err != nil {
				t.Fatal(err)
			}
		}
		got := written(t, filepath.Join(dir, "sets"))
		if first == nil {
			first = got
			if len(got) != 6 {
				t.Fatalf("wrote %v, want train, valid and test for two experts", sortedNames(got))
			}
			continue
		}
		if !reflect.DeepEqual(got, first) {
			t.Fatalf("round %d wrote different files", round)
		}
	}
}

func sortedNames(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sets")
	s := &Set{Expert: "tr_chat", Train: [][]byte{[]byte(out("a", "b")), []byte(out("c", "d"))}, Valid: [][]byte{[]byte(out("e", "f"))}}
	// A folder left with a wider mode is narrowed; a file left is replaced.
	if err := os.MkdirAll(filepath.Join(dir, "tr_chat"), 0o755); err != nil {
		t.Fatal(err)
	}
	touch(t, dir, "old\n", "tr_chat/test.jsonl")
	fresh := filepath.Join(t.TempDir(), "new", "sets")
	if err := s.Write(fresh); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(dir); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"tr_chat/train.jsonl": lines(out("a", "b"), out("c", "d")),
		"tr_chat/valid.jsonl": lines(out("e", "f")),
		"tr_chat/test.jsonl":  "",
	}
	if got := written(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("files\n got %q\nwant %q", got, want)
	}
	for _, p := range []string{fresh, filepath.Join(fresh, "tr_chat"), filepath.Join(dir, "tr_chat")} {
		if info, err := os.Stat(p); err != nil || info.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v (%v), want 0700", p, info.Mode().Perm(), err)
		}
	}
	for name := range want {
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", name, info.Mode().Perm(), err)
		}
	}
	if err := (&Set{Expert: "../x"}).Write(dir); err == nil {
		t.Error("an expert's name that is no folder name was written")
	}
}

func TestBuildRejectsFractions(t *testing.T) {
	for _, f := range [][2]float64{{-0.1, 0.1}, {1, 0}, {0.5, 0.5}, {0.1, 1.5}} {
		t.Run(fmt.Sprint(f), func(t *testing.T) {
			_, err := Build(context.Background(), nil, Options{Valid: f[0], Test: f[1]})
			if !errors.Is(err, ErrFraction) {
				t.Errorf("err = %v, want ErrFraction", err)
			}
		})
	}
}
