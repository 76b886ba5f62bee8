package braintest_test

import (
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestMemAudit(t *testing.T) {
	braintest.TestAuditLog(t, func(*testing.T) braintest.AuditLog { return braintest.NewMemAudit() })
}

func TestMemHistoryUserExporter(t *testing.T) {
	braintest.TestUserExporter(t, func(*testing.T) (brain.History, brain.UserExporter) {
		h := braintest.NewMemHistory()
		return h, h
	})
}

func TestMemStats(t *testing.T) {
	braintest.TestStats(t, func(*testing.T) (brain.History, brain.NightLog, brain.Stats) {
		h, nl := braintest.NewMemHistory(), braintest.NewMemNightLog()
		return h, nl, braintest.MemStats{History: h, Nights: nl}
	})
}
