package sleep_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, on hosts without a zone database

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/sleep"
	"github.com/jonboulle/clockwork"
)

// These tests pin the night's clock and name every zone: the host's (TZ)
// must change nothing. The Makefile runs them under several TZ values.

// evening is 2026-12-01 22:30 UTC: already 2026-12-02 in Istanbul, Tokyo
// and Kiritimati (UTC+14), still 2026-12-01 in UTC, Los Angeles and Pago
// Pago (UTC-11).
var evening = time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestDayBounds(t *testing.T) {
	tests := []struct {
		zone       string
		t          time.Time
		start, end string // RFC 3339, in the zone
	}{
		{"Europe/Istanbul", evening, "2026-12-02T00:00:00+03:00", "2026-12-03T00:00:00+03:00"},
		{"Europe/Istanbul", utc("2026-12-01T20:59:59Z"), "2026-12-01T00:00:00+03:00", "2026-12-02T00:00:00+03:00"},
		{"Europe/Istanbul", utc("2026-12-01T21:00:00Z"), "2026-12-02T00:00:00+03:00", "2026-12-03T00:00:00+03:00"},
		{"UTC", evening, "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"},
		{"Asia/Tokyo", evening, "2026-12-02T00:00:00+09:00", "2026-12-03T00:00:00+09:00"},
		{"Pacific/Kiritimati", evening, "2026-12-02T00:00:00+14:00", "2026-12-03T00:00:00+14:00"},
		{"Pacific/Pago_Pago", evening, "2026-12-01T00:00:00-11:00", "2026-12-02T00:00:00-11:00"},
		{"America/Los_Angeles", evening, "2026-12-01T00:00:00-08:00", "2026-12-02T00:00:00-08:00"},
		// DST: the day the clocks go back has 25 hours, the day they go
		// forward 23.
		{"America/Los_Angeles", utc("2026-11-01T20:00:00Z"), "2026-11-01T00:00:00-07:00", "2026-11-02T00:00:00-08:00"},
		{"America/Los_Angeles", utc("2026-03-08T20:00:00Z"), "2026-03-08T00:00:00-08:00", "2026-03-09T00:00:00-07:00"},
		// The year's last day.
		{"Europe/Istanbul", utc("2026-12-31T21:30:00Z"), "2027-01-01T00:00:00+03:00", "2027-01-02T00:00:00+03:00"},
	}
	for _, tt := range tests {
		for _, in := range []*time.Location{time.UTC, time.FixedZone("server", -11*3600), time.FixedZone("host", 14*3600)} {
			t.Run(fmt.Sprintf("%s/%s/%s", tt.zone, tt.t.Format(time.RFC3339), in), func(t *testing.T) {
				loc := mustLoad(tt.zone)
				start, end := sleep.DayBounds(tt.t.In(in), loc)
				if got := start.Format(time.RFC3339); got != tt.start || start.Location() != loc {
					t.Errorf("start = %s (%s), want %s", got, start.Location(), tt.start)
				}
				if got := end.Format(time.RFC3339); got != tt.end || end.Location() != loc {
					t.Errorf("end = %s (%s), want %s", got, end.Location(), tt.end)
				}
			})
		}
	}
}

