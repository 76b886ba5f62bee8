package postgres_test

import (
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestStoreAuditLogContract(t *testing.T) {
	braintest.TestAuditLog(t, func(t *testing.T) braintest.AuditLog {
		s, _ := newStore(t)
		return s
	})
}

func TestStoreUserExporterContract(t *testing.T) {
	braintest.TestUserExporter(t, func(t *testing.T) (brain.History, brain.UserExporter) {
		s, _ := newStore(t)
		return s, s
	})
}

func TestStoreStatsContract(t *testing.T) {
	braintest.TestStats(t, func(t *testing.T) (brain.History, brain.NightLog, brain.Stats) {
		s, _ := newStore(t)
		return s, s, s
	})
}
