package braintest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestMemSpool(t *testing.T) {
	braintest.TestSpool(t, func(*testing.T) brain.Spool { return &braintest.MemSpool{} })
}

func TestMemSpoolFailPut(t *testing.T) {
	ctx := context.Background()
	disk := errors.New("disk full")
	s := &braintest.MemSpool{FailPut: disk}
	r := braintest.SpoolRecord(brain.ConvKey{Platform: brain.PlatformCLI, ChatID: "local", UserID: "me"}, "kayıp", 1)
	if err := s.Put(ctx, r); !errors.Is(err, disk) {
		t.Fatalf("Put with FailPut set: got %v, want an error wrapping %v", err, disk)
	}
	if n := s.Len(); n != 0 {
		t.Errorf("Len after a failed Put: got %d, want 0", n)
	}
	s.SetFailPut(nil)
	braintest.SpoolPut(t, s, r)
	if got := s.Records(); len(got) != 1 || got[0].Text != "kayıp" {
		t.Errorf("Records after Put: got %+v, want the record", got)
	}
	if n := s.Puts(); n != 1 {
		t.Errorf("Puts: got %d, want 1", n)
	}
}
