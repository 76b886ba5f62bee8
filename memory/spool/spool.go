// Package spool keeps on local disk, durably and in arrival order, the
// records PostgreSQL cannot take right now (brain.Spool), so that an
// outage, a restart or a kill -9 loses none of them.
//
// A spool is a directory holding spool.jsonl, one JSON-encoded
// brain.Record per line, oldest first. Put appends a line and fsyncs the
// file before it returns. Pop only forgets the head in memory: a crash
// after a Pop replays that record again, which the database deduplicates
// on Record.Ref. When the spool runs empty the file is truncated, and when
// most of a non-empty file is popped records it is rewritten without them
// (a temporary file, fsync, rename, fsync of the directory), as RemoveUser
// rewrites it without a user's records. A torn last line (a crash in the
// middle of a write) is dropped, with a warning, when the spool is opened.
//
// The directory is locked while a spool is open, so that two processes
// never write the same file. Every record is also held in memory.
package spool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/evo-tr/evo/brain"
)

// FileName is the file in the spool directory that holds the records.
const FileName = "spool.jsonl"

// compactAfter is how many popped records the file may hold, while they
// are also at least half of it, before it is rewritten without them.
const compactAfter = 1024

// Spool is a brain.Spool in a directory on local disk. It is safe for
// concurrent use.
type Spool struct {
	path string // dir/FileName
	log  *slog.Logger

	mu   sync.Mutex
	dir  *os.File // the directory: held locked, and fsynced after renames
	f    *os.File // FileName, opened for appending
	size int64    // bytes of whole lines in f
	// recs are the records of the file in order; recs[:head] are popped
	// and keep only their Key (RemoveUser must know whose lines they are).
	recs []brain.Record
	head int
	// keys counts the waiting records of each conversation.
	keys         map[brain.ConvKey]int
	compactAfter int
	// headGen changes when RemoveUser removes the head; seenGen is its
	// value at the last Head, while seen (a Pop must not remove a record
	// other than the one its caller stored).
	headGen, seenGen uint64
	seen             bool
	// err, once set, fails every write: the file may hold a partial line.
	err    error
	closed bool
}

var _ brain.Spool = (*Spool)(nil)

var errClosed = errors.New("spool: closed")

// Open opens the spool in dir, creating dir (mode 0700) and its file (mode
// 0600: it holds users' messages) when they do not exist, and loads the
// records a previous run left there, in order. A nil log discards.
func Open(dir string, log *slog.Logger) (*Spool, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: create directory: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: open directory: %w", err)
	}
	if fi, err := d.Stat(); err != nil || !fi.IsDir() {
		d.Close()
		if err == nil {
			err = fmt.Errorf("%s is not a directory", dir)
		}
		return nil, fmt.Errorf("spool: open directory: %w", err)
	}
	if err := lock(d); err != nil {
		d.Close()
		return nil, fmt.Errorf("spool: lock %s: %w", dir, err)
	}
	s := &Spool{path: filepath.Join(dir, FileName), log: log.With("spool", dir), dir: d,
		keys: map[brain.ConvKey]int{}, compactAfter: compactAfter}
	if err := s.load(); err != nil {
		d.Close() // releases the lock
		return nil, err
	}
	s.log.Debug("spool opened", "records", len(s.recs), "bytes", s.size)
	return s, nil
}

// Put appends r and returns once it is on disk. It refuses a record no
// History could store (brain.Record.Validate), which would otherwise wait
// at the head forever. ctx is not consulted: the write is local and short,
// and abandoning it would lose the message.
func (s *Spool) Put(_ context.Context, r brain.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("spool: put: %w", err)
	}
	line, err := encode(r)
	if err != nil {
		return fmt.Errorf("spool: put: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if err := s.appendLine(line); err != nil {
		return err
	}
	s.recs = append(s.recs, clone(r))
	s.keys[r.Key]++
	return nil
}

