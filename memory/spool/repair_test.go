package spool

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evo-tr/evo/brain/braintest"
)

func TestSpoolTornLastLine(t *testing.T) {
	good := records(ayse, "bir", "iki")
	line, err := encode(braintest.SpoolRecord(mert, "gizli mesaj", 9))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		tail []byte
		want []string // after Open
	}{
		{"half a record", line[:len(line)/2], []string{"bir", "iki"}},
		{"a record without its newline", line[:len(line)-1], []string{"bir", "iki", "gizli mesaj"}},
		{"zeros (a power cut)", make([]byte, 300), []string{"bir", "iki"}},
		{"garbage", []byte("\xff\xfe{\"Key\": gizli mesaj"), []string{"bir", "iki"}},
		{"blank", []byte("  "), []string{"bir", "iki"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s, _ := open(t, dir)
			braintest.SpoolPut(t, s, good...)
			closeSpool(t, s)
			path := filepath.Join(dir, FileName)
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(c.tail); err != nil {
				t.Fatal(err)
			}
			f.Close()

			s, lb := open(t, dir)
			if n := s.Len(); n != len(c.want) {
				t.Errorf("Len after Open: got %d, want %d", n, len(c.want))
			}
			if log := lb.String(); !strings.Contains(log, "level=WARN") || strings.Contains(log, "gizli") {
				t.Errorf("log: got %q, want a warning that does not hold the message text", log)
			}
			braintest.SpoolPut(t, s, braintest.SpoolRecord(ayse, "sonra", 5))
			closeSpool(t, s)

			s, lb = open(t, dir)
			wantTexts(t, "after a Put and a second reopen", braintest.SpoolDrain(t, s), append(c.want, "sonra")...)
			if log := lb.String(); strings.Contains(log, "level=WARN") {
				t.Errorf("second Open logged a warning, the file was not repaired: %s", log)
			}
		})
	}
}

func TestSpoolCorruptMiddleLineFailsOpen(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir)
	braintest.SpoolPut(t, s, records(ayse, "bir")...)
	closeSpool(t, s)
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := encode(braintest.SpoolRecord(ayse, "iki", 2))
	f.Write(append([]byte("{bozuk\n"), line...))
	f.Close()
	before, _ := os.ReadFile(path)

	if s, err := Open(dir, nil); err == nil {
		s.Close()
		t.Fatal("Open of a file with a corrupt line in the middle: got no error, want one")
	} else if !strings.Contains(err.Error(), "line 2") {
		t.Errorf("Open error: got %q, want it to name line 2", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a failed Open changed the file")
	}
}

func TestSpoolRemovesLeftoverTemp(t *testing.T) {
	// A crash in the middle of a rewrite leaves the temporary file; the old
	// file is still whole.
	dir := t.TempDir()
	s, _ := open(t, dir)
	braintest.SpoolPut(t, s, records(ayse, "bir")...)
	closeSpool(t, s)
	tmp := filepath.Join(dir, FileName+".tmp")
	if err := os.WriteFile(tmp, []byte("{yarım"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ = open(t, dir)
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary file after Open: got %v, want it removed", err)
	}
	wantTexts(t, "records", braintest.SpoolDrain(t, s), "bir")
}
