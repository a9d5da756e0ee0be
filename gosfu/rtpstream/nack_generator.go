package rtpstream

import (
	"github.com/gosfu/gosfu/gosfu/seqmanager"
	"github.com/pion/rtcp"
)

// NACK generator figures (mediasoup).
const (
	// NackMaxPacketAge: missing packets further than this behind the newest
	// one are forgotten.
	NackMaxPacketAge = 10000
	// NackMaxPackets bounds the missing list; beyond it the list is trimmed
	// up to a key frame, or cleared and a key frame requested.
	NackMaxPackets = 1000
	// NackMaxRetries is how many times a packet is NACKed before giving up.
	NackMaxRetries = 10
	// NackDefaultRttMs spaces retries while the RTT is unknown.
	NackDefaultRttMs = 100
	// NackTimerIntervalMs is how often the caller should call Pending while
	// HasPending is true.
	NackTimerIntervalMs = 40
)

type nackItem struct {
	seq         uint16
	createdAtMs int64
	sentAtMs    int64
	retries     uint8
}

// NackGenerator tracks the sequence numbers missing from an incoming stream
// and decides when to NACK them. Feed it every received (valid) packet with
// ReceivePacket, then call Pending after each packet and every
// NackTimerIntervalMs while HasPending reports true.
//
// A missing packet is NACKed at once (or after sendNackDelayMs), then again
// every RTT until it arrives or NackMaxRetries is reached. Not safe for
// concurrent use. Steady state allocates nothing.
type NackGenerator struct {
	sendNackDelayMs int64
	rttMs           int64

	started bool
	lastSeq uint16

	// All three lists are kept in increasing (wrap-aware) order.
	nacks     []nackItem
	keyFrames []uint16
	recovered []uint16

	keyFrameNeeded bool
}

// NewNackGenerator returns a generator that waits sendNackDelayMs (0: none)
// before NACKing a missing packet (useful to absorb reordering).
func NewNackGenerator(sendNackDelayMs int64) *NackGenerator {
	return &NackGenerator{
		sendNackDelayMs: sendNackDelayMs,
		rttMs:           NackDefaultRttMs,
		nacks:           make([]nackItem, 0, 64),
		keyFrames:       make([]uint16, 0, 16),
		recovered:       make([]uint16, 0, 16),
	}
}

// SetRTT updates the round trip time used to space retries.
func (g *NackGenerator) SetRTT(rttMs int64) { g.rttMs = rttMs }

// Reset forgets everything (used when the stream is paused).
func (g *NackGenerator) Reset() {
	g.nacks = g.nacks[:0]
	g.keyFrames = g.keyFrames[:0]
	g.recovered = g.recovered[:0]
	g.started = false
	g.lastSeq = 0
	g.keyFrameNeeded = false
}

// Len returns the number of sequence numbers currently missing.
func (g *NackGenerator) Len() int { return len(g.nacks) }

// HasPending reports whether some packets are still missing, i.e. whether
// the caller's NACK timer should run.
func (g *NackGenerator) HasPending() bool { return len(g.nacks) > 0 }

// TakeKeyFrameNeeded reports (once) that the missing list overflowed and was
// cleared, so a key frame must be requested instead.
func (g *NackGenerator) TakeKeyFrameNeeded() bool {
	v := g.keyFrameNeeded
	g.keyFrameNeeded = false
	return v
}

// ReceivePacket records a received packet. keyFrame tells whether it starts
// a key frame; recovered whether it came through RTX. It returns true if the
// packet was one being NACKed (it has been removed from the missing list),
// or if it came through RTX and is newer than anything seen (libwebrtc uses
// RTX for probing and may carry never seen packets that way).
func (g *NackGenerator) ReceivePacket(seq uint16, keyFrame, recovered bool, nowMs int64) bool {
	if !g.started {
		g.started = true
		g.lastSeq = seq
		if keyFrame {
			g.keyFrames = append(g.keyFrames, seq)
		}
		return false
	}
	if seq == g.lastSeq {
		return false
	}
	if seqmanager.SeqIsLower(seq, g.lastSeq) {
		// Out of order or retransmitted packet.
		if i, ok := g.findNack(seq); ok {
			g.nacks = removeAt(g.nacks, i)
			return true
		}
		return false
	}

	// Newer than anything seen: there may be a gap.
	if keyFrame {
		g.keyFrames = append(g.keyFrames, seq)
	}
	g.keyFrames = dropOlder(g.keyFrames, seq-NackMaxPacketAge)
	if recovered {
		if n := len(g.recovered); n > 0 && g.recovered[n-1] == seq {
			return false
		}
		g.recovered = append(g.recovered, seq)
		g.recovered = dropOlder(g.recovered, seq-NackMaxPacketAge)
	}
	g.addMissing(g.lastSeq+1, seq, nowMs)
	g.lastSeq = seq
	return recovered
}