// Head returns a copy of the oldest waiting record; false when none waits.
func (s *Spool) Head(_ context.Context) (brain.Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return brain.Record{}, false, errClosed
	}
	if s.head == len(s.recs) {
		return brain.Record{}, false, nil
	}
	s.seenGen, s.seen = s.headGen, true
	return clone(s.recs[s.head]), true, nil
}

// Pop removes the oldest waiting record, which the caller has stored. When
// RemoveUser has removed the record Head last returned, Pop does nothing:
// the record the caller stored is gone already, and the new head is not
// stored. Pop fails only when the spool is empty or closed, so that a
// failed Pop has removed nothing. Tidying the file (truncating it when the spool runs
// empty, compacting it) is best effort: a failure is logged, and a crash
// before the next tidy replays popped records again.
func (s *Spool) Pop(_ context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	stale := s.seen && s.seenGen != s.headGen
	s.seen = false
	if stale {
		s.log.Debug("spool: pop after RemoveUser removed the head; nothing to do")
		return nil
	}
	if s.head == len(s.recs) {
		return errors.New("spool: pop: the spool is empty")
	}
	r := &s.recs[s.head]
	if s.keys[r.Key]--; s.keys[r.Key] <= 0 {
		delete(s.keys, r.Key)
	}
	*r = brain.Record{Key: r.Key} // the text is not needed any more
	s.head++
	switch {
	case s.head == len(s.recs):
		if err := s.truncate(); err != nil {
			s.log.Warn("spool: could not empty the file; its records will be replayed after a restart", "err", err)
		}
	case s.head > s.compactAfter && 2*s.head > len(s.recs):
		if _, err := s.rewrite(s.recs[s.head:]); err != nil {
			s.log.Warn("spool: could not compact the file", "err", err)
		}
	}
	return nil
}

// Len reports how many records wait.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs) - s.head
}

// Has reports whether a record of the conversation waits.
func (s *Spool) Has(k brain.ConvKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[k] > 0
}

// RemoveUser deletes every waiting record of the user on the platform and
// reports how many it deleted. The file is rewritten without any line of
// the user, popped ones included, before RemoveUser returns; when that
// fails nothing is deleted.
func (s *Spool) RemoveUser(_ context.Context, p brain.Platform, userID string) (int, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return 0, fmt.Errorf("spool: remove user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errClosed
	}
	of := func(r brain.Record) bool { return r.Key.Platform == p && r.Key.UserID == userID }
	inFile := false
	for _, r := range s.recs {
		if of(r) {
			inFile = true
			break
		}
	}
	if !inFile {
		return 0, nil
	}
	keep := make([]brain.Record, 0, len(s.recs)-s.head)
	for _, r := range s.recs[s.head:] {
		if !of(r) {
			keep = append(keep, r)
		}
	}
	n := len(s.recs) - s.head - len(keep)
	headGone := n > 0 && of(s.recs[s.head])
	var err error
	if len(keep) == 0 {
		// Nothing of anyone else waits: an empty file is enough, no rename.
		if err := s.truncate(); err != nil {
			return 0, fmt.Errorf("spool: remove user: %w", err)
		}
	} else if renamed, rerr := s.rewrite(keep); !renamed {
		return 0, fmt.Errorf("spool: remove user: %w", rerr)
	} else if rerr != nil {
		// The records are gone from memory and from the file, but a crash
		// could bring the old file back.
		err = fmt.Errorf("spool: remove user: %w", rerr)
	}
	for k := range s.keys {
		if of(brain.Record{Key: k}) {
			delete(s.keys, k)
		}
	}
	if headGone {
		s.headGen++
	}
	return n, err
}

// Close closes the file and releases the directory. The records stay on
// disk for the next Open.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.f.Close()
	if derr := s.dir.Close(); err == nil {
		err = derr
	}
	if err != nil {
		return fmt.Errorf("spool: close: %w", err)
	}
	return nil
}

// usable reports why the spool cannot be written, if it cannot.
func (s *Spool) usable() error {
	if s.closed {
		return errClosed
	}
	return s.err
}

func clone(r brain.Record) brain.Record {
	if r.Decision != nil {
		d := *r.Decision
		r.Decision = &d
	}
	return r
}
