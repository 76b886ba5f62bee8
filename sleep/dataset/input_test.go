package dataset

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseInput(t *testing.T) {
	tests := []struct {
		arg     string
		want    Input
		wantErr bool
	}{
		{arg: "nights/", want: Input{Path: "nights/"}},
		{arg: "public/tr_chat.jsonl", want: Input{Path: "public/tr_chat.jsonl"}},
		{arg: "python_coder:public/mbpp.jsonl", want: Input{Expert: "python_coder", Path: "public/mbpp.jsonl"}},
		{arg: "tr_chat:public/aya/", want: Input{Expert: "tr_chat", Path: "public/aya/"}},
		{arg: "tr_chat:a:b.jsonl", want: Input{Expert: "tr_chat", Path: "a:b.jsonl"}},
		{arg: "./a:b.jsonl", want: Input{Path: "./a:b.jsonl"}},
		{arg: "Tr Chat:x.jsonl", want: Input{Path: "Tr Chat:x.jsonl"}},
		{arg: "/abs/path.jsonl", want: Input{Path: "/abs/path.jsonl"}},
		{arg: "tr_chat:", wantErr: true},
		{arg: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			got, err := ParseInput(tt.arg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// touch writes the files (paths relative to dir) with the given content.
func touch(t *testing.T, dir string, content string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	touch(t, ".", "",
		"nights/2026-11-23/python_coder.jsonl", "nights/2026-11-23/tr_chat.jsonl", "nights/2026-11-23/router.jsonl",
		"nights/2026-11-23/.tmp-123", "nights/2026-11-24/tr_chat.jsonl", "nights/2026-11-24/notes.txt",
		"nights/.trash/tr_chat.jsonl", "nights/sets/tr_chat/train.jsonl",
		"public/Aya Part.jsonl", "public/mbpp.jsonl", "public/aya/part-1.jsonl", "public/aya/part-2.jsonl",
		"public/router.jsonl")

	tests := []struct {
		name  string
		args  []string
		skip  []string
		want  []File
		notes []string
	}{
		{name: "the nights' folder",
			args: []string{"nights"}, skip: []string{"nights/sets"},
			want: []File{
				{"python_coder", "nights/2026-11-23/python_coder.jsonl"},
				{"tr_chat", "nights/2026-11-23/tr_chat.jsonl"},
				{"tr_chat", "nights/2026-11-24/tr_chat.jsonl"},
			}},
		{name: "the output folder is walked unless skipped",
			args: []string{"nights/2026-11-24", "nights/sets"},
			want: []File{{"tr_chat", "nights/2026-11-24/tr_chat.jsonl"}, {"train", "nights/sets/tr_chat/train.jsonl"}}},
		{name: "EXPERT:FILE and EXPERT:DIR",
			args: []string{"python_coder:public/mbpp.jsonl", "tr_chat:public/aya"},
			want: []File{
				{"python_coder", "public/mbpp.jsonl"},
				{"tr_chat", "public/aya/part-1.jsonl"},
				{"tr_chat", "public/aya/part-2.jsonl"},
			}},
		{name: "names that are no expert's are noted",
			args: []string{"public/Aya Part.jsonl", "public"},
			want: []File{{"mbpp", "public/mbpp.jsonl"}, {"part-1", "public/aya/part-1.jsonl"}, {"part-2", "public/aya/part-2.jsonl"}},
			notes: []string{
				`public/Aya Part.jsonl: "Aya Part" is no expert's name (lower-case letters, digits, _.-): skipped; name it with EXPERT:public/Aya Part.jsonl`,
				`public/Aya Part.jsonl: "Aya Part" is no expert's name (lower-case letters, digits, _.-): skipped; name it with EXPERT:public/Aya Part.jsonl`,
			}},
		{name: "a router file named on its own",
			args:  []string{"public/router.jsonl", "tr_chat:nights/2026-11-23/router.jsonl"},
			notes: []string{"public/router.jsonl: router file, not training data: skipped", "nights/2026-11-23/router.jsonl: router file, not training data: skipped"}},
		{name: "the same file twice is read once per expert",
			args: []string{"nights/2026-11-24/tr_chat.jsonl", "nights/2026-11-24", "./nights/2026-11-24/tr_chat.jsonl", "other:nights/2026-11-24/tr_chat.jsonl"},
			want: []File{{"other", "nights/2026-11-24/tr_chat.jsonl"}, {"tr_chat", "nights/2026-11-24/tr_chat.jsonl"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inputs []Input
			for _, a := range tt.args {
				in, err := ParseInput(a)
				if err != nil {
					t.Fatal(err)
				}
				inputs = append(inputs, in)
			}
			var notes []string
			got, err := Files(context.Background(), inputs, tt.skip, func(p Problem) { notes = append(notes, p.String()) })
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("files\n got %v\nwant %v", got, tt.want)
			}
			if !reflect.DeepEqual(notes, tt.notes) {
				t.Errorf("notes\n got %q\nwant %q", notes, tt.notes)
			}
		})
	}

	t.Run("a missing path", func(t *testing.T) {
		_, err := Files(context.Background(), []Input{{Path: "nights"}, {Path: "nope"}}, nil, func(Problem) {})
		if err == nil || !strings.Contains(err.Error(), "nope") {
			t.Errorf("err = %v, want one naming the missing path", err)
		}
	})
}