// addMissing adds [from, to) to the missing list.
func (g *NackGenerator) addMissing(from, to uint16, nowMs int64) {
	// Forget packets too far behind.
	limit := to - NackMaxPacketAge
	n := 0
	for n < len(g.nacks) && seqmanager.SeqIsLower(g.nacks[n].seq, limit) {
		n++
	}
	g.nacks = removeFront(g.nacks, n)

	count := int(to - from)
	if len(g.nacks)+count > NackMaxPackets {
		for g.trimToKeyFrame() && len(g.nacks)+count > NackMaxPackets {
		}
		if len(g.nacks)+count > NackMaxPackets {
			g.nacks = g.nacks[:0]
			g.keyFrameNeeded = true
			return
		}
	}
	for s := from; s != to; s++ {
		if containsSeq(g.recovered, s) {
			continue
		}
		g.nacks = append(g.nacks, nackItem{seq: s, createdAtMs: nowMs})
	}
}

// trimToKeyFrame drops the missing packets older than the oldest key frame
// that is newer than at least one of them. It returns false when no key
// frame helps.
func (g *NackGenerator) trimToKeyFrame() bool {
	for len(g.keyFrames) > 0 {
		kf := g.keyFrames[0]
		n := 0
		for n < len(g.nacks) && seqmanager.SeqIsLower(g.nacks[n].seq, kf) {
			n++
		}
		if n > 0 {
			g.nacks = removeFront(g.nacks, n)
			return true
		}
		g.keyFrames = removeFront(g.keyFrames, 1)
	}
	return false
}

// Pending appends to buf (and returns it) the sequence numbers to NACK now:
// those never NACKed yet (once past the configured delay) and those NACKed
// more than one RTT ago. Packets reaching NackMaxRetries are given up.
func (g *NackGenerator) Pending(nowMs int64, buf []uint16) []uint16 {
	rtt := g.rttMs
	if rtt <= 0 {
		rtt = NackDefaultRttMs
	}
	w := 0
	for i := range g.nacks {
		it := g.nacks[i]
		if !(g.sendNackDelayMs > 0 && nowMs-it.createdAtMs < g.sendNackDelayMs) &&
			(it.retries == 0 || nowMs-it.sentAtMs >= rtt) {
			buf = append(buf, it.seq)
			it.retries++
			it.sentAtMs = nowMs
			if it.retries >= NackMaxRetries {
				continue // give up on it
			}
		}
		g.nacks[w] = it
		w++
	}
	g.nacks = g.nacks[:w]
	return buf
}

func (g *NackGenerator) findNack(seq uint16) (int, bool) {
	lo, hi := 0, len(g.nacks)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if seqmanager.SeqIsLower(g.nacks[mid].seq, seq) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(g.nacks) && g.nacks[lo].seq == seq
}

// NackPairs appends to pairs (and returns it) the generic NACK items
// (RFC 4585 section 6.2.1) covering seqs, which must be in increasing order.
func NackPairs(seqs []uint16, pairs []rtcp.NackPair) []rtcp.NackPair {
	for i := 0; i < len(seqs); {
		p := rtcp.NackPair{PacketID: seqs[i]}
		i++
		for i < len(seqs) {
			shift := seqs[i] - p.PacketID - 1
			if shift > 15 {
				break
			}
			p.LostPackets |= 1 << shift
			i++
		}
		pairs = append(pairs, p)
	}
	return pairs
}

// countNackPair returns the number of packets a NACK item requests.
func countNackPair(p rtcp.NackPair) int {
	n := 1
	for m := p.LostPackets; m != 0; m &= m - 1 {
		n++
	}
	return n
}

func removeAt[T any](s []T, i int) []T {
	copy(s[i:], s[i+1:])
	return s[:len(s)-1]
}

func removeFront[T any](s []T, n int) []T {
	if n <= 0 {
		return s
	}
	if n >= len(s) {
		return s[:0]
	}
	copy(s, s[n:])
	return s[:len(s)-n]
}

// dropOlder removes from the front of the ordered list s the values older
// than limit.
func dropOlder(s []uint16, limit uint16) []uint16 {
	n := 0
	for n < len(s) && seqmanager.SeqIsLower(s[n], limit) {
		n++
	}
	return removeFront(s, n)
}

func containsSeq(s []uint16, v uint16) bool {
	lo, hi := 0, len(s)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if seqmanager.SeqIsLower(s[mid], v) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo < len(s) && s[lo] == v
}
