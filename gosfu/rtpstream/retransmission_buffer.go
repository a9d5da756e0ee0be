package rtpstream

import "github.com/gosfu/gosfu/gosfu/seqmanager"

// Retransmission buffer figures (mediasoup).
const (
	// DefaultRetransmissionBufferItems caps the sequence number span kept.
	DefaultRetransmissionBufferItems = 2500
	// MaxRetransmissionDelayVideoMs is how far back (in media time) video
	// packets are kept for retransmission.
	MaxRetransmissionDelayVideoMs = 2000
	// MaxRetransmissionDelayAudioMs is the same for audio.
	MaxRetransmissionDelayAudioMs = 1000
)

// Slot buffers are carved from slabs of slabSlots*slotBytes bytes, so that a
// buffer in steady state reuses memory and allocates nothing.
const (
	slotBytes   = 1536
	slabSlots   = 32
	initialRing = 256
)

// bufferItem is one stored packet.
type bufferItem struct {
	used       bool
	seq        uint16
	ts         uint32
	data       []byte // len = packet length; cap reused across packets
	resentAtMs int64
	sentTimes  uint8
}

// RetransmissionBuffer stores copies of sent RTP packets, keyed by sequence
// number, so that they can be resent when NACKed. It keeps at most maxItems
// sequence numbers (from the oldest to the newest stored one, holes
// included) and drops packets whose RTP timestamp is more than maxDelayMs
// older than the newest one: a NACK for an older packet gets nothing.
//
// Packets must be inserted in (mostly) increasing sequence and timestamp
// order; inconsistent packets are rejected as mediasoup does.
//
// The ring is indexed by seq modulo a power of two, which stays valid across
// the 16 bit wrap. Not safe for concurrent use.
type RetransmissionBuffer struct {
	maxItems   int
	maxDelayMs int64
	clockRate  uint32

	ring   []bufferItem
	mask   uint16
	empty  bool
	oldest uint16
	newest uint16

	slab []byte   // remaining free bytes of the current slab
	free [][]byte // spare slot buffers left over by ring growth
}

// NewRetransmissionBuffer returns a buffer holding at most maxItems
// sequence numbers (1..32768) and maxDelayMs of media time at clockRate.
func NewRetransmissionBuffer(maxItems int, maxDelayMs int64, clockRate uint32) *RetransmissionBuffer {
	if maxItems < 1 {
		maxItems = 1
	}
	if maxItems > 1<<15 {
		maxItems = 1 << 15
	}
	if clockRate == 0 {
		clockRate = 90000
	}
	size := initialRing
	return &RetransmissionBuffer{
		maxItems:   maxItems,
		maxDelayMs: maxDelayMs,
		clockRate:  clockRate,
		ring:       make([]bufferItem, size),
		mask:       uint16(size - 1),
		empty:      true,
	}
}

// Len returns the stored sequence number span (holes included).
func (b *RetransmissionBuffer) Len() int {
	if b.empty {
		return 0
	}
	return int(b.newest-b.oldest) + 1
}

// Oldest and Newest return the sequence numbers at both ends of the buffer.
func (b *RetransmissionBuffer) Oldest() (uint16, bool) { return b.oldest, !b.empty }

// Newest returns the highest stored sequence number.
func (b *RetransmissionBuffer) Newest() (uint16, bool) { return b.newest, !b.empty }

// Get returns the stored packet with the given sequence number, or nil. The
// slice is only valid until the next Insert or Clear.
func (b *RetransmissionBuffer) Get(seq uint16) []byte {
	if it := b.get(seq); it != nil {
		return it.data
	}
	return nil
}

// Contains reports whether a packet with this sequence number is stored.
func (b *RetransmissionBuffer) Contains(seq uint16) bool { return b.get(seq) != nil }

func (b *RetransmissionBuffer) get(seq uint16) *bufferItem {
	if b.empty || seqmanager.SeqIsLower(seq, b.oldest) || seqmanager.SeqIsHigher(seq, b.newest) {
		return nil
	}
	it := &b.ring[seq&b.mask]
	if !it.used || it.seq != seq {
		return nil
	}
	return it
}

// mediaAgeMs is how much older in media time the item is than the newest
// stored packet.
func (b *RetransmissionBuffer) mediaAgeMs(it *bufferItem) int64 {
	if b.empty {
		return 0
	}
	newest := &b.ring[b.newest&b.mask]
	if !newest.used {
		return 0
	}
	d := int32(newest.ts - it.ts)
	if d <= 0 {
		return 0
	}
	return int64(d) * 1000 / int64(b.clockRate)
}

// Clear removes every packet (memory is kept for reuse).
func (b *RetransmissionBuffer) Clear() {
	if b.empty {
		return
	}
	for s := b.oldest; ; s++ {
		b.ring[s&b.mask].used = false
		if s == b.newest {
			break
		}
	}
	b.empty = true
}

