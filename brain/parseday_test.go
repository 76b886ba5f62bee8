package brain_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, on hosts without a zone database

	"github.com/evo-tr/evo/brain"
)

func loadZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// evening is 2026-12-01 22:30 UTC: 2026-12-02 in Istanbul (01:30), Tokyo
// and Kiritimati (UTC+14); 2026-12-01 in UTC, Los Angeles and Pago Pago
// (UTC-11).
var evening = time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC)

// TestParseDayAcrossZones pins now and names the night's zone: the zone
// now carries (the host's) changes nothing.
func TestParseDayAcrossZones(t *testing.T) {
	tests := []struct {
		zone string
		now  time.Time
		arg  string
		want string // the day's noon, RFC 3339 in the zone; "" for refused
	}{
		{"Europe/Istanbul", evening, "", "2026-12-02T12:00:00+03:00"},
		{"Europe/Istanbul", evening, "bugün", "2026-12-02T12:00:00+03:00"},
		{"Europe/Istanbul", evening, "BUGÜN", "2026-12-02T12:00:00+03:00"},
		{"Europe/Istanbul", evening, "dün", "2026-12-01T12:00:00+03:00"},
		{"Europe/Istanbul", evening, "DÜN", "2026-12-01T12:00:00+03:00"},
		{"Europe/Istanbul", evening, "2026-12-02", "2026-12-02T12:00:00+03:00"},
		{"Europe/Istanbul", evening, "2026-12-03", ""},
		{"Europe/Istanbul", evening, "2026-01-31", "2026-01-31T12:00:00+03:00"},
		{"Europe/Istanbul", time.Date(2026, 12, 1, 20, 59, 0, 0, time.UTC), "", "2026-12-01T12:00:00+03:00"},
		{"Europe/Istanbul", time.Date(2026, 12, 1, 20, 59, 0, 0, time.UTC), "2026-12-02", ""},
		{"Europe/Istanbul", time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC), "2026-12-02", "2026-12-02T12:00:00+03:00"},
		{"America/Los_Angeles", evening, "", "2026-12-01T12:00:00-08:00"},
		{"America/Los_Angeles", evening, "dün", "2026-11-30T12:00:00-08:00"},
		{"America/Los_Angeles", evening, "2026-12-02", ""},
		{"UTC", evening, "", "2026-12-01T12:00:00Z"},
		{"UTC", evening, "2026-12-02", ""},
		{"Asia/Tokyo", evening, "", "2026-12-02T12:00:00+09:00"},
		{"Pacific/Kiritimati", evening, "", "2026-12-02T12:00:00+14:00"},
		{"Pacific/Kiritimati", evening, "2026-12-02", "2026-12-02T12:00:00+14:00"},
		{"Pacific/Pago_Pago", evening, "", "2026-12-01T12:00:00-11:00"},
		{"Pacific/Pago_Pago", evening, "yesterday", "2026-11-30T12:00:00-11:00"},
		// Yesterday across a month, a year and a DST change.
		{"Europe/Istanbul", time.Date(2026, 12, 31, 21, 30, 0, 0, time.UTC), "dün", "2026-12-31T12:00:00+03:00"},
		{"America/Los_Angeles", time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC), "dün", "2026-03-07T12:00:00-08:00"},
		{"America/Los_Angeles", time.Date(2026, 11, 1, 20, 0, 0, 0, time.UTC), "", "2026-11-01T12:00:00-08:00"},
		// Garbage.
		{"Europe/Istanbul", evening, "yarın", ""},
		{"Europe/Istanbul", evening, "2026-13-01", ""},
		{"Europe/Istanbul", evening, "02.12.2026", ""},
	}
	hosts := []*time.Location{time.UTC, time.FixedZone("host-14", 14*3600), time.FixedZone("host-11", -11*3600)}
	for _, tt := range tests {
		for _, host := range hosts {
			t.Run(tt.zone+"/"+tt.now.Format(time.RFC3339)+"/"+tt.arg+"/"+host.String(), func(t *testing.T) {
				loc := loadZone(t, tt.zone)
				got, ok := brain.ParseDay(tt.arg, tt.now.In(host), loc)
				switch {
				case tt.want == "" && ok:
					t.Errorf("ParseDay(%q) = %v, want it refused", tt.arg, got)
				case tt.want == "":
				case !ok:
					t.Errorf("ParseDay(%q) refused, want %s", tt.arg, tt.want)
				case got.Format(time.RFC3339) != tt.want || got.Location() != loc:
					t.Errorf("ParseDay(%q) = %s (%s), want %s", tt.arg, got.Format(time.RFC3339), got.Location(), tt.want)
				}
			})
		}
	}
}

func TestParseDayWithoutZoneUsesNows(t *testing.T) {
	now := evening.In(time.FixedZone("TRT", 3*3600))
	got, ok := brain.ParseDay("", now, nil)
	if !ok || got.Format(time.RFC3339) != "2026-12-02T12:00:00+03:00" {
		t.Errorf("ParseDay = %v, %v", got, ok)
	}
}

// zonedSleeper is a Sleeper that tells its zone, as sleep.Job does.
type zonedSleeper struct {
	recordingSleeper
	loc *time.Location
}

func (s *zonedSleeper) Location() *time.Location { return s.loc }

// TestSleepCommandDayIsTheNights: /sleep reads its day in the sleeper's
// zone, not in the zone of the brain's clock (the host's).
func TestSleepCommandDayIsTheNights(t *testing.T) {
	tests := []struct {
		zone, args string
		want       string // the day the sleeper is asked for; "" for refused
	}{
		{"Europe/Istanbul", "", "2026-12-02"},
		{"Europe/Istanbul", "bugün", "2026-12-02"},
		{"Europe/Istanbul", "dün", "2026-12-01"},
		{"Europe/Istanbul", "2026-12-02", "2026-12-02"},
		{"Europe/Istanbul", "2026-12-03", ""},
		{"America/Los_Angeles", "", "2026-12-01"},
		{"America/Los_Angeles", "2026-12-02", ""},
		{"Pacific/Kiritimati", "", "2026-12-02"},
		{"Pacific/Pago_Pago", "dün", "2026-11-30"},
	}
	for _, tt := range tests {
		t.Run(tt.zone+"/"+tt.args, func(t *testing.T) {
			loc := loadZone(t, tt.zone)
			s := &zonedSleeper{loc: loc}
			host := time.FixedZone("host", -11*3600) // the clock's zone is the host's
			b, err := brain.New(brain.Config{Base: brain.Expert{Name: brain.BaseExpert, Model: "base-model"}},
				newMem(), &fakeLLM{}, fakeRouter{}, fixedClock{evening.In(host)}, slog.New(slog.NewTextHandler(io.Discard, nil)),
				brain.WithSleeper(s))
			if err != nil {
				t.Fatal(err)
			}
			m := msg("admin", strings.TrimSpace("/sleep "+tt.args))
			m.Admin = true
			r, _ := testBrain{Brain: b}.ask(t, m)
			switch {
			case tt.want == "":
				if len(s.days) != 0 || !strings.Contains(r.Text, "anlayamadım") {
					t.Errorf("asked for %v, reply %q; want it refused", s.days, r.Text)
				}
			case len(s.days) != 1:
				t.Errorf("asked for %v, reply %q; want %s", s.days, r.Text, tt.want)
			case s.days[0].In(loc).Format(time.DateOnly) != tt.want || s.days[0].Location() != loc:
				t.Errorf("asked for %v (%s), want %s in %s", s.days[0], s.days[0].Location(), tt.want, loc)
			}
		})
	}
}
