// Package sleeptest holds what tests of the night's storage share: the
// contract suite of sleep.Progress (TestProgress) with MemProgress, an
// in-memory implementation that passes it, and TestResume, a crashed or
// failed night resuming over a given Progress and NightLog, which every
// implementation runs against itself.
package sleeptest
