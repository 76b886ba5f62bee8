package postgres_test

import (
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/memory/postgres"
)

func TestMemoriesContract(t *testing.T) {
	braintest.TestMemoryRows(t, func(t *testing.T) braintest.MemoryRows {
		s, _ := newStore(t)
		return postgres.NewMemories(s, brain.SystemClock{})
	})
}
