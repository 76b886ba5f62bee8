package sleep_test

import (
	"testing"

	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/sleep"
	"github.com/evo-tr/evo/sleep/sleeptest"
)

func TestMemProgressContract(t *testing.T) {
	sleeptest.TestProgress(t, func(*testing.T) sleep.Progress { return sleeptest.NewMemProgress() })
}

func TestResumeInMemory(t *testing.T) {
	sleeptest.TestResume(t, func(*testing.T) sleeptest.ResumeParts {
		return sleeptest.ResumeParts{History: braintest.NewMemHistory(), Night: braintest.NewMemNightLog(),
			Progress: sleeptest.NewMemProgress()}
	})
}
