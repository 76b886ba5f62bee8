package postgres_test

import (
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestStoreAccessContract(t *testing.T) {
	braintest.TestAccessStore(t, func(t *testing.T) brain.AccessStore {
		s, _ := newStore(t)
		return s
	})
}
