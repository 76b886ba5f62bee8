// Package braintest holds what tests of brain.History implementations and
// of the brain share: the History contract (TestHistory), which every
// implementation runs against itself, and MemHistory, an in-memory History
// that passes the same contract and serves as the brain's test fake.
package braintest
