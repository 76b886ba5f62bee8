package brain

import (
	"sync"
	"testing"
	"time"
)

func TestKeyQueueOrderAndDepth(t *testing.T) {
	q := newKeyQueue()
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range 5 {
		wait, leave := q.enter("a")
		if depth := q.depth("a"); depth != i+1 {
			t.Errorf("depth after entry %d = %d, want %d", i, depth, i+1)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-wait
			time.Sleep(time.Duration(5-i) * time.Millisecond) // later entries are quicker
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			leave()
		}()
	}
	// Another key is not held up by "a".
	wait, leave := q.enter("b")
	depth := q.depth("b")
	select {
	case <-wait:
	case <-time.After(time.Second):
		t.Fatal("key b waited for key a")
	}
	if depth != 1 {
		t.Errorf("depth of b = %d, want 1", depth)
	}
	leave()
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("order = %v, want ascending", order)
		}
	}
	if q.keys() != 0 {
		t.Errorf("keys left = %d, want 0", q.keys())
	}
}