// Insert stores a copy of pkt (whose sequence number and RTP timestamp are
// seq and ts). It returns false if the packet was not stored: duplicate, too
// old, or inconsistent timestamps.
func (b *RetransmissionBuffer) Insert(pkt []byte, seq uint16, ts uint32) bool {
	if b.empty {
		b.store(seq, ts, pkt)
		b.oldest, b.newest, b.empty = seq, seq, false
		return true
	}

	newestIt := &b.ring[b.newest&b.mask]

	// Lower seq but higher timestamp than the newest packet: the sender
	// reset, start over.
	if seqmanager.SeqIsLower(seq, b.newest) && seqmanager.TsIsHigher(ts, newestIt.ts) {
		b.Clear()
		b.store(seq, ts, pkt)
		b.oldest, b.newest, b.empty = seq, seq, false
		return true
	}

	// Expire packets too old compared with the newest timestamp (which may be
	// this packet's, if after heavy loss its seq is lower but ts higher).
	newestTs := newestIt.ts
	if seqmanager.TsIsHigher(ts, newestTs) {
		newestTs = ts
	}
	b.clearTooOld(newestTs)
	if b.empty {
		b.store(seq, ts, pkt)
		b.oldest, b.newest, b.empty = seq, seq, false
		return true
	}
	newestIt = &b.ring[b.newest&b.mask]
	oldestIt := &b.ring[b.oldest&b.mask]

	switch {
	case seqmanager.SeqIsHigher(seq, b.newest):
		if seqmanager.TsIsLower(ts, newestIt.ts) {
			return false
		}
		blanks := int(seq-b.newest) - 1
		size := b.Len()
		if size+blanks+1 > b.maxItems {
			toRemove := size + blanks + 1 - b.maxItems
			if toRemove > size-1 {
				b.Clear()
				b.store(seq, ts, pkt)
				b.oldest, b.newest, b.empty = seq, seq, false
				return true
			}
			b.removeOldest(toRemove)
		}
		b.ensureCapacity(int(seq-b.oldest) + 1)
		b.store(seq, ts, pkt)
		b.newest = seq

	case seqmanager.SeqIsLower(seq, b.oldest):
		if b.tooOld(ts, newestIt.ts) || seqmanager.TsIsHigher(ts, oldestIt.ts) {
			return false
		}
		blanks := int(b.oldest-seq) - 1
		if b.Len()+blanks+1 > b.maxItems {
			return false
		}
		b.ensureCapacity(int(b.newest-seq) + 1)
		b.store(seq, ts, pkt)
		b.oldest = seq

	default:
		if b.get(seq) != nil {
			return false // duplicate
		}
		// Timestamps must stay ordered with the closest stored neighbours.
		for s := seq - 1; s != b.oldest-1; s-- {
			if it := &b.ring[s&b.mask]; it.used && it.seq == s {
				if seqmanager.TsIsLower(ts, it.ts) {
					return false
				}
				break
			}
		}
		for s := seq + 1; s != b.newest+1; s++ {
			if it := &b.ring[s&b.mask]; it.used && it.seq == s {
				if seqmanager.TsIsHigher(ts, it.ts) {
					return false
				}
				break
			}
		}
		b.store(seq, ts, pkt)
	}
	return true
}

// tooOld reports whether ts is more than maxDelayMs older than newestTs.
func (b *RetransmissionBuffer) tooOld(ts, newestTs uint32) bool {
	if seqmanager.TsIsHigher(ts, newestTs) {
		return false
	}
	diff := int64(newestTs - ts)
	return diff*1000/int64(b.clockRate) > b.maxDelayMs
}

func (b *RetransmissionBuffer) clearTooOld(newestTs uint32) {
	for !b.empty && b.tooOld(b.ring[b.oldest&b.mask].ts, newestTs) {
		b.removeOldestOne()
	}
}

// removeOldestOne removes the oldest packet and the holes after it.
func (b *RetransmissionBuffer) removeOldestOne() {
	b.ring[b.oldest&b.mask].used = false
	if b.oldest == b.newest {
		b.empty = true
		return
	}
	for s := b.oldest + 1; ; s++ {
		if it := &b.ring[s&b.mask]; it.used && it.seq == s {
			b.oldest = s
			return
		}
		if s == b.newest {
			// Unreachable: the newest slot is always used.
			b.empty = true
			return
		}
	}
}

// removeOldest shrinks the span by at least n.
func (b *RetransmissionBuffer) removeOldest(n int) {
	target := b.Len() - n
	for !b.empty && b.Len() > target {
		b.removeOldestOne()
	}
}

// ensureCapacity grows the ring (a power of two) to hold span seqs.
func (b *RetransmissionBuffer) ensureCapacity(span int) {
	if span <= len(b.ring) {
		return
	}
	size := len(b.ring)
	for size < span {
		size <<= 1
	}
	ring := make([]bufferItem, size)
	mask := uint16(size - 1)
	if !b.empty {
		for s := b.oldest; ; s++ {
			old := &b.ring[s&b.mask]
			if old.used && old.seq == s {
				ring[s&mask] = *old
				old.data = nil
			}
			if s == b.newest {
				break
			}
		}
	}
	// Keep the buffers of unused slots for reuse.
	for i := range b.ring {
		if d := b.ring[i].data; d != nil && !b.ring[i].used {
			b.free = append(b.free, d[:0])
		}
	}
	b.ring = ring
	b.mask = mask
}

// store copies pkt into the slot of seq.
func (b *RetransmissionBuffer) store(seq uint16, ts uint32, pkt []byte) {
	it := &b.ring[seq&b.mask]
	buf := it.data
	if cap(buf) < len(pkt) {
		buf = b.alloc(len(pkt))
	}
	buf = buf[:len(pkt)]
	copy(buf, pkt)
	*it = bufferItem{used: true, seq: seq, ts: ts, data: buf}
}

// alloc returns a buffer of at least n bytes, carved from a slab when n
// fits a standard slot.
func (b *RetransmissionBuffer) alloc(n int) []byte {
	if n > slotBytes {
		return make([]byte, n)
	}
	if k := len(b.free); k > 0 {
		buf := b.free[k-1]
		b.free = b.free[:k-1]
		return buf
	}
	if len(b.slab) < slotBytes {
		b.slab = make([]byte, slotBytes*slabSlots)
	}
	buf := b.slab[:0:slotBytes]
	b.slab = b.slab[slotBytes:]
	return buf
}
