package braintest_test

import (
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestMemTombstones(t *testing.T) {
	braintest.TestTombstones(t, func(*testing.T) brain.Tombstones { return braintest.NewMemTombstones() })
}
