package brain

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// accessCommands let admins in and out (ACCESS_MODE).
func accessCommands() []commandSpec {
	return []commandSpec{
		{Command{Name: "allow", Description: "(yönetici) Eşleştirme koduyla bir kullanıcıya izin ver: /allow 123456", Args: "kod", Admin: true},
			(*Brain).allowUser},
		{Command{Name: "deny", Description: "(yönetici) Bir kullanıcının iznini kaldır: /deny kullanıcı-id", Args: "kullanıcı", Admin: true},
			(*Brain).denyUser},
	}
}

// allowUser lets in the stranger who was given the code (admins only).
func (b *Brain) allowUser(ctx context.Context, m Message, args string) Reply {
	if b.access == nil || b.access.store == nil {
		return Reply{Kind: ReplyCommand, Text: msgAccessOff}
	}
	if _, ok := NormalizePairingCode(args); !ok {
		return Reply{Kind: ReplyCommand, Text: msgAllowUsage}
	}
	now := b.clock.Now()
	by := UserRef{Platform: m.Platform, UserID: m.UserID}.String()
	u, err := AllowPairing(ctx, b.access.store, args, by, now)
	switch {
	case errors.Is(err, ErrPairingNotFound):
		return Reply{Kind: ReplyError, Text: fmt.Sprintf(msgAllowBad, oneLine(args, 20))}
	case err != nil:
		b.log.Error("allow a user", "by", by, "err", err)
		return Reply{Kind: ReplyError, Text: msgAccessDown}
	}
	ref := UserRef{Platform: u.Platform, UserID: u.UserID}
	b.access.remember(ref, true, now)
	b.log.Info("access: user approved", "user", ref.String(), "by", by)
	return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgAllowDone, approvedLabel(u.UserName, ref))}
}

// denyUser revokes a user's approval (admins only): "/deny 42" names a user
// of the admin's platform, "/deny discord:42" any.
func (b *Brain) denyUser(ctx context.Context, m Message, args string) Reply {
	if b.access == nil || b.access.store == nil {
		return Reply{Kind: ReplyCommand, Text: msgAccessOff}
	}
	arg := strings.TrimPrefix(strings.TrimSpace(args), "@")
	if arg == "" {
		return Reply{Kind: ReplyCommand, Text: msgDenyUsage}
	}
	ref := UserRef{Platform: m.Platform, UserID: arg}
	if strings.Contains(arg, ":") {
		u, err := ParseUserRef(arg)
		if err != nil {
			return Reply{Kind: ReplyCommand, Text: msgDenyUsage}
		}
		ref = u
	} else if ValidateUser(ref.Platform, ref.UserID) != nil || strings.ContainsAny(arg, " \t\n") {
		return Reply{Kind: ReplyCommand, Text: msgDenyUsage}
	}
	found, err := b.access.store.Revoke(ctx, ref.Platform, ref.UserID)
	if err != nil {
		b.log.Error("deny a user", "user", ref.String(), "err", err)
		return Reply{Kind: ReplyError, Text: msgAccessDown}
	}
	b.access.remember(ref, false, b.clock.Now())
	b.log.Info("access: approval revoked", "user", ref.String(), "by", UserRef{Platform: m.Platform, UserID: m.UserID}.String(), "found", found)
	text := fmt.Sprintf(msgDenyDone, ref.String())
	if !found {
		text = fmt.Sprintf(msgDenyNone, ref.String())
	}
	if b.access.allowed[ref] {
		text += "\n" + msgDenyConfig
	}
	return Reply{Kind: ReplyCommand, Text: text}
}

// approvedLabel names a user for an admin: "Ayşe (telegram:42)".
func approvedLabel(name string, u UserRef) string {
	if name = oneLine(name, 60); name != "" {
		return name + " (" + u.String() + ")"
	}
	return u.String()
}
