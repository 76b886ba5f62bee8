package spool

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

var (
	ayse = brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "100", UserID: "100"}
	mert = brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "200", UserID: "200"}
)

// logBuf collects what a spool logs, for tests that look at it.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func open(t *testing.T, dir string) (*Spool, *logBuf) {
	t.Helper()
	lb := &logBuf{}
	s, err := Open(dir, slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s, lb
}

func closeSpool(t *testing.T, s *Spool) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func pop(t *testing.T, s *Spool, n int) {
	t.Helper()
	for range n {
		if err := s.Pop(context.Background()); err != nil {
			t.Fatalf("Pop: %v", err)
		}
	}
}

func records(k brain.ConvKey, texts ...string) []brain.Record {
	rs := make([]brain.Record, len(texts))
	for i, text := range texts {
		rs[i] = braintest.SpoolRecord(k, text, i)
	}
	return rs
}

func fileLines(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatalf("read the spool file: %v", err)
	}
	return bytes.Count(b, []byte{'\n'})
}

func wantTexts(t *testing.T, what string, got []brain.Record, want ...string) {
	t.Helper()
	g := make([]string, len(got))
	for i, r := range got {
		g[i] = r.Text
	}
	if strings.Join(g, "|") != strings.Join(want, "|") {
		t.Errorf("%s: got %q, want %q", what, g, want)
	}
}

func TestSpoolContract(t *testing.T) {
	braintest.TestSpool(t, func(t *testing.T) brain.Spool {
		s, _ := open(t, t.TempDir())
		return s
	})
}

func TestSpoolContractWithCompaction(t *testing.T) {
	// Compaction on nearly every Pop, so that the contract runs through it.
	braintest.TestSpool(t, func(t *testing.T) brain.Spool {
		s, _ := open(t, t.TempDir())
		s.compactAfter = 1
		return s
	})
}

func TestSpoolReopenKeepsOrder(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir)
	want := braintest.SpoolRoundTripRecords()
	braintest.SpoolPut(t, s, want...)
	closeSpool(t, s)

	s, _ = open(t, dir)
	for _, k := range []brain.ConvKey{want[0].Key, want[2].Key} {
		if !s.Has(k) {
			t.Errorf("Has(%s) after reopening: got false, want true", k)
		}
	}
	got := braintest.SpoolDrain(t, s)
	if len(got) != len(want) {
		t.Fatalf("after reopening: got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) {
			t.Errorf("record %d: Time got %s, want %s", i, got[i].Time, want[i].Time)
		}
		got[i].Time = want[i].Time
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d after reopening:\n got  %+v %+v\n want %+v %+v", i, got[i], got[i].Decision,
				want[i], want[i].Decision)
		}
	}
}

func TestSpoolReopenAfterPopAllIsEmpty(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir)
	braintest.SpoolPut(t, s, records(ayse, "bir", "iki", "üç")...)
	pop(t, s, 3)
	if fi, err := os.Stat(filepath.Join(dir, FileName)); err != nil || fi.Size() != 0 {
		t.Errorf("file after popping everything: got %v, %v; want size 0", fi, err)
	}
	closeSpool(t, s)
	s, _ = open(t, dir)
	if n := s.Len(); n != 0 || s.Has(ayse) {
		t.Errorf("after reopening: Len %d, Has %v; want 0, false", n, s.Has(ayse))
	}
}

func TestSpoolReopenAfterSomePops(t *testing.T) {
	// A Pop is not durable until the file is tidied: the records popped
	// since may come back (the database deduplicates them on Ref), but the
	// waiting ones come back in order after them.
	dir := t.TempDir()
	s, _ := open(t, dir)
	braintest.SpoolPut(t, s, records(ayse, "bir", "iki", "üç")...)
	pop(t, s, 1)
	closeSpool(t, s)
	s, _ = open(t, dir)
	got := braintest.SpoolDrain(t, s)
	if len(got) < 2 {
		t.Fatalf("after reopening: got %d records, want at least the 2 waiting", len(got))
	}
	wantTexts(t, "the last records after reopening", got[len(got)-2:], "iki", "üç")
}

func TestSpoolCompaction(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir)
	s.compactAfter = 4
	texts := []string{"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"}
	braintest.SpoolPut(t, s, records(ayse, texts...)...)
	for i := 1; i <= 6; i++ {
		pop(t, s, 1)
		want := 10 // popped records stay until more than 4 and half the file
		if i == 6 {
			want = 4
		}
		if n := fileLines(t, dir); n != want {
			t.Errorf("file lines after %d pops: got %d, want %d", i, n, want)
		}
	}
	braintest.SpoolPut(t, s, braintest.SpoolRecord(mert, "r10", 10))
	if n := s.Len(); n != 5 {
		t.Errorf("Len after compaction and a Put: got %d, want 5", n)
	}
	closeSpool(t, s)
	s, _ = open(t, dir)
	wantTexts(t, "after compaction and reopening", braintest.SpoolDrain(t, s), "r6", "r7", "r8", "r9", "r10")
	if _, err := os.Stat(filepath.Join(dir, FileName+".tmp")); !os.IsNotExist(err) {
		t.Errorf("temporary file after compaction: got %v, want none", err)
	}
}

