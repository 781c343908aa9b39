package bus

import (
	"context"
	"sync"
)

// Lease elects one holder among competitors (the forwarder's processes).
// adapters/bus/postgres.Lease is the PostgreSQL advisory lock; LocalLease
// is the embedded default, for processes that are alone.
type Lease interface {
	// Acquire blocks until the caller holds the lease or ctx ends. lost
	// is closed if the lease is taken away (the holder must stop its
	// work); release gives it up, and may be called after lost.
	Acquire(ctx context.Context) (lost <-chan struct{}, release func(), err error)
}

// LocalLease is a Lease among the holders of one process: a mutex that
// never loses its holder.
type LocalLease struct {
	once sync.Once
	sem  chan struct{}
}

// NewLocalLease returns a free in-process lease.
func NewLocalLease() *LocalLease {
	l := &LocalLease{}
	l.init()
	return l
}

func (l *LocalLease) init() { l.once.Do(func() { l.sem = make(chan struct{}, 1) }) }

// Acquire waits for the lease; it is never lost.
func (l *LocalLease) Acquire(ctx context.Context) (<-chan struct{}, func(), error) {
	l.init()
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	var once sync.Once
	return make(chan struct{}), func() { once.Do(func() { <-l.sem }) }, nil
}
