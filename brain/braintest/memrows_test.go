package braintest_test

import (
	"testing"

	"github.com/evo-tr/evo/brain/braintest"
)

func TestMemRowsContract(t *testing.T) {
	braintest.TestMemoryRows(t, func(*testing.T) braintest.MemoryRows { return braintest.NewMemRows() })
}
