// Package ratecalc measures a data rate (by default bits per second) over a
// sliding time window, in the manner of mediasoup's RateCalculator: the
// window is split into a fixed ring of equally sized time slots, each holding
// the amount of data accounted in it, and a running total is kept so that
// both Update and Rate are O(1) amortised and never allocate.
//
// Time is supplied by the caller in milliseconds from any monotonic origin.
// A Calculator is not safe for concurrent use; callers that read the rate
// from another goroutine must serialise access themselves.
package ratecalc

import "math"

// Defaults used by New.
const (
	// DefaultWindowMs is the default window length.
	DefaultWindowMs = 1000
	// DefaultSlots is the default number of slots in the window (10 ms each).
	DefaultSlots = 100
	// DefaultScale converts bytes per window into bits per second for a
	// 1000 ms window: rate = total * scale / windowMs.
	DefaultScale = 8000.0
)

// Calculator is a sliding window rate meter. Create it with New or NewWith.
type Calculator struct {
	windowMs  int64
	slotMs    int64
	rateScale float64 // scale / windowMs

	// slots is allocated on the first Update: a meter that never counts
	// anything (an idle transport's RTX or probation meter) holds none.
	slots     []uint64
	nSlots    int
	newest    int   // index of the newest slot
	newestAt  int64 // start time of the newest slot
	total     uint64
	bytes     uint64 // lifetime total, not reset by Reset
	lastNow   int64
	lastTotal uint64
	lastRate  uint32
}

// New returns a bit rate calculator with a 1000 ms window made of 100 slots.
// Update sizes are bytes and Rate returns bits per second.
func New() *Calculator { return NewWith(DefaultWindowMs, DefaultSlots, DefaultScale) }

// NewWindow returns a bit rate calculator with the given window length (in
// ms, 100 slots): Update sizes are bytes and Rate returns bits per second.
func NewWindow(windowMs int64) *Calculator {
	return NewWith(windowMs, DefaultSlots, 8.0*1000.0)
}

// NewWith returns a calculator with the given window length (ms), number of
// slots and scale. Rate returns round(total in window * scale / windowMs),
// so scale 8000 turns bytes into bits per second. Window and slots are
// clamped to at least 1.
func NewWith(windowMs int64, slots int, scale float64) *Calculator {
	if windowMs < 1 {
		windowMs = 1
	}
	if slots < 1 {
		slots = 1
	}
	// Round the slot length up so that the slots always cover the window,
	// then use only as many slots as needed to cover it.
	slotMs := (windowMs + int64(slots) - 1) / int64(slots)
	n := (windowMs + slotMs - 1) / slotMs
	return &Calculator{
		windowMs:  windowMs,
		slotMs:    slotMs,
		rateScale: scale / float64(windowMs),
		nSlots:    int(n),
	}
}

// Update accounts size units (bytes) at time nowMs. Data older than the
// window is ignored.
func (c *Calculator) Update(size int, nowMs int64) {
	if size < 0 || !c.slide(nowMs) {
		return
	}
	if c.slots == nil {
		c.slots = make([]uint64, c.nSlots)
	}
	c.slots[c.newest] += uint64(size)
	c.total += uint64(size)
	c.bytes += uint64(size)
}

// Rate returns the rate over the window ending at nowMs (bits per second for
// the default scale), saturated to the uint32 range.
func (c *Calculator) Rate(nowMs int64) uint32 {
	if nowMs == c.lastNow && c.total == c.lastTotal {
		return c.lastRate
	}
	c.slide(nowMs)
	r := math.Trunc(float64(c.total)*c.rateScale + 0.5)
	if r > math.MaxUint32 {
		r = math.MaxUint32
	}
	c.lastNow = nowMs
	c.lastTotal = c.total
	c.lastRate = uint32(r)
	return c.lastRate
}

// Bytes returns the total amount accounted since creation (Reset does not
// clear it).
func (c *Calculator) Bytes() uint64 { return c.bytes }

// Reset empties the window.
func (c *Calculator) Reset() {
	clear(c.slots)
	c.newest = 0
	c.newestAt = 0
	c.total = 0
	c.lastNow = 0
	c.lastTotal = 0
	c.lastRate = 0
}

// slide expires the slots that fall out of the window ending at nowMs and
// makes the slot containing nowMs the newest. It returns false, changing
// nothing, when nowMs is older than the whole window.
func (c *Calculator) slide(nowMs int64) bool {
	elapsed := nowMs - c.newestAt
	if elapsed <= -c.windowMs {
		return false
	}
	if elapsed < c.slotMs {
		// Same slot, or an older one still in the window: account it to the
		// newest slot.
		return true
	}
	steps := elapsed / c.slotMs
	if c.slots == nil && steps < int64(c.nSlots) {
		// Nothing counted yet: move as the loop below would over zeros.
		c.newest = int((int64(c.newest) + steps) % int64(c.nSlots))
		c.newestAt += steps * c.slotMs
		return true
	}
	if steps >= int64(c.nSlots) {
		if c.total != 0 {
			clear(c.slots)
			c.total = 0
		}
		c.newest = 0
		c.newestAt = nowMs
		return true
	}
	for i := int64(0); i < steps; i++ {
		c.newest++
		if c.newest == len(c.slots) {
			c.newest = 0
		}
		c.total -= c.slots[c.newest]
		c.slots[c.newest] = 0
	}
	// Advance by whole slots so a full ring always spans exactly the window.
	c.newestAt += steps * c.slotMs
	return true
}
