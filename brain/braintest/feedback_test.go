package braintest_test

import (
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestMemFeedbackContract(t *testing.T) {
	braintest.TestFeedbackStore(t, func(*testing.T) brain.FeedbackStore { return braintest.NewMemFeedback() })
}
