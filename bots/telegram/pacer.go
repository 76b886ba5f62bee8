package telegram

import (
	"sync"
	"time"
)

// pacer keeps outgoing messages under Telegram's limits: at most one per
// gap in a chat, at most groupMax per groupWindow in a group, and at most
// globalMax per second overall. Callers ask acquire with the current time;
// it either takes a slot (returning 0) or says how long to wait before
// asking again.
type pacer struct {
	gap         time.Duration
	groupMax    int
	groupWindow time.Duration
	globalMax   int

	mu     sync.Mutex
	chats  map[string]*chatPace
	global []time.Time // the last globalMax slots, oldest first
	ops    int
}

type chatPace struct {
	last  time.Time
	until time.Time   // no sends before this (after a 429)
	slots []time.Time // a group's last groupMax slots, oldest first
}

func newPacer(gap time.Duration, groupPerMinute, globalPerSecond int) *pacer {
	return &pacer{
		gap: gap, groupMax: groupPerMinute, groupWindow: time.Minute, globalMax: globalPerSecond,
		chats: map[string]*chatPace{},
	}
}

// acquire takes a slot for a message to chat at now, or returns how long
// to wait before trying again.
func (p *pacer) acquire(chat string, group bool, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.chatLocked(chat)
	next := now
	if c.until.After(next) {
		next = c.until
	}
	if !c.last.IsZero() && c.last.Add(p.gap).After(next) {
		next = c.last.Add(p.gap)
	}
	if group && p.groupMax > 0 && len(c.slots) >= p.groupMax {
		if t := c.slots[len(c.slots)-p.groupMax].Add(p.groupWindow); t.After(next) {
			next = t
		}
	}
	if p.globalMax > 0 && len(p.global) >= p.globalMax {
		if t := p.global[len(p.global)-p.globalMax].Add(time.Second); t.After(next) {
			next = t
		}
	}
	if next.After(now) {
		return next.Sub(now)
	}
	c.last = now
	if group && p.groupMax > 0 {
		c.slots = append(c.slots, now)
		if len(c.slots) > p.groupMax {
			c.slots = c.slots[len(c.slots)-p.groupMax:]
		}
	}
	if p.globalMax > 0 {
		p.global = append(p.global, now)
		if len(p.global) > p.globalMax {
			p.global = p.global[len(p.global)-p.globalMax:]
		}
	}
	p.ops++
	if p.ops%1024 == 0 {
		p.sweep(now)
	}
	return 0
}

// hold makes a chat wait until t, after Telegram answered 429.
func (p *pacer) hold(chat string, t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.chatLocked(chat)
	if t.After(c.until) {
		c.until = t
	}
}

// sweep forgets chats idle for longer than every window; p.mu is held.
func (p *pacer) sweep(now time.Time) {
	idle := max(p.gap, p.groupWindow)
	for k, c := range p.chats {
		if now.Sub(c.last) > idle && !c.until.After(now) {
			delete(p.chats, k)
		}
	}
}

// size reports how many chats the pacer remembers.
func (p *pacer) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.chats)
}

// chatLocked returns the chat's pace, made on first use; p.mu is held.
func (p *pacer) chatLocked(chat string) *chatPace {
	c := p.chats[chat]
	if c == nil {
		c = &chatPace{}
		p.chats[chat] = c
	}
	return c
}
