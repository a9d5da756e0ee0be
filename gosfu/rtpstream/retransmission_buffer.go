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

// A slot keeps the first headCap bytes of the packet as the consumer sent
// it (its own header: SSRC, sequence number, timestamp, marker, header
// extensions; and the start of the payload) inline, and the rest as a
// reference to a SharedPacket: the producer's copy of the payload, shared
// by every consumer of the packet. So a consumer holds ~112 bytes per
// stored packet instead of a copy of it.
//
// The invariant that makes this right: a consumer may rewrite at most the
// first PayloadPrefix bytes of the payload it forwards (simulcast and SVC
// consumers rewrite the VP8 payload descriptor in place: picture id and
// TL0PICIDX, at most 6 bytes into the payload), and the rest is the
// producer's payload byte for byte. A packet whose header and prefix do not
// fit inline, or that does not come with a shared payload of the right
// length, gets a private copy of its tail instead (counted).
const (
	// PayloadPrefix is how many bytes at the start of the payload a
	// consumer may change and the buffer keeps inline.
	PayloadPrefix = 16
	// headCap is the inline room of a slot (the slot is 112 bytes).
	headCap     = 86
	initialRing = 64
)

// bufferItem is one stored packet: head[:headLen] followed by
// pkt.Bytes()[skip:].
type bufferItem struct {
	resentAtMs int64
	pkt        *SharedPacket // nil when the packet fits in head
	ts         uint32
	seq        uint16
	used       bool
	headLen    uint8
	skip       uint8
	sentTimes  uint8
	head       [headCap]byte
}

// size returns the stored packet's length.
func (it *bufferItem) size() int {
	n := int(it.headLen)
	if it.pkt != nil {
		n += len(it.pkt.data) - int(it.skip)
	}
	return n
}

// appendTo appends the stored packet to dst.
func (it *bufferItem) appendTo(dst []byte) []byte {
	dst = append(dst, it.head[:it.headLen]...)
	if it.pkt != nil {
		dst = append(dst, it.pkt.data[it.skip:]...)
	}
	return dst
}

// reset empties the slot, dropping its reference.
func (it *bufferItem) reset() {
	if it.pkt != nil {
		it.pkt.Release()
		it.pkt = nil
	}
	it.used = false
}

