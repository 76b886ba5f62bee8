package brain

import "sync"

// keyQueue runs work for one key in the order it entered, and work for
// different keys independently. Entering is synchronous, so a caller that
// enters messages in arrival order gets them processed in that order even
// though each runs in its own goroutine.
type keyQueue struct {
	mu    sync.Mutex
	tails map[string]chan struct{}
	count map[string]int
}

func newKeyQueue() *keyQueue {
	return &keyQueue{tails: map[string]chan struct{}{}, count: map[string]int{}}
}

// closedChan is a channel that is always ready.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// depth is the number of units of key waiting or running.
func (q *keyQueue) depth(key string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.count[key]
}

// enter queues one unit of work for key. The caller waits on wait, runs,
// then calls leave exactly once.
func (q *keyQueue) enter(key string) (wait <-chan struct{}, leave func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	wait = closedChan
	if prev, ok := q.tails[key]; ok {
		wait = prev
	}
	mine := make(chan struct{})
	q.tails[key] = mine
	q.count[key]++
	leave = func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		close(mine)
		q.count[key]--
		if q.count[key] == 0 {
			delete(q.count, key)
			delete(q.tails, key)
		}
	}
	return wait, leave
}

// keys reports how many keys have work queued or running.
func (q *keyQueue) keys() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.count)
}
