package braintest_test

import (
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestMemAccess(t *testing.T) {
	braintest.TestAccessStore(t, func(*testing.T) brain.AccessStore { return braintest.NewMemAccess() })
}
