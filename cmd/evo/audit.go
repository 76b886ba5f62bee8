package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/evo-tr/evo/brain"
)

// auditDays is how far back evo audit reads without --since.
const auditDays = 7

// cmdAudit prints the audit log: one line per admin command or refused
// attempt, oldest first, times in SLEEP_TIMEZONE.
func cmdAudit(ctx context.Context, a *app, args []string) error {
	fl := flag.NewFlagSet("audit", flag.ContinueOnError)
	fl.SetOutput(a.stderr)
	since := fl.String("since", "", `the first day to show: "dün", "bugün" or YYYY-MM-DD (default: the last 7 days)`)
	if err := fl.Parse(args); err != nil {
		return errUsage
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q (use --since)", errUsage, fl.Arg(0))
	}
	loc, err := a.cfg.SleepLocation()
	if err != nil {
		return err
	}
	from, err := auditSince(strings.TrimSpace(*since), time.Now(), loc)
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	entries, err := st.AuditLog(ctx, from)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	for _, e := range entries {
		fmt.Fprintln(a.stdout, auditLine(e, loc))
	}
	if len(entries) == 0 {
		fmt.Fprintf(a.stderr, "no admin commands or refused attempts since %s\n", from.Format(time.RFC3339))
	}
	return nil
}

// auditSince is the start of the day --since names in loc, or of the day
// auditDays-1 days before today.
func auditSince(arg string, now time.Time, loc *time.Location) (time.Time, error) {
	var day time.Time
	if arg == "" {
		day, _ = brain.ParseDay("", now, loc)
		day = day.AddDate(0, 0, -(auditDays - 1))
	} else {
		var ok bool
		if day, ok = brain.ParseDay(arg, now, loc); !ok {
			return time.Time{}, fmt.Errorf("%w: --since %q: want dün, bugün or a past YYYY-MM-DD date", errUsage, arg)
		}
	}
	y, m, d := day.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc), nil
}

// auditLine is one entry: time, platform, user, command, target, outcome,
// tab-separated; an empty target shows as "-".
func auditLine(e brain.AuditEntry, loc *time.Location) string {
	target := e.Target
	if target == "" {
		target = "-"
	}
	return strings.Join([]string{e.Time.In(loc).Format(time.RFC3339), string(e.Platform), e.UserID,
		"/" + e.Command, target, e.Outcome}, "\t")
}
