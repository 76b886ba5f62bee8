package spool

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/evo-tr/evo/brain"
)

// encode renders r as one line of the file. JSON escapes every newline in
// a string, so a line never holds a raw one; times keep their nanoseconds
// and offset.
func encode(r brain.Record) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	return append(b, '\n'), nil
}

func decode(line []byte) (brain.Record, error) {
	var r brain.Record
	if err := json.Unmarshal(line, &r); err != nil {
		return brain.Record{}, err
	}
	if err := r.Validate(); err != nil {
		return brain.Record{}, err
	}
	return r, nil
}

// load opens the file, reads its records and repairs a torn last line.
func (s *Spool) load() error {
	tmp := s.path + ".tmp"
	if err := os.Remove(tmp); err == nil {
		s.log.Info("spool: removed the temporary file of an unfinished rewrite", "file", tmp)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: remove %s: %w", tmp, err)
	}
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("spool: open: %w", err)
	}
	if err := s.read(f); err != nil {
		f.Close()
		return err
	}
	s.f = f
	return nil
}

func (s *Spool) read(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("spool: open: %w", err)
	}
	if fi.Mode().Perm() != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("spool: open: %w", err)
		}
		s.log.Info("spool: file mode set to 0600", "file", s.path, "was", fi.Mode().Perm().String())
	}
	br := bufio.NewReaderSize(f, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("spool: read %s: %w", s.path, err)
		}
		if errors.Is(err, io.EOF) {
			if len(line) > 0 {
				return s.repairTail(f, line, n)
			}
			return nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			s.size += int64(len(line))
			continue
		}
		r, derr := decode(line)
		if derr != nil {
			// Not a torn write (those are last): the file was damaged or
			// written by someone else. Keep it for a person to look at.
			return fmt.Errorf("spool: %s line %d is corrupt (%v); move the file aside to start without it", s.path, n, derr)
		}
		s.recs = append(s.recs, r)
		s.keys[r.Key]++
		s.size += int64(len(line))
	}
}

// repairTail handles a last line with no newline. A whole record whose
// newline did not make it to disk is kept and its line ended; anything
// else is a torn write, cut off so that later lines start on a line of
// their own.
func (s *Spool) repairTail(f *os.File, tail []byte, n int) error {
	if r, err := decode(tail); err == nil {
		if _, err := f.Write([]byte{'\n'}); err != nil {
			return fmt.Errorf("spool: repair %s: %w", s.path, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("spool: repair %s: %w", s.path, err)
		}
		s.recs = append(s.recs, r)
		s.keys[r.Key]++
		s.size += int64(len(tail)) + 1
		s.log.Warn("spool: the last record had no newline; kept it", "file", s.path, "line", n)
		return nil
	}
	if err := f.Truncate(s.size); err != nil {
		return fmt.Errorf("spool: repair %s: %w", s.path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("spool: repair %s: %w", s.path, err)
	}
	s.log.Warn("spool: dropped a torn last line (a write cut short by a crash)", "file", s.path,
		"line", n, "bytes", len(tail))
	return nil
}

// appendLine writes line at the end of the file and fsyncs it. On failure
// it cuts the file back to its last whole line.
func (s *Spool) appendLine(line []byte) error {
	_, err := s.f.Write(line)
	if err == nil {
		err = s.f.Sync()
	}
	if err == nil {
		s.size += int64(len(line))
		return nil
	}
	if terr := s.f.Truncate(s.size); terr != nil {
		s.err = fmt.Errorf("spool: the file may end in a partial line: %w", terr)
	}
	return fmt.Errorf("spool: write: %w", err)
}

// truncate empties the file; every record is popped.
func (s *Spool) truncate() error {
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("truncate: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("truncate: %w", err)
	}
	s.recs, s.head, s.size, s.err = nil, 0, 0, nil
	return nil
}

// rewrite replaces the file, atomically, by one that holds keep, and
// makes keep the spool's records. renamed reports whether the new file is
// in place (and the spool's state changed); err may be set even then,
// when the directory could not be synced.
func (s *Spool) rewrite(keep []brain.Record) (renamed bool, err error) {
	tmp := s.path + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("rewrite: %w", err)
	}
	t, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return false, fmt.Errorf("rewrite: %w", err)
	}
	size, err := writeAll(t, keep)
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err != nil {
		t.Close()
		os.Remove(tmp)
		return false, fmt.Errorf("rewrite: %w", err)
	}
	old := s.f
	s.f, s.size, s.err = t, size, nil
	s.recs, s.head = append([]brain.Record(nil), keep...), 0
	if err := old.Close(); err != nil {
		s.log.Warn("spool: could not close the replaced file", "err", err)
	}
	if err := s.dir.Sync(); err != nil {
		return true, fmt.Errorf("rewrite: sync directory: %w", err)
	}
	return true, nil
}

// writeAll writes the records to f, fsyncs it and reports its size.
func writeAll(f *os.File, rs []brain.Record) (int64, error) {
	bw := bufio.NewWriterSize(f, 64<<10)
	var size int64
	for _, r := range rs {
		line, err := encode(r)
		if err != nil {
			return 0, err
		}
		if _, err := bw.Write(line); err != nil {
			return 0, err
		}
		size += int64(len(line))
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	return size, f.Sync()
}
