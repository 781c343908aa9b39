package projections

import (
	"container/list"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
)

// graph is a load balancer graph as the projector last folded it.
type graph struct {
	stream  string
	version int64 // stream version of the last event folded
	state   loadbalancer.State
	written map[rowKey]uint64 // sums of the rows as committed; nil = unknown (replace all)
	// amphorae holds the times of the state's amphorae (the aggregate keeps
	// none); nil until the first event is folded.
	amphorae map[string]AmphoraTimes
}

// graphCache is a bounded LRU of graphs by stream. Not safe for concurrent
// use: only the projector's loop touches it.
type graphCache struct {
	capacity int
	order    *list.List // front = most recent; values are *graph
	byStream map[string]*list.Element
}

func newGraphCache(capacity int) *graphCache {
	if capacity < 1 {
		capacity = 1
	}
	return &graphCache{capacity: capacity, order: list.New(), byStream: map[string]*list.Element{}}
}

func (c *graphCache) get(stream string) (*graph, bool) {
	e, ok := c.byStream[stream]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*graph), true
}

// put adds or replaces g, evicting the least recently used graph when full.
func (c *graphCache) put(g *graph) {
	if e, ok := c.byStream[g.stream]; ok {
		e.Value = g
		c.order.MoveToFront(e)
		return
	}
	c.byStream[g.stream] = c.order.PushFront(g)
	for c.order.Len() > c.capacity {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byStream, last.Value.(*graph).stream)
	}
}

func (c *graphCache) remove(stream string) {
	if e, ok := c.byStream[stream]; ok {
		c.order.Remove(e)
		delete(c.byStream, stream)
	}
}

func (c *graphCache) clear() {
	c.order.Init()
	c.byStream = map[string]*list.Element{}
}

func (c *graphCache) len() int { return c.order.Len() }
