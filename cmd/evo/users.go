package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/evo-tr/evo/brain"
)

const usersUsage = `usage:
  evo users list
        the users let in: approved ones (Postgres) and ALLOWED_USERS
  evo users allow CODE
        let in the user who got the pairing code CODE (ACCESS_MODE=pairing)
  evo users deny PLATFORM:ID
        revoke an approval, e.g. evo users deny telegram:123456789
A running evo serve sees an approval at the user's next message and a
revocation within a minute. Admins (*_ADMIN_IDS) are always let in.`

// cmdUsers shows and changes who may use EVO-TR.
func cmdUsers(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no subcommand\n%s", errUsage, usersUsage)
	}
	want := map[string]int{"list": 0, "allow": 1, "deny": 1}
	n, known := want[args[0]]
	switch {
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help":
		fmt.Fprintln(a.stdout, usersUsage)
		return nil
	case !known:
		return fmt.Errorf("%w: unknown subcommand %q\n%s", errUsage, args[0], usersUsage)
	case len(args)-1 != n:
		return fmt.Errorf("%w: %s takes %d argument(s)\n%s", errUsage, args[0], n, usersUsage)
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "allow":
		return a.usersAllow(ctx, st, args[1])
	case "deny":
		return a.usersDeny(ctx, st, args[1])
	default:
		return a.usersList(ctx, st)
	}
}

func (a *app) usersAllow(ctx context.Context, st brain.AccessStore, code string) error {
	if _, ok := brain.NormalizePairingCode(code); !ok {
		return fmt.Errorf("%w: %q is not a 6-digit pairing code", errUsage, code)
	}
	u, err := brain.AllowPairing(ctx, st, code, "cli:"+a.defaultUser(), time.Now())
	if errors.Is(err, brain.ErrPairingNotFound) {
		return fmt.Errorf("pairing code %s is unknown, used or expired (codes last an hour): ask the user to write to the bot again for a new one", code)
	}
	if err != nil {
		return err
	}
	ref := brain.UserRef{Platform: u.Platform, UserID: u.UserID}
	fmt.Fprintf(a.stdout, "allowed %s %s\n", ref, u.UserName)
	if strings.EqualFold(a.cfg.AccessMode, string(brain.AccessOpen)) {
		fmt.Fprintln(a.stdout, "note: ACCESS_MODE=open lets everyone in anyway")
	}
	return nil
}

func (a *app) usersDeny(ctx context.Context, st brain.AccessStore, who string) error {
	ref, err := brain.ParseUserRef(who)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	found, err := st.Revoke(ctx, ref.Platform, ref.UserID)
	if err != nil {
		return err
	}
	if found {
		fmt.Fprintf(a.stdout, "revoked %s\n", ref)
	} else {
		fmt.Fprintf(a.stdout, "%s was not approved; nothing changed\n", ref)
	}
	if refs, _ := a.cfg.allowedUsers(); containsRef(refs, ref) {
		fmt.Fprintf(a.stdout, "note: %s is in ALLOWED_USERS and stays in until removed from there\n", ref)
	}
	return nil
}

func (a *app) usersList(ctx context.Context, st brain.AccessStore) error {
	list, err := st.List(ctx)
	if err != nil {
		return err
	}
	loc, err := a.cfg.SleepLocation()
	if err != nil {
		return err
	}
	allowed, _ := a.cfg.allowedUsers()
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tNAME\tAPPROVED BY\tAPPROVED AT")
	for _, u := range allowed {
		fmt.Fprintf(tw, "%s\t\tALLOWED_USERS\t\n", u)
	}
	for _, u := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", brain.UserRef{Platform: u.Platform, UserID: u.UserID},
			oneLineName(u.UserName), u.ApprovedBy, u.ApprovedAt.In(loc).Format("2006-01-02 15:04"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%d approved, %d in ALLOWED_USERS; ACCESS_MODE=%s; admins (*_ADMIN_IDS) are always in\n",
		len(list), len(allowed), a.cfg.AccessMode)
	return nil
}

// allowedUsers parses ALLOWED_USERS.
func (c Config) allowedUsers() ([]brain.UserRef, error) {
	var out []brain.UserRef
	for _, s := range c.AllowedUsers {
		u, err := brain.ParseUserRef(s)
		if err != nil {
			return nil, fmt.Errorf("ALLOWED_USERS: %w", err)
		}
		out = append(out, u)
	}
	return out, nil
}

// accessOptions are the brain's access gate and rate limit.
func (a *app) accessOptions(st brain.AccessStore) []brain.Option {
	allowed, _ := a.cfg.allowedUsers() // checked by LoadConfig
	mode := brain.AccessMode(strings.ToLower(a.cfg.AccessMode))
	return []brain.Option{brain.WithAccess(mode, st, allowed), brain.WithRateLimit(a.cfg.RateLimitPerMinute)}
}

func containsRef(refs []brain.UserRef, u brain.UserRef) bool {
	for _, r := range refs {
		if r == u {
			return true
		}
	}
	return false
}

// oneLineName keeps a display name on one line of the table.
func oneLineName(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