func TestSpoolRemoveUserRewritesFile(t *testing.T) {
	// /forget must take the user's text off the disk, popped lines too.
	dir := t.TempDir()
	s, _ := open(t, dir)
	braintest.SpoolPut(t, s, braintest.SpoolRecord(ayse, "gizli bir", 1), braintest.SpoolRecord(mert, "mert", 2),
		braintest.SpoolRecord(ayse, "gizli iki", 3))
	pop(t, s, 1)
	n, err := s.RemoveUser(context.Background(), ayse.Platform, ayse.UserID)
	if err != nil || n != 1 {
		t.Fatalf("RemoveUser: got %d, %v; want 1, nil", n, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, FileName))
	if bytes.Contains(b, []byte("gizli")) || !bytes.Contains(b, []byte("mert")) {
		t.Errorf("file after RemoveUser: got %q, want only mert's record", b)
	}
	braintest.SpoolPut(t, s, braintest.SpoolRecord(mert, "sonra", 4))
	closeSpool(t, s)
	s, _ = open(t, dir)
	wantTexts(t, "after RemoveUser and reopening", braintest.SpoolDrain(t, s), "mert", "sonra")

	// Only a popped line of the user is left in the file: none waits, but
	// the line goes.
	braintest.SpoolPut(t, s, braintest.SpoolRecord(ayse, "gizli dört", 5), braintest.SpoolRecord(mert, "m2", 6))
	pop(t, s, 1)
	if n, err := s.RemoveUser(context.Background(), ayse.Platform, ayse.UserID); err != nil || n != 0 {
		t.Fatalf("RemoveUser of a popped record: got %d, %v; want 0, nil", n, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, FileName)); bytes.Contains(b, []byte("gizli")) {
		t.Errorf("file after RemoveUser of a popped record: got %q, want no line of the user", b)
	}
	pop(t, s, 1)

	// A user whose records are the only ones left: the file is emptied.
	braintest.SpoolPut(t, s, braintest.SpoolRecord(ayse, "gizli üç", 5))
	if n, err := s.RemoveUser(context.Background(), ayse.Platform, ayse.UserID); err != nil || n != 1 {
		t.Fatalf("second RemoveUser: got %d, %v; want 1, nil", n, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, FileName)); len(b) != 0 {
		t.Errorf("file after removing its only user: got %q, want empty", b)
	}
}

func TestSpoolFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "spool")
	s, _ := open(t, dir)
	s.compactAfter = 1
	check := func(when string) {
		t.Helper()
		for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, FileName): 0o600} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("%s: mode of %s: got %v, want %v", when, path, got, want)
			}
		}
	}
	check("after Open")
	braintest.SpoolPut(t, s, records(ayse, "a", "b", "c", "d")...)
	pop(t, s, 3) // compacts
	if n := fileLines(t, dir); n != 1 {
		t.Fatalf("file lines after compaction: got %d, want 1", n)
	}
	check("after a rewrite")
	closeSpool(t, s)

	// A file someone made readable by others is closed up again.
	if err := os.Chmod(filepath.Join(dir, FileName), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ = open(t, dir)
	check("after reopening a 0644 file")
}

func TestSpoolOpenFails(t *testing.T) {
	file := filepath.Join(t.TempDir(), "spool")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{file, filepath.Join(file, "below")} {
		s, err := Open(dir, nil)
		if err == nil {
			s.Close()
			t.Errorf("Open(%s) where a file is: got no error, want one", dir)
			continue
		}
		if !strings.Contains(err.Error(), "spool: create directory") || !strings.Contains(err.Error(), file) {
			t.Errorf("Open(%s): got %q, want an error that says the directory cannot be made and names it", dir, err)
		}
	}
}

func TestSpoolOpenedTwice(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir)
	if s2, err := Open(dir, nil); err == nil {
		s2.Close()
		t.Fatal("second Open of an open spool: got no error, want one")
	} else if !strings.Contains(err.Error(), "holds the spool") {
		t.Errorf("second Open: got %q, want it to say the spool is held", err)
	}
	closeSpool(t, s)
	open(t, dir)
}

func TestSpoolClosed(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, t.TempDir())
	braintest.SpoolPut(t, s, records(ayse, "bir")...)
	closeSpool(t, s)
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Put(ctx, braintest.SpoolRecord(ayse, "iki", 2)); err == nil {
		t.Error("Put after Close: got no error, want one")
	}
	if _, _, err := s.Head(ctx); err == nil {
		t.Error("Head after Close: got no error, want one")
	}
	if err := s.Pop(ctx); err == nil {
		t.Error("Pop after Close: got no error, want one")
	}
	if _, err := s.RemoveUser(ctx, ayse.Platform, ayse.UserID); err == nil {
		t.Error("RemoveUser after Close: got no error, want one")
	}
}

// BenchmarkPut measures a Put: one small record appended and fsynced.
func BenchmarkPut(b *testing.B) {
	s, err := Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	r := braintest.SpoolRecord(ayse, "merhaba, bugün hava nasıl olacak?", 1)
	for b.Loop() {
		if err := s.Put(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
