package postgres_test

import (
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestStoreTombstonesContract(t *testing.T) {
	braintest.TestTombstones(t, func(t *testing.T) brain.Tombstones {
		s, _ := newStore(t)
		return s
	})
}

func TestStoreUserFinderContract(t *testing.T) {
	braintest.TestUserFinder(t, func(t *testing.T) braintest.UserFinderHistory {
		s, _ := newStore(t)
		return s
	})
}
