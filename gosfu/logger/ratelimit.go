package logger

import "sync/atomic"

// Rate limits of per-packet warnings: the first RateBurst lines pass, then
// one per RateIntervalMs, so that a flood of bad packets costs a handful of
// lines, not one per packet.
const (
	RateBurst      = 5
	RateIntervalMs = 1000
)

// RateLimit throttles one kind of log line (e.g. "SRTP decrypt failed" on
// one transport). The zero value is ready; it is safe for concurrent use
// and lock-free. Check the logger first (Named.On) so that a disabled line
// does not touch the limiter at all.
type RateLimit struct {
	passed     atomic.Uint32
	nextMs     atomic.Int64
	suppressed atomic.Uint64
}

// Allow tells whether a line may be written at nowMs (milliseconds); when
// it may, skipped is how many were suppressed since the last one written
// (worth appending to the line).
func (r *RateLimit) Allow(nowMs int64) (ok bool, skipped uint64) {
	if r.passed.Load() < RateBurst && r.passed.Add(1) <= RateBurst {
		r.nextMs.Store(nowMs + RateIntervalMs)
		return true, 0
	}
	next := r.nextMs.Load()
	if nowMs < next || !r.nextMs.CompareAndSwap(next, nowMs+RateIntervalMs) {
		r.suppressed.Add(1)
		return false, 0
	}
	return true, r.suppressed.Swap(0)
}
