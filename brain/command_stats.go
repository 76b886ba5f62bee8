package brain

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// statsCommands show how EVO-TR is doing: admins only.
func statsCommands() []commandSpec {
	return []commandSpec{
		{Command{Name: "stats", Description: "(yönetici) Kullanıcılar, bugünkü mesajlar, uzmanlar, son gece ve sağlık", Admin: true},
			func(b *Brain, ctx context.Context, m Message, _ string) Reply { return b.stats(ctx) }},
	}
}

// healthTimeout bounds each dependency check of /stats.
const healthTimeout = 3 * time.Second

// nightZone is the night's time zone when the sleeper tells it (sleep.Job
// does), else the clock's.
func (b *Brain) nightZone() *time.Location {
	if z, ok := b.sleeper.(interface{ Location() *time.Location }); ok && z.Location() != nil {
		return z.Location()
	}
	return b.clock.Now().Location()
}

// stats answers /stats: the store's figures for today (in the night's
// zone), the last night, the model and the dependencies' health.
func (b *Brain) stats(ctx context.Context) Reply {
	loc := b.nightZone()
	now := b.clock.Now().In(loc)
	y, mo, d := now.Date()
	dayStart := time.Date(y, mo, d, 0, 0, 0, 0, loc)
	var s strings.Builder
	fmt.Fprintf(&s, "**EVO-TR durumu** (%s, %s)\n", now.Format("02.01.2006 15:04"), loc)
	if b.reports.stats == nil {
		s.WriteString("\nİstatistikler bu kurulumda kapalı.\n")
	} else if st, err := b.reports.stats.Stats(ctx, dayStart); err != nil {
		b.log.Error("read stats", "err", err)
		s.WriteString("\nİstatistikleri okuyamadım: veritabanına ulaşamıyorum.\n")
	} else {
		writeStats(&s, st, loc)
	}
	fmt.Fprintf(&s, "\nModel: `%s`", b.cfg.Base.Model)
	if len(b.cfg.Experts) > 0 {
		names := make([]string, len(b.cfg.Experts))
		for i, e := range b.cfg.Experts {
			names[i] = e.Name
		}
		fmt.Fprintf(&s, " (uzmanlar: %s)", strings.Join(names, ", "))
	}
	s.WriteString("\n")
	if h := b.health(ctx); h != "" {
		s.WriteString("Sağlık: " + h + "\n")
	}
	return Reply{Kind: ReplyCommand, Text: strings.TrimSpace(s.String())}
}

// writeStats renders the store's figures.
func writeStats(s *strings.Builder, st StatsReport, loc *time.Location) {
	fmt.Fprintf(s, "\nKullanıcılar: %d\nBugünkü mesajlar: %d\n", st.Users, st.MessagesToday)
	total := 0
	experts := make([]string, 0, len(st.Answers))
	for e, n := range st.Answers {
		experts = append(experts, e)
		total += n
	}
	sort.Slice(experts, func(i, j int) bool {
		if st.Answers[experts[i]] != st.Answers[experts[j]] {
			return st.Answers[experts[i]] > st.Answers[experts[j]]
		}
		return experts[i] < experts[j]
	})
	if total == 0 {
		s.WriteString("Bugünkü cevaplar: henüz yok\n")
	} else {
		parts := make([]string, len(experts))
		for i, e := range experts {
			parts[i] = fmt.Sprintf("%s %d", e, st.Answers[e])
		}
		fmt.Fprintf(s, "Bugünkü cevaplar: %d (%s)\n", total, strings.Join(parts, ", "))
		fmt.Fprintf(s, "Temel modele düşme oranı: %%%d (%d/%d)\n", (st.Fallbacks*100+total/2)/total, st.Fallbacks, total)
	}
	n := st.LastNight
	switch {
	case n == nil:
		s.WriteString("Son gece: henüz çalışmadı\n")
	case n.Err != "":
		fmt.Fprintf(s, "Son gece (%s): başarısız — %s\n", n.Day, oneLine(n.Err, 200))
	case n.Finished.IsZero():
		fmt.Fprintf(s, "Son gece (%s): %s'den beri çalışıyor\n", n.Day, n.Started.In(loc).Format("15:04"))
	default:
		fmt.Fprintf(s, "Son gece (%s, %s'de bitti): %s\n", n.Day, n.Finished.In(loc).Format("15:04"), oneLine(n.Report, 300))
	}
}

// health checks every dependency in parallel: "postgres ✓, chroma ✗ (…)".
func (b *Brain) health(ctx context.Context) string {
	names := make([]string, 0, len(b.reports.health))
	for n := range b.reports.health {
		names = append(names, n)
	}
	sort.Strings(names)
	results := make([]string, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, healthTimeout)
			defer cancel()
			if err := b.reports.health[n](cctx); err != nil {
				b.log.Warn("health check failed", "dependency", n, "err", err)
				results[i] = n + " ✗ (" + oneLine(err.Error(), 120) + ")"
				return
			}
			results[i] = n + " ✓"
		}()
	}
	wg.Wait()
	return strings.Join(results, ", ")
}
