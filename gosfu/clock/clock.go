// Package clock is the engine's time source: one monotonic clock per
// worker, injectable so that timing logic (NACK, key-frame delay, scores,
// observers, ICE consent) is tested with a Fake clock that a test advances
// by hand instead of sleeping.
//
// Time is monotonic but expressed in Unix terms: Now is the wall time when
// the clock was created plus the monotonic time elapsed since. So engine
// timestamps look like wall-clock milliseconds, as before, yet never step
// back or jump when the system clock is set; mediasoup's timestamps are
// monotonic too (libuv's hrtime), and its sender-report NTP times are that
// monotonic time plus an offset fixed at start, which Wall is.
package clock

import (
	"time"
)

// Clock is a monotonic time source with tickers and timers.
// Implementations are safe for concurrent use.
type Clock interface {
	// Now is the current time as a duration since the Unix epoch: the
	// wall time at the clock's creation plus the monotonic time elapsed
	// since. It never goes back.
	Now() time.Duration
	// Wall is Now as a time.Time, for wall-clock fields such as the NTP
	// timestamp of RTCP sender reports.
	Wall() time.Time
	// NewTicker returns a ticker that ticks every d (d > 0).
	NewTicker(d time.Duration) Ticker
	// AfterFunc calls f in its own goroutine (Real) or in the advancing
	// goroutine (Fake) once d has elapsed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Ticker delivers ticks on the channel C returns, as time.Ticker does.
// Receive with C() evaluated at every receive (`case <-tk.C():` in a
// loop) from one goroutine, and Stop the ticker when leaving the loop: a
// Fake clock counts a tick as handled when its receiver asks for C again
// or stops the ticker.
type Ticker interface {
	C() <-chan time.Time
	// Reset stops the ticker and restarts it with period d (d > 0).
	Reset(d time.Duration)
	Stop()
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop cancels the call; it reports whether the call was pending.
	Stop() bool
	// Reset reschedules the call d from now; it reports whether the call
	// was pending.
	Reset(d time.Duration) bool
}

// Ms is c's Now in whole milliseconds, the unit of the engine's timers
// and stats timestamps.
func Ms(c Clock) int64 { return int64(c.Now() / time.Millisecond) }

// Real is the system's monotonic clock.
type Real struct {
	origin time.Time     // carries the monotonic reading
	base   time.Duration // origin's wall time since the Unix epoch
}

// NewReal returns a Real clock anchored at the current wall time.
func NewReal() *Real {
	t := time.Now()
	return &Real{origin: t, base: time.Duration(t.UnixNano())}
}

// Now implements Clock; time.Since uses the monotonic reading of origin.
func (r *Real) Now() time.Duration { return r.base + time.Since(r.origin) }

// Wall implements Clock.
func (r *Real) Wall() time.Time { return time.Unix(0, int64(r.Now())) }

// NewTicker implements Clock.
func (r *Real) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

// AfterFunc implements Clock.
func (r *Real) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

type realTicker struct{ t *time.Ticker }

func (t realTicker) C() <-chan time.Time   { return t.t.C }
func (t realTicker) Reset(d time.Duration) { t.t.Reset(d) }
func (t realTicker) Stop()                 { t.t.Stop() }
