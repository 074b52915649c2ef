package natsbus

import "sync"

// Chains runs jobs one at a time per key, in the order they were
// dispatched, and different keys' in parallel: a customer's messages stay
// in stream order while other customers' go on. The consumers of <P>_OUT
// (the provider senders, the consent webhooks) dispatch each message they
// pull under its customer. The zero value is not usable: use NewChains.
type Chains[K comparable, J any] struct {
	run    func(K, J)
	mu     sync.Mutex
	queues map[K][]J // a key's jobs waiting behind the one in hand
	wg     sync.WaitGroup
}

// NewChains returns Chains calling run for each job, from one goroutine
// per busy key.
func NewChains[K comparable, J any](run func(key K, job J)) *Chains[K, J] {
	return &Chains[K, J]{run: run, queues: map[K][]J{}}
}

// Dispatch queues a job behind its key's, or starts the key's chain. It
// never blocks.
func (c *Chains[K, J]) Dispatch(key K, job J) {
	c.mu.Lock()
	if q, busy := c.queues[key]; busy {
		c.queues[key] = append(q, job)
		c.mu.Unlock()
		return
	}
	c.queues[key] = nil
	c.mu.Unlock()
	c.wg.Add(1)
	go c.chain(key, job)
}

func (c *Chains[K, J]) chain(key K, job J) {
	defer c.wg.Done()
	for {
		c.run(key, job)
		c.mu.Lock()
		q := c.queues[key]
		if len(q) == 0 {
			delete(c.queues, key)
			c.mu.Unlock()
			return
		}
		job, c.queues[key] = q[0], q[1:]
		c.mu.Unlock()
	}
}

// Wait waits until every chain has run out of jobs.
func (c *Chains[K, J]) Wait() { c.wg.Wait() }
