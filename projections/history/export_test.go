package history

// SetScanBudget lets tests cut feed scans short.
func SetScanBudget(r *Reader, n int) { r.scanBudget = n }

// HubStoreReads counts the store reads of subscribers behind the ring.
func HubStoreReads(h *Hub) int64 { return h.storeReads.Load() }

// HubReady reports whether n subscribers follow and the hub's subscription
// knows where it starts.
func HubReady(h *Hub, n int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.subs == n && h.positioned
}
