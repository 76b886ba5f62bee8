package discord

import "sync"

// lanes keeps the messages of one channel in gateway order while channels
// run side by side: the brain stores a message before Submit returns, and
// one event loop doing that for every channel in turn made all users wait
// behind each other's database writes.
type lanes struct {
	mu    sync.Mutex
	tails map[string]chan struct{}
}

// closedLane is ready at once: the first message of a channel waits for
// nothing.
var closedLane = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// enter queues one message of key: wait until wait is ready, run, then
// call leave exactly once. Call enter in arrival order.
func (l *lanes) enter(key string) (wait <-chan struct{}, leave func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tails == nil {
		l.tails = map[string]chan struct{}{}
	}
	wait = closedLane
	if prev, ok := l.tails[key]; ok {
		wait = prev
	}
	mine := make(chan struct{})
	l.tails[key] = mine
	return wait, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		close(mine)
		if l.tails[key] == mine {
			delete(l.tails, key)
		}
	}
}
