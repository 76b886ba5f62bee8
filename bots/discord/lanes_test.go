package discord

import (
	"sync"
	"testing"
	"time"
)

func TestLanesOrderEachKeyAndRunKeysApart(t *testing.T) {
	var l lanes
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	block := make(chan struct{})
	for i := range 5 {
		wait, leave := l.enter("a")
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer leave()
			<-wait
			if i == 0 {
				<-block // the first of "a" holds the rest of "a"
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}()
	}
	wait, leave := l.enter("b")
	select {
	case <-wait:
	case <-time.After(5 * time.Second):
		t.Fatal("key b waited for key a")
	}
	leave()
	close(block)
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("order of a = %v, want ascending", order)
		}
	}
	if len(l.tails) != 0 {
		t.Errorf("lanes left %d tails", len(l.tails))
	}
}
