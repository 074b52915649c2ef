package natsbus_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/optinbot/optinbot/adapters/natsbus"
)

// One key's jobs run one at a time and in order; other keys' in parallel.
func TestChains(t *testing.T) {
	var mu sync.Mutex
	got := map[string][]int{}
	var running, most atomic.Int32
	busy := map[string]bool{}
	c := natsbus.NewChains(func(key string, n int) {
		mu.Lock()
		if busy[key] {
			t.Errorf("two jobs of %s at once", key)
		}
		busy[key] = true
		mu.Unlock()
		r := running.Add(1)
		for {
			m := most.Load()
			if r <= m || most.CompareAndSwap(m, r) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		running.Add(-1)
		mu.Lock()
		busy[key] = false
		got[key] = append(got[key], n)
		mu.Unlock()
	})
	for n := range 20 {
		for _, key := range []string{"a", "b", "c"} {
			c.Dispatch(key, n)
		}
	}
	c.Wait()
	for _, key := range []string{"a", "b", "c"} {
		if want := fmt.Sprint([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}); fmt.Sprint(got[key]) != want {
			t.Errorf("%s ran %v", key, got[key])
		}
	}
	if most.Load() < 2 {
		t.Errorf("at most %d jobs at once: keys did not run in parallel", most.Load())
	}
}
