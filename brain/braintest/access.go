package braintest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
)

// TestAccessStore is the contract of brain.AccessStore. newStore must
// return an empty store of its own for each call.
func TestAccessStore(t *testing.T, newStore func(t *testing.T) brain.AccessStore) {
	t.Helper()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	ayse := brain.ApprovedUser{Platform: brain.PlatformTelegram, UserID: "42", UserName: "Ayşe",
		ApprovedBy: "telegram:1", ApprovedAt: t0}
	approved := func(t *testing.T, s brain.AccessStore, p brain.Platform, id string, want bool) {
		t.Helper()
		got, err := s.Approved(ctx, p, id)
		if err != nil {
			t.Fatalf("Approved(%s:%s): %v", p, id, err)
		}
		if got != want {
			t.Fatalf("Approved(%s:%s) = %v, want %v", p, id, got, want)
		}
	}
	approve := func(t *testing.T, s brain.AccessStore, u brain.ApprovedUser) {
		t.Helper()
		if err := s.Approve(ctx, u); err != nil {
			t.Fatalf("Approve(%s:%s): %v", u.Platform, u.UserID, err)
		}
	}
	pairing := func(code, user string, expires time.Time) brain.Pairing {
		return brain.Pairing{Code: code, Platform: brain.PlatformTelegram, UserID: user, UserName: "Kullanıcı " + user, Expires: expires}
	}
	save := func(t *testing.T, s brain.AccessStore, p brain.Pairing, now time.Time) {
		t.Helper()
		if err := s.SavePairing(ctx, p, now); err != nil {
			t.Fatalf("SavePairing(%s): %v", p.Code, err)
		}
	}
	takeFails := func(t *testing.T, s brain.AccessStore, code string, now time.Time) {
		t.Helper()
		if p, err := s.TakePairing(ctx, code, now); !errors.Is(err, brain.ErrPairingNotFound) {
			t.Fatalf("TakePairing(%s) = %+v, %v; want ErrPairingNotFound", code, p, err)
		}
	}
	tests := []struct {
		name string
		run  func(t *testing.T, s brain.AccessStore)
	}{
		{"an approved user is approved, no one else", func(t *testing.T, s brain.AccessStore) {
			approved(t, s, brain.PlatformTelegram, "42", false)
			approve(t, s, ayse)
			approved(t, s, brain.PlatformTelegram, "42", true)
			approved(t, s, brain.PlatformDiscord, "42", false)
			approved(t, s, brain.PlatformTelegram, "43", false)
		}},
		{"list returns every approval with its fields, oldest first", func(t *testing.T, s brain.AccessStore) {
			if got, err := s.List(ctx); err != nil || len(got) != 0 {
				t.Fatalf("List of an empty store = %+v, %v", got, err)
			}
			mehmet := brain.ApprovedUser{Platform: brain.PlatformDiscord, UserID: "9001", UserName: "Mehmet",
				ApprovedBy: "cli:root", ApprovedAt: t0.Add(-time.Hour)}
			approve(t, s, ayse)
			approve(t, s, mehmet)
			got, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := []brain.ApprovedUser{mehmet, ayse}
			if len(got) != len(want) {
				t.Fatalf("List = %+v, want %+v", got, want)
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.Platform != w.Platform || g.UserID != w.UserID || g.UserName != w.UserName ||
					g.ApprovedBy != w.ApprovedBy || !g.ApprovedAt.Equal(w.ApprovedAt) {
					t.Errorf("List[%d] = %+v, want %+v", i, g, w)
				}
			}
		}},
		{"approving again updates the entry", func(t *testing.T, s brain.AccessStore) {
			approve(t, s, ayse)
			again := ayse
			again.UserName, again.ApprovedBy, again.ApprovedAt = "Ayşe Y.", "discord:7", t0.Add(time.Minute)
			approve(t, s, again)
			got, err := s.List(ctx)
			if err != nil || len(got) != 1 || got[0].UserName != "Ayşe Y." || got[0].ApprovedBy != "discord:7" {
				t.Fatalf("List = %+v, %v; want the one updated entry", got, err)
			}
		}},
		{"revoke removes the approval once", func(t *testing.T, s brain.AccessStore) {
			approve(t, s, ayse)
			if found, err := s.Revoke(ctx, brain.PlatformTelegram, "42"); err != nil || !found {
				t.Fatalf("Revoke = %v, %v; want true", found, err)
			}
			approved(t, s, brain.PlatformTelegram, "42", false)
			if found, err := s.Revoke(ctx, brain.PlatformTelegram, "42"); err != nil || found {
				t.Fatalf("second Revoke = %v, %v; want false", found, err)
			}
		}},
		{"a pairing code is taken once, with its user", func(t *testing.T, s brain.AccessStore) {
			p := pairing("123456", "42", t0.Add(time.Hour))
			save(t, s, p, t0)
			got, err := s.TakePairing(ctx, "123456", t0.Add(time.Minute))
			if err != nil {
				t.Fatalf("TakePairing: %v", err)
			}
			if got.Code != p.Code || got.Platform != p.Platform || got.UserID != p.UserID || got.UserName != p.UserName || !got.Expires.Equal(p.Expires) {
				t.Errorf("TakePairing = %+v, want %+v", got, p)
			}
			takeFails(t, s, "123456", t0.Add(time.Minute))
			takeFails(t, s, "654321", t0)
		}},
		{"an expired code fails", func(t *testing.T, s brain.AccessStore) {
			save(t, s, pairing("123456", "42", t0.Add(time.Hour)), t0)
			takeFails(t, s, "123456", t0.Add(time.Hour))
			takeFails(t, s, "123456", t0.Add(2*time.Hour))
		}},
		{"a new code replaces the user's earlier one", func(t *testing.T, s brain.AccessStore) {
			save(t, s, pairing("111111", "42", t0.Add(time.Hour)), t0)
			save(t, s, pairing("222222", "42", t0.Add(2*time.Hour)), t0.Add(time.Hour))
			takeFails(t, s, "111111", t0.Add(time.Hour))
			if got, err := s.TakePairing(ctx, "222222", t0.Add(time.Hour)); err != nil || got.UserID != "42" {
				t.Fatalf("TakePairing(new code) = %+v, %v", got, err)
			}
		}},
		{"another user's live code is taken; an expired one is free", func(t *testing.T, s brain.AccessStore) {
			save(t, s, pairing("123456", "42", t0.Add(time.Hour)), t0)
			if err := s.SavePairing(ctx, pairing("123456", "43", t0.Add(time.Hour)), t0); !errors.Is(err, brain.ErrPairingCodeTaken) {
				t.Fatalf("SavePairing of a live code of another user: %v, want ErrPairingCodeTaken", err)
			}
			save(t, s, pairing("123456", "43", t0.Add(3*time.Hour)), t0.Add(2*time.Hour))
			if got, err := s.TakePairing(ctx, "123456", t0.Add(2*time.Hour)); err != nil || got.UserID != "43" {
				t.Fatalf("TakePairing = %+v, %v; want user 43's code", got, err)
			}
		}},
		{"bad input is refused", func(t *testing.T, s brain.AccessStore) {
			if err := s.Approve(ctx, brain.ApprovedUser{Platform: brain.PlatformTelegram, ApprovedAt: t0}); err == nil {
				t.Error("Approve accepted a user without an id")
			}
			if err := s.SavePairing(ctx, pairing("123456", "", t0.Add(time.Hour)), t0); err == nil {
				t.Error("SavePairing accepted a code without a user")
			}
		}},
		{"concurrent takes: exactly one wins", func(t *testing.T, s brain.AccessStore) {
			save(t, s, pairing("123456", "42", t0.Add(time.Hour)), t0)
			var wg sync.WaitGroup
			wins := make(chan bool, 8)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := s.TakePairing(ctx, "123456", t0)
					if err != nil && !errors.Is(err, brain.ErrPairingNotFound) {
						t.Errorf("TakePairing: %v", err)
					}
					wins <- err == nil
				}()
			}
			wg.Wait()
			close(wins)
			n := 0
			for ok := range wins {
				if ok {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d of 8 concurrent takes won, want 1", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newStore(t))
		})
	}
}
