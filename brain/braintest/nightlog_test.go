package braintest_test

import (
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestMemNightLog(t *testing.T) {
	braintest.TestNightLog(t, func(*testing.T) brain.NightLog { return braintest.NewMemNightLog() })
}
