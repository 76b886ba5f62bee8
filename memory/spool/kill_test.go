package spool

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/evo-tr/evo/brain/braintest"
)

// TestSpoolSurvivesKill kills -9 a process that Puts as fast as it can,
// then opens its spool: every Put that returned is there, in order, and no
// record is there twice or out of order (the child goes on putting until
// the kill lands, so there may be more).
func TestSpoolSurvivesKill(t *testing.T) {
	if dir := os.Getenv("SPOOL_KILL_DIR"); dir != "" {
		killChild(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSpoolSurvivesKill$")
	cmd.Env = append(os.Environ(), "SPOOL_KILL_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := -1
	sc := bufio.NewScanner(out)
	for sc.Scan() && acked < 200 {
		if n, err := strconv.Atoi(sc.Text()); err == nil {
			acked = n
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if acked < 0 {
		t.Fatal("the child acknowledged no Put")
	}

	s, _ := open(t, dir)
	got := braintest.SpoolDrain(t, s)
	if len(got) <= acked {
		t.Errorf("after kill -9: got %d records, want at least the %d acknowledged", len(got), acked+1)
	}
	for i, r := range got {
		if want := fmt.Sprintf("k%d", i); r.Text != want {
			t.Fatalf("record %d after kill -9: got %q, want %q", i, r.Text, want)
		}
	}
}

// killChild Puts until it is killed, printing the index of each Put that
// returned.
func killChild(dir string) {
	s, err := Open(dir, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		if err := s.Put(context.Background(), braintest.SpoolRecord(ayse, fmt.Sprintf("k%d", i), i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Fprintln(w, i)
		w.Flush()
	}
}
