package clock

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// FakeStart is where NewFake's time starts: 2025-01-01T00:00:00Z.
var FakeStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Fake is a Clock whose time moves only when Advance is called. Advance
// fires what falls due in time order, each at its own due time, and
// returns once every tick it delivered has been handled (its receiver
// came back for the next one or stopped the ticker) and every AfterFunc
// it ran has returned: after Advance(d) the effects of d's timing logic
// are complete, with no sleep.
//
// Unlike time.Ticker a Fake ticker never drops a tick, so Advance blocks
// while a receiver is busy; a receiver that waits for the goroutine that
// calls Advance deadlocks.
type Fake struct {
	advanceMu sync.Mutex // one Advance at a time

	mu      sync.Mutex
	now     time.Duration
	seq     uint64
	waiters map[*fakeWaiter]struct{}
	changed chan struct{} // closed and replaced when waiters change
}

// NewFake returns a Fake clock at FakeStart.
func NewFake() *Fake { return NewFakeAt(FakeStart) }

// NewFakeAt returns a Fake clock at t.
func NewFakeAt(t time.Time) *Fake {
	return &Fake{now: time.Duration(t.UnixNano()), waiters: map[*fakeWaiter]struct{}{}, changed: make(chan struct{})}
}

// Now implements Clock.
func (c *Fake) Now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Wall implements Clock.
func (c *Fake) Wall() time.Time { return time.Unix(0, int64(c.Now())).UTC() }

// NewTicker implements Clock.
func (c *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	w := &fakeWaiter{c: c, period: d, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	c.schedule(w, d)
	c.mu.Unlock()
	return fakeTicker{w}
}

// AfterFunc implements Clock. f runs in the goroutine calling Advance.
func (c *Fake) AfterFunc(d time.Duration, f func()) Timer {
	w := &fakeWaiter{c: c, f: f}
	c.mu.Lock()
	c.schedule(w, d)
	c.mu.Unlock()
	return fakeTimer{w}
}

// Waiters is the number of active tickers and pending timers.
func (c *Fake) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// BlockUntil waits until at least n tickers and timers are active, so
// that a test advances time only once the code under test has set up its
// timers. It fails when ctx ends first.
func (c *Fake) BlockUntil(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		have, changed := len(c.waiters), c.changed
		c.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("clock: %d waiters, want %d: %w", have, n, ctx.Err())
		}
	}
}

// Advance moves time forward by d (d >= 0), firing what falls due on the
// way; see Fake.
func (c *Fake) Advance(d time.Duration) {
	if d < 0 {
		panic("clock: Advance with a negative duration")
	}
	c.advanceMu.Lock()
	defer c.advanceMu.Unlock()
	c.mu.Lock()
	target := c.now + d
	c.mu.Unlock()
	for c.fireNext(target) {
	}
}

// fireNext fires the earliest waiter due by target, moving time to its
// due time; without one it moves time to target and reports false.
func (c *Fake) fireNext(target time.Duration) bool {
	c.mu.Lock()
	var next *fakeWaiter
	for w := range c.waiters {
		if w.when <= target && (next == nil || w.when < next.when || (w.when == next.when && w.seq < next.seq)) {
			next = w
		}
	}
	if next == nil {
		c.now = target
		c.mu.Unlock()
		return false
	}
	c.now = next.when
	if next.f != nil {
		delete(c.waiters, next)
		c.notify()
		f := next.f
		c.mu.Unlock()
		f()
		return true
	}
	// A ticker. Its previous tick was handled, but one left unreceived by
	// a Stop or Reset is replaced, as time.Ticker's would be.
	select {
	case <-next.ch:
	default:
	}
	select {
	case next.ch <- time.Unix(0, int64(c.now)).UTC():
	default:
	}
	next.handled = make(chan struct{})
	handled := next.handled
	c.seq++
	next.when, next.seq = c.now+next.period, c.seq
	c.mu.Unlock()
	<-handled
	return true
}

// schedule (re)arms w to fire d from now; called with mu held.
func (c *Fake) schedule(w *fakeWaiter, d time.Duration) {
	c.seq++
	w.when, w.seq = c.now+d, c.seq
	if _, ok := c.waiters[w]; !ok {
		c.waiters[w] = struct{}{}
		c.notify()
	}
}

// notify wakes BlockUntil; called with mu held.
func (c *Fake) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// fakeWaiter is a Fake ticker (ch set) or timer (f set).
type fakeWaiter struct {
	c       *Fake
	when    time.Duration
	seq     uint64 // orders waiters due at the same time
	period  time.Duration
	ch      chan time.Time
	f       func()
	handled chan struct{} // a delivered tick awaits handling until closed
}

type fakeTicker struct{ *fakeWaiter }

type fakeTimer struct{ *fakeWaiter }

// C implements Ticker. Asked for again with the last tick consumed, the
// receiver is done with that tick.
func (t fakeTicker) C() <-chan time.Time {
	w := t.fakeWaiter
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	if w.handled != nil && len(w.ch) == 0 {
		close(w.handled)
		w.handled = nil
	}
	return w.ch
}

// Reset implements Ticker.
func (t fakeTicker) Reset(d time.Duration) {
	if d <= 0 {
		panic("clock: non-positive interval for Ticker.Reset")
	}
	w := t.fakeWaiter
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	w.period = d
	w.c.schedule(w, d)
}

// Stop implements Ticker.
func (t fakeTicker) Stop() { t.stop() }

// Stop implements Timer.
func (t fakeTimer) Stop() bool { return t.stop() }

// Reset implements Timer.
func (t fakeTimer) Reset(d time.Duration) bool {
	w := t.fakeWaiter
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	_, active := w.c.waiters[w]
	w.c.schedule(w, d)
	return active
}

// stop removes w; it reports whether w was active.
func (w *fakeWaiter) stop() bool {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	_, active := w.c.waiters[w]
	if active {
		delete(w.c.waiters, w)
		w.c.notify()
	}
	if w.handled != nil {
		// The receiver leaves: whatever it did with the tick is done.
		close(w.handled)
		w.handled = nil
	}
	return active
}
