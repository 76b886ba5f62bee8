package brain

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
)

// newRef is the Ref of a new user message: from the platform's message id
// when there is one (so a redelivery is recognised), random otherwise.
func newRef(m Message) string {
	if m.PlatformMessageID != "" {
		return "m:" + m.PlatformMessageID
	}
	buf := make([]byte, 12)
	_, _ = rand.Read(buf)
	return "r:" + hex.EncodeToString(buf)
}

// seenRefs is how many recent message refs the brain remembers to drop
// redeliveries that reach it while the database cannot tell.
const seenRefs = 8192

// refSet remembers the last n refs added, per platform and chat.
type refSet struct {
	mu   sync.Mutex
	set  map[string]struct{}
	ring []string
	next int
}

func newRefSet(n int) *refSet {
	return &refSet{set: make(map[string]struct{}, n), ring: make([]string, n)}
}

func refKey(p Platform, chatID, ref string) string {
	return string(p) + "\x00" + chatID + "\x00" + ref
}

// remove forgets the ref (its ring slot is reused in turn).
func (s *refSet) remove(p Platform, chatID, ref string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.set, refKey(p, chatID, ref))
}

// add records the ref and reports whether it is new.
func (s *refSet) add(p Platform, chatID, ref string) bool {
	key := refKey(p, chatID, ref)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.set[key]; ok {
		return false
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.set, old)
	}
	s.ring[s.next] = key
	s.next = (s.next + 1) % len(s.ring)
	s.set[key] = struct{}{}
	return true
}
