//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package spool

import (
	"errors"
	"os"
	"syscall"
)

// lock takes an exclusive lock on the spool directory, held while d stays
// open, so that two processes never write the same spool.
func lock(d *os.File) error {
	err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errors.New("another process (or another Open) holds the spool")
	}
	return err
}
