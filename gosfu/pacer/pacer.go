// Package pacer spreads a transport's outgoing packets at a paced rate, a
// multiple of the estimated bandwidth, so that a burst such as a key frame
// of the top layer does not fill the queue of a slow link.
//
// It is a leaky bucket with an inline fast path: the goroutine forwarding a
// packet calls Send, which says "send it yourself, now" while nothing is
// queued and the budget allows; otherwise the packet is copied into a
// bounded queue that a periodic Drain empties at the paced rate. There is
// no goroutine hop and, when unpaced, no lock on the packet path.
//
// Time is passed in as microseconds (nowUs) by the caller; the pacer reads
// no clock. Callers' clocks may disagree slightly: a nowUs older than one
// already seen adds no budget.
package pacer

import (
	"math"
	"sync"
	"sync/atomic"
)

// Defaults for the zero fields of Config.
const (
	DefaultFactor          = 2.5 // as libwebrtc's pacer
	DefaultBurstUs         = 10_000
	DefaultMaxQueueBytes   = 1 << 20
	DefaultMaxQueuePackets = 2048
	DefaultMaxQueueUs      = 500_000
)

const (
	// bitUs is the budget unit: a bit over a microsecond, so that
	// elapsed µs × bps adds up exactly, with no rounding per refill.
	bitUs = 8 * 1_000_000 // per byte
	// minBurstBytes is the budget floor: one full packet.
	minBurstBytes = 1200
	// maxRate bounds the paced rate (bps) so that budget arithmetic on
	// int64 cannot overflow (maxRate × maxElapsedUs < 2^63).
	maxRate      = 1_000_000_000_000
	maxElapsedUs = 1_000_000
	maxBurstUs   = 1_000_000
	// maxQueueBytes keeps queued bytes × bitUs within int64.
	maxQueueBytes = 1 << 30
	// minDrainUs is the shortest time the queue limit grants to empty the
	// queue once the oldest packet is at or past MaxQueueUs.
	minDrainUs     = 1_000
	initialSlots   = 16
	slotBufferSize = 1500
)

// Config tunes a Pacer. Zero fields take the defaults above.
type Config struct {
	// Factor scales SetRate's bitrate into the pacing rate.
	Factor float64
	// BurstUs is how much budget, in time at the pacing rate, may pile up
	// while idle and then leave back to back (never less than one
	// packet).
	BurstUs int64
	// MaxQueueBytes and MaxQueuePackets bound the queue; a packet that
	// does not fit is dropped.
	MaxQueueBytes   int
	MaxQueuePackets int
	// MaxQueueUs is the queue delay target: while packets are queued the
	// rate is raised so that the queue would empty before the oldest
	// packet waits that long (at worst within 1 ms once it has). A
	// negative value disables it.
	MaxQueueUs int64
}

// Stats are a Pacer's counters and queue state.
type Stats struct {
	QueuedBytes   int
	QueuedPackets int
	// OldestUs is how long the oldest queued packet has waited, measured
	// at the latest nowUs given to Send or Drain (0 if none queued).
	OldestUs int64
	// Sent counts packets sent (by callers of Send told to, and by Drain);
	// Queued counts packets that went through the queue; Dropped counts
	// packets dropped because the queue was full.
	Sent, Queued, Dropped uint64
}

// Pacer paces one transport's packets. It is safe for concurrent use.
type Pacer struct {
	cfg Config

	// unpaced is true while SetRate(0) is in effect; busy is true while
	// packets are queued or being drained. Together they let the unpaced
	// Send skip the lock.
	unpaced atomic.Bool
	busy    atomic.Bool
	sent    atomic.Uint64

	mu       sync.Mutex
	rate     int64 // pacing bps, 0 = unpaced
	budget   int64 // bit·µs; may go negative by one packet
	started  bool
	lastUs   int64
	draining bool
	slots    []slot // ring
	head     int
	count    int
	bytes    int
	queued   uint64
	dropped  uint64
}

type slot struct {
	buf   []byte
	owner any
	atUs  int64
}

// New returns an unpaced Pacer (SetRate sets its rate).
func New(cfg Config) *Pacer {
	if !(cfg.Factor > 0) || math.IsInf(cfg.Factor, 0) {
		cfg.Factor = DefaultFactor
	}
	if cfg.BurstUs <= 0 {
		cfg.BurstUs = DefaultBurstUs
	}
	cfg.BurstUs = min(cfg.BurstUs, maxBurstUs)
	if cfg.MaxQueueBytes <= 0 {
		cfg.MaxQueueBytes = DefaultMaxQueueBytes
	}
	cfg.MaxQueueBytes = min(cfg.MaxQueueBytes, maxQueueBytes)
	if cfg.MaxQueuePackets <= 0 {
		cfg.MaxQueuePackets = DefaultMaxQueuePackets
	}
	if cfg.MaxQueueUs == 0 {
		cfg.MaxQueueUs = DefaultMaxQueueUs
	}
	p := &Pacer{cfg: cfg, slots: make([]slot, min(initialSlots, cfg.MaxQueuePackets))}
	p.unpaced.Store(true)
	return p
}

// SetRate sets the estimated bandwidth in bps; packets then leave at
// Factor times that. 0 makes the pacer unpaced: Send says "send now"
// whenever nothing is queued, and the next Drain empties the queue.
func (p *Pacer) SetRate(bps uint64) {
	r := float64(bps) * p.cfg.Factor
	rate := int64(maxRate)
	if r < maxRate {
		rate = int64(r)
	}
	if bps > 0 && rate == 0 {
		rate = 1
	}
	p.mu.Lock()
	p.rate = rate
	if c := p.burstCap(rate); p.budget > c {
		p.budget = c
	}
	p.unpaced.Store(rate == 0)
	p.mu.Unlock()
}

