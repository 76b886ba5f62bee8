package postgres_test

import (
	"testing"

	"github.com/evo-tr/evo/memory/postgres"
	"github.com/evo-tr/evo/sleep"
	"github.com/evo-tr/evo/sleep/sleeptest"
)

// The Store is the night's progress; memory/postgres itself does not
// import sleep.
var _ sleep.Progress = (*postgres.Store)(nil)

func TestStoreProgressContract(t *testing.T) {
	sleeptest.TestProgress(t, func(t *testing.T) sleep.Progress {
		s, _ := newStore(t)
		return s
	})
}

func TestStoreResumesACrashedNight(t *testing.T) {
	sleeptest.TestResume(t, func(t *testing.T) sleeptest.ResumeParts {
		s, _ := newStore(t)
		return sleeptest.ResumeParts{History: s, Night: s, Progress: s}
	})
}
