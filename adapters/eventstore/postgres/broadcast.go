package postgres

import "sync"

// broadcast wakes every waiter at once: notify closes the current channel
// and replaces it. A waiter takes the channel before it reads, so an append
// that commits between its read and its wait is never missed.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

func newBroadcast() *broadcast { return &broadcast{ch: make(chan struct{})} }

// changed returns a channel closed by the next notify.
func (b *broadcast) changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

func (b *broadcast) notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.ch)
	b.ch = make(chan struct{})
}