// RetransmissionBuffer stores sent RTP packets, keyed by sequence number,
// so that they can be resent when NACKed. It keeps at most maxItems
// sequence numbers (from the oldest to the newest stored one, holes
// included) and drops packets whose RTP timestamp is more than maxDelayMs
// older than the newest one: a NACK for an older packet gets nothing.
//
// Packets must be inserted in (mostly) increasing sequence and timestamp
// order; inconsistent packets are rejected as mediasoup does.
//
// The ring is indexed by seq modulo a power of two, which stays valid across
// the 16 bit wrap; it is allocated on the first insert and grows with the
// span. Not safe for concurrent use.
type RetransmissionBuffer struct {
	maxItems   int
	maxDelayMs int64
	clockRate  uint32

	ring   []bufferItem
	mask   uint16
	empty  bool
	oldest uint16
	newest uint16

	// sharedStores and privateStores count the packets stored pointing at
	// the producer's shared payload and those that needed a private copy.
	sharedStores  uint64
	privateStores uint64
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
	return &RetransmissionBuffer{
		maxItems:   maxItems,
		maxDelayMs: maxDelayMs,
		clockRate:  clockRate,
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

// Get returns a copy of the stored packet with the given sequence number,
// or nil. It allocates: the packet path uses AppendPacket.
func (b *RetransmissionBuffer) Get(seq uint16) []byte {
	if it := b.get(seq); it != nil {
		return it.appendTo(make([]byte, 0, it.size()))
	}
	return nil
}

// AppendPacket appends the stored packet with the given sequence number to
// dst; ok is false (and dst returned as is) if it is not stored.
func (b *RetransmissionBuffer) AppendPacket(dst []byte, seq uint16) (out []byte, ok bool) {
	if it := b.get(seq); it != nil {
		return it.appendTo(dst), true
	}
	return dst, false
}

// Contains reports whether a packet with this sequence number is stored.
func (b *RetransmissionBuffer) Contains(seq uint16) bool { return b.get(seq) != nil }

// Stores returns how many packets were stored pointing at a shared payload
// and how many needed a private copy of their payload.
func (b *RetransmissionBuffer) Stores() (shared, private uint64) {
	return b.sharedStores, b.privateStores
}

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

// Clear removes every packet, releasing their shared payloads (the ring is
// kept for reuse).
func (b *RetransmissionBuffer) Clear() {
	if b.empty {
		return
	}
	for s := b.oldest; ; s++ {
		b.ring[s&b.mask].reset()
		if s == b.newest {
			break
		}
	}
	b.empty = true
}

// packetSource is a packet to store: pkt as sent, and optionally ref, the
// producer's shared copy of the payload that pkt[hdrLen:] repeats after
// its first PayloadPrefix bytes.
type packetSource struct {
	pkt    []byte
	hdrLen int
	ref    *SharedRef
}

// Insert stores a private copy of pkt (whose sequence number and RTP
// timestamp are seq and ts). It returns false if the packet was not stored:
// duplicate, too old, or inconsistent timestamps.
func (b *RetransmissionBuffer) Insert(pkt []byte, seq uint16, ts uint32) bool {
	return b.insert(&packetSource{pkt: pkt}, seq, ts)
}

// InsertShared is Insert for a packet whose payload, pkt[hdrLen:], is the
// payload ref is armed with apart from its first PayloadPrefix bytes: the
// buffer keeps pkt's header and the start of its payload and a reference
// to ref's shared copy.
func (b *RetransmissionBuffer) InsertShared(pkt []byte, hdrLen int, ref *SharedRef, seq uint16, ts uint32) bool {
	return b.insert(&packetSource{pkt: pkt, hdrLen: hdrLen, ref: ref}, seq, ts)
}

func (b *RetransmissionBuffer) insert(src *packetSource, seq uint16, ts uint32) bool {
	if b.empty {
		b.store(seq, ts, src)
		b.oldest, b.newest, b.empty = seq, seq, false
		return true
	}

	newestIt := &b.ring[b.newest&b.mask]

	// Lower seq but higher timestamp than the newest packet: the sender
	// reset, start over.
	if seqmanager.SeqIsLower(seq, b.newest) && seqmanager.TsIsHigher(ts, newestIt.ts) {
		b.Clear()
		b.store(seq, ts, src)
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
		b.store(seq, ts, src)
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
				b.store(seq, ts, src)
				b.oldest, b.newest, b.empty = seq, seq, false
				return true
			}
			b.removeOldest(toRemove)
		}
		b.ensureCapacity(int(seq-b.oldest) + 1)
		b.store(seq, ts, src)
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
		b.store(seq, ts, src)
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
		b.store(seq, ts, src)
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
	b.ring[b.oldest&b.mask].reset()
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

// ensureCapacity grows the ring (a power of two, allocated on first use) to
// hold span seqs.
func (b *RetransmissionBuffer) ensureCapacity(span int) {
	if span <= len(b.ring) {
		return
	}
	size := len(b.ring)
	if size == 0 {
		size = initialRing
	}
	for size < span {
		size <<= 1
	}
	ring := make([]bufferItem, size)
	mask := uint16(size - 1)
	if !b.empty {
		// Items move with their references.
		for s := b.oldest; ; s++ {
			old := &b.ring[s&b.mask]
			if old.used && old.seq == s {
				ring[s&mask] = *old
			}
			if s == b.newest {
				break
			}
		}
	}
	b.ring = ring
	b.mask = mask
}

// store puts the packet in the (empty) slot of seq: its first headCap
// bytes inline, the rest as a reference to the shared payload when src has
// one that fits the invariant, else to a private copy.
func (b *RetransmissionBuffer) store(seq uint16, ts uint32, src *packetSource) {
	if b.ring == nil {
		b.ensureCapacity(1)
	}
	it := &b.ring[seq&b.mask]
	it.reset()
	n := copy(it.head[:], src.pkt)
	it.resentAtMs, it.ts, it.seq, it.used = 0, ts, seq, true
	it.headLen, it.skip, it.sentTimes = uint8(n), 0, 0
	if n == len(src.pkt) {
		return
	}
	tail := src.pkt[n:]
	if ref := src.ref; ref != nil && src.hdrLen+PayloadPrefix <= n && len(src.pkt)-src.hdrLen == len(ref.src) {
		sp := ref.Get()
		skip := n - src.hdrLen
		if checkShared && string(tail) != string(sp.data[skip:]) {
			panic("rtpstream: forwarded payload differs from the shared one beyond PayloadPrefix")
		}
		sp.Retain()
		it.pkt, it.skip = sp, uint8(skip)
		b.sharedStores++
		return
	}
	it.pkt = NewSharedPacket(tail)
	b.privateStores++
}