// TestSleepTodayIsTheNightsDay runs /sleep's path — brain.ParseDay over the
// night's clock and zone, then Job.Sleep — at 22:30 UTC in several zones,
// over records the store hands back in a zone of its own.
func TestSleepTodayIsTheNightsDay(t *testing.T) {
	// One user's messages, an hour apart around Istanbul's midnight and
	// the evening before Los Angeles' midnight.
	msgs := []time.Time{
		utc("2026-12-01T07:59:00Z"), // 23:59 on Nov 30 in Los Angeles
		utc("2026-12-01T20:59:00Z"), // 23:59 on Dec 1 in Istanbul
		utc("2026-12-01T21:00:00Z"), // 00:00 on Dec 2 in Istanbul
		utc("2026-12-01T22:00:00Z"),
	}
	tests := []struct {
		zone    string
		arg     string
		day     string
		n       int
		clocks  []string // the transcript's clock times, in the zone
		notSent string   // a clock time that must not be in it
	}{
		{"Europe/Istanbul", "", "2026-12-02", 2, []string{"[00:00]", "[01:00]"}, "[23:59]"},
		{"Europe/Istanbul", "bugün", "2026-12-02", 2, []string{"[00:00]", "[01:00]"}, "[21:00]"},
		{"Europe/Istanbul", "2026-12-02", "2026-12-02", 2, []string{"[00:00]", "[01:00]"}, "[22:00]"},
		{"Europe/Istanbul", "dün", "2026-12-01", 2, []string{"[10:59]", "[23:59]"}, "[07:59]"},
		{"UTC", "", "2026-12-01", 4, []string{"[07:59]", "[20:59]", "[21:00]", "[22:00]"}, ""},
		{"Asia/Tokyo", "", "2026-12-02", 3, []string{"[05:59]", "[06:00]", "[07:00]"}, "[16:59]"},
		{"Pacific/Kiritimati", "", "2026-12-02", 3, []string{"[10:59]", "[11:00]", "[12:00]"}, "[21:59]"},
		{"Pacific/Pago_Pago", "", "2026-12-01", 3, []string{"[09:59]", "[10:00]", "[11:00]"}, "[20:59]"},
		{"America/Los_Angeles", "", "2026-12-01", 3, []string{"[12:59]", "[13:00]", "[14:00]"}, "[23:59]"},
		{"America/Los_Angeles", "dün", "2026-11-30", 1, nil, ""},
	}
	hosts := []*time.Location{time.UTC, time.FixedZone("host+14", 14*3600), time.FixedZone("host-11", -11*3600)}
	for _, tt := range tests {
		for _, host := range hosts {
			t.Run(tt.zone+"/"+tt.arg+"/"+host.String(), func(t *testing.T) {
				loc := mustLoad(tt.zone)
				h := braintest.NewMemHistory()
				stored := time.FixedZone("server", -5*3600) // neither the night's nor UTC
				for i, at := range msgs {
					r := &brain.Record{Key: ayse, ChatKind: brain.ChatPrivate, Role: brain.RoleUser,
						Text: fmt.Sprintf("mesaj %d", i+1), Time: at.In(stored)}
					if err := h.Append(context.Background(), r); err != nil {
						t.Fatal(err)
					}
				}
				llm := &scriptedLLM{answers: map[string]string{"Kullanıcı": `{"memories":[{"text":"Kullanıcı mesaj yazdı.","tags":["mesaj"]}]}`}}
				// The night's clock is in the host's zone: only the instant counts.
				clock := fixedClock{evening.In(host)}
				j, err := sleep.New(sleep.Config{Model: "m", Location: loc, MinMessages: 1}, h, llm, newMemorizer(), nil, clock, discard())
				if err != nil {
					t.Fatal(err)
				}
				if j.Location() != loc {
					t.Fatalf("Location = %v, want %v", j.Location(), loc)
				}
				day, ok := brain.ParseDay(tt.arg, clock.Now(), j.Location())
				if !ok {
					t.Fatalf("ParseDay(%q) refused", tt.arg)
				}
				report, err := j.Sleep(context.Background(), day)
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf("Gece işi tamam (%s): %d mesaj", tt.day, tt.n); !strings.Contains(report, want) {
					t.Errorf("report = %q, want %q", report, want)
				}
				if len(tt.clocks) == 0 {
					return
				}
				reqs := llm.requests()
				if len(reqs) != 1 {
					t.Fatalf("%d summary requests, want 1", len(reqs))
				}
				text := reqs[0].Messages[len(reqs[0].Messages)-1].Content
				for _, c := range tt.clocks {
					if !strings.Contains(text, c+" Kullanıcı:") {
						t.Errorf("transcript lacks %s:\n%s", c, text)
					}
				}
				if tt.notSent != "" && strings.Contains(text, tt.notSent) {
					t.Errorf("transcript has %s, a clock time of another zone:\n%s", tt.notSent, text)
				}
				if !strings.Contains(reqs[0].Messages[0].Content, tt.day+" tarihli") {
					t.Errorf("summary prompt does not name %s: %q", tt.day, reqs[0].Messages[0].Content)
				}
			})
		}
	}
}

// TestSchedulerDoesTheNightsYesterday: a run at 22:30 UTC looks back from
// the day it is in the night's zone, not in the host's.
func TestSchedulerDoesTheNightsYesterday(t *testing.T) {
	for _, tt := range []struct{ zone, want string }{
		{"Europe/Istanbul", "2026-12-01"},
		{"Pacific/Kiritimati", "2026-12-01"},
		{"UTC", "2026-11-30"},
		{"Pacific/Pago_Pago", "2026-11-30"},
	} {
		t.Run(tt.zone, func(t *testing.T) {
			nl := braintest.NewMemNightLog()
			fake := clockwork.NewFakeClockAt(evening)
			j, err := sleep.New(sleep.Config{Model: "m", Location: mustLoad(tt.zone)}, braintest.NewMemHistory(),
				standardLLM(), newMemorizer(), nl, fake, discard())
			if err != nil {
				t.Fatal(err)
			}
			s, err := sleep.NewScheduler(j, sleep.ScheduleConfig{Spec: "0 3 * * *", CatchUp: true, Days: 1, Clock: fake})
			if err != nil {
				t.Fatal(err)
			}
			s.Start(context.Background())
			t.Cleanup(func() { _ = s.Stop() })
			if r := waitRun(t, nl, tt.want); r.Err != "" || !strings.Contains(r.Report, `"day":"`+tt.want+`"`) {
				t.Errorf("catch-up run = %+v", r)
			}
		})
	}
}