// Send offers the packet b (owned by owner, handed back to Drain's send)
// at nowUs. true means the caller sends b itself, right now: nothing is
// queued or being drained and the budget allows it (the budget is taken).
// Otherwise b is copied into the queue, or dropped if the queue is full,
// and false is returned; b may be reused once Send returns.
func (p *Pacer) Send(b []byte, owner any, nowUs int64) bool {
	if p.unpaced.Load() && !p.busy.Load() {
		p.sent.Add(1)
		return true
	}
	p.mu.Lock()
	p.refill(nowUs)
	if p.count == 0 && !p.draining && (p.rate == 0 || p.budget > 0) {
		if p.rate != 0 {
			p.budget -= int64(len(b)) * bitUs
		}
		p.mu.Unlock()
		p.sent.Add(1)
		return true
	}
	p.enqueue(b, owner, nowUs)
	p.mu.Unlock()
	return false
}

// enqueue copies b to the tail of the queue, or drops it. p.mu is held.
func (p *Pacer) enqueue(b []byte, owner any, nowUs int64) {
	if p.count >= p.cfg.MaxQueuePackets || p.bytes+len(b) > p.cfg.MaxQueueBytes {
		p.dropped++
		return
	}
	if p.count == len(p.slots) {
		p.grow()
	}
	s := &p.slots[(p.head+p.count)%len(p.slots)]
	if cap(s.buf) < len(b) {
		s.buf = make([]byte, 0, max(len(b), slotBufferSize))
	}
	s.buf = append(s.buf[:0], b...)
	s.owner = owner
	s.atUs = nowUs
	p.count++
	p.bytes += len(b)
	p.queued++
	p.busy.Store(true)
}

// grow doubles the ring (up to MaxQueuePackets), keeping the order and
// the slots' buffers; the buffer of a packet being drained is untouched.
func (p *Pacer) grow() {
	n := min(2*len(p.slots), p.cfg.MaxQueuePackets)
	slots := make([]slot, n)
	for i := range p.slots {
		slots[i] = p.slots[(p.head+i)%len(p.slots)]
	}
	p.slots, p.head = slots, 0
}

// Drain sends, oldest first, the queued packets the budget allows at
// nowUs, calling send for each without holding the pacer's lock (send
// must not call Drain, and must not keep b after returning). Sends made
// meanwhile are queued behind, so the order is kept. A Drain while
// another is running returns 0 at once. It returns the packets sent.
func (p *Pacer) Drain(nowUs int64, send func(b []byte, owner any)) int {
	p.mu.Lock()
	if p.draining {
		p.mu.Unlock()
		return 0
	}
	p.refill(nowUs)
	n := 0
	for p.count > 0 && (p.rate == 0 || p.budget > 0) {
		s := &p.slots[p.head]
		b, owner := s.buf, s.owner
		if p.rate != 0 {
			p.budget -= int64(len(b)) * bitUs
		}
		// The packet stays counted (its slot is not reused) until sent.
		p.draining = true
		p.mu.Unlock()
		send(b, owner)
		p.mu.Lock()
		s = &p.slots[p.head] // the ring may have grown meanwhile
		s.owner = nil
		p.head = (p.head + 1) % len(p.slots)
		p.count--
		p.bytes -= len(b)
		n++
	}
	p.draining = false
	p.busy.Store(p.count > 0)
	p.mu.Unlock()
	p.sent.Add(uint64(n))
	return n
}

// Budget reports how many bytes could leave right now at nowUs without
// being queued: 0 while packets are queued or being drained, MaxInt64
// when unpaced. A prober can fill that much with padding (sent through
// Send, which takes the budget).
func (p *Pacer) Budget(nowUs int64) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refill(nowUs)
	switch {
	case p.count > 0 || p.draining:
		return 0
	case p.rate == 0:
		return math.MaxInt64
	case p.budget <= 0:
		return 0
	}
	return p.budget / bitUs
}

// Stats returns the counters and queue state.
func (p *Pacer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Stats{
		QueuedBytes:   p.bytes,
		QueuedPackets: p.count,
		Queued:        p.queued,
		Dropped:       p.dropped,
		Sent:          p.sent.Load(),
	}
	if p.count > 0 {
		st.OldestUs = max(0, p.lastUs-p.slots[p.head].atUs)
	}
	return st
}

// refill adds the budget earned since the last call. p.mu is held.
func (p *Pacer) refill(nowUs int64) {
	if !p.started {
		p.started = true
		p.lastUs = nowUs
		p.budget = p.burstCap(p.rate)
		return
	}
	el := nowUs - p.lastUs
	if el <= 0 {
		return
	}
	p.lastUs = nowUs
	rate := p.drainRate(nowUs)
	if rate == 0 {
		return
	}
	p.budget += min(el, maxElapsedUs) * rate
	if c := p.burstCap(rate); p.budget > c {
		p.budget = c
	}
}

// drainRate is the pacing rate, raised (as libwebrtc does) when the
// queue would not empty before its oldest packet waits MaxQueueUs.
func (p *Pacer) drainRate(nowUs int64) int64 {
	if p.rate == 0 || p.count == 0 || p.cfg.MaxQueueUs < 0 {
		return p.rate
	}
	left := max(p.cfg.MaxQueueUs-(nowUs-p.slots[p.head].atUs), minDrainUs)
	need := int64(p.bytes) * bitUs / left // bps
	return min(max(p.rate, need), maxRate)
}

// burstCap is the most budget that may pile up at rate.
func (p *Pacer) burstCap(rate int64) int64 {
	return max(p.cfg.BurstUs*rate, minBurstBytes*bitUs)
}
