//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package spool

import "os"

// lock does nothing where flock(2) is missing: one process per spool
// directory is then up to the operator.
func lock(*os.File) error { return nil }
