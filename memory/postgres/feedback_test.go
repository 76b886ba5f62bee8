package postgres_test

import (
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestStoreFeedbackContract(t *testing.T) {
	braintest.TestFeedbackStore(t, func(t *testing.T) brain.FeedbackStore {
		s, _ := newStore(t)
		return s
	})
}
