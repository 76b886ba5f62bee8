package brain

import (
	"context"
	"fmt"
	"time"
)

// Resume answers the user messages stored since since that never got a
// reply — the process was killed, lost power, or shutdown cut the reply —
// oldest first and in conversation order, each through the Deliverer of
// its platform. Messages of platforms without one (the terminal) are left.
// It reports how many it queued.
func (b *Brain) Resume(ctx context.Context, since time.Time, to map[Platform]Deliverer) (int, error) {
	recs, err := b.history.Unanswered(ctx, since)
	if err != nil {
		return 0, fmt.Errorf("resume: %w", err)
	}
	n := 0
	for _, r := range recs {
		d := to[r.Key.Platform]
		if d == nil {
			continue
		}
		m := Message{Platform: r.Key.Platform, ChatID: r.Key.ChatID, ChatKind: r.ChatKind, UserID: r.Key.UserID,
			UserName: r.UserName, Text: r.Text, PlatformMessageID: r.PlatformMessageID, Time: r.Time,
			Ref: r.Ref, Resumed: true}
		b.log.Info("answering a message left unanswered by the last run", "conv", r.Key.String(), "ref", r.Ref,
			"age", b.clock.Now().Sub(r.Time).Round(time.Second))
		b.Submit(ctx, m, d.SinkFor(m))
		n++
	}
	return n, nil
}
