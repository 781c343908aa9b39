package history

// SetScanBudget lets tests cut feed scans short.
func SetScanBudget(r *Reader, n int) { r.scanBudget = n }
