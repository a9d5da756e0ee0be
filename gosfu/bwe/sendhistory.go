package bwe

import (
	"sync"

	"github.com/pion/rtcp"
)

// How many sent packets SendHistory remembers. It starts small (an idle
// or low-rate transport keeps 4 kB, not 256 kB) and doubles whenever a
// packet would overwrite one sent less than historyKeepUs ago and not yet
// reported, up to historyMaxSize: at 8 Mbit/s of 1200-byte packets that
// is about 10 s, far beyond any feedback delay.
const (
	historyMinSize = 128
	historyMaxSize = 8192
	historyKeepUs  = 1_000_000
)

// PacketResult is what the feedback says about one sent packet.
type PacketResult struct {
	// Seq is the unwrapped transport-wide sequence number.
	Seq int64
	// Size is the packet size in bytes as recorded.
	Size int
	// SendUs is the local send time.
	SendUs int64
	// ArrivalUs is the arrival time in the remote's clock, or -1 if the
	// packet was reported lost.
	ArrivalUs int64
	// ProbeCluster is the probe cluster ID, -1 for media.
	ProbeCluster int
}

// Received tells whether the packet arrived.
func (p PacketResult) Received() bool { return p.ArrivalUs >= 0 }

type sentPacket struct {
	seq    int64
	sendUs int64
	size   int32
	probe  int32
	// state: 0 not reported yet, 1 reported lost, 2 reported received.
	state uint8
}

// SendHistory records sent packets by transport-wide sequence number so
// that transport-cc feedback can be matched to send times and sizes.
// It is safe for concurrent use.
type SendHistory struct {
	mu      sync.Mutex
	ring    []sentPacket // a power of two long; made by the first Record
	highest int64        // unwrapped highest sequence recorded, -1 before any
	// The feedback reference time is 24 bits of 64 ms; unwrapped so that
	// arrival times stay monotonic across its wrap (about 12 days).
	lastRef  int64
	refCycle int64
	haveRef  bool
}

// NewSendHistory returns an empty history.
func NewSendHistory() *SendHistory {
	return &SendHistory{highest: -1}
}

// unwrap maps a 16-bit sequence number to the int64 line nearest to the
// highest sequence seen.
func (h *SendHistory) unwrap(seq uint16) int64 {
	if h.highest < 0 {
		return int64(seq)
	}
	return h.highest + int64(int16(seq-uint16(h.highest)))
}

// Record remembers a sent packet. probeCluster is -1 for media.
func (h *SendHistory) Record(seq uint16, size int, sendUs int64, probeCluster int) {
	h.mu.Lock()
	u := h.unwrap(seq)
	if u < 0 {
		// Older than the first packet recorded: the engine numbers
		// packets in send order, so this is a stray; drop it.
		h.mu.Unlock()
		return
	}
	if u > h.highest {
		h.highest = u
	}
	if h.ring == nil {
		h.ring = make([]sentPacket, historyMinSize)
	}
	for {
		old := &h.ring[u&int64(len(h.ring)-1)]
		if old.size == 0 || old.seq >= u || old.state != 0 || sendUs-old.sendUs >= historyKeepUs || len(h.ring) >= historyMaxSize {
			break
		}
		h.grow()
	}
	h.ring[u&int64(len(h.ring)-1)] = sentPacket{seq: u, sendUs: sendUs, size: int32(size), probe: int32(probeCluster)}
	h.mu.Unlock()
}

// grow doubles the ring, keeping every packet.
func (h *SendHistory) grow() {
	ring := make([]sentPacket, 2*len(h.ring))
	for _, p := range h.ring {
		if p.size != 0 {
			ring[p.seq&int64(len(ring)-1)] = p
		}
	}
	h.ring = ring
}

// Results converts one feedback packet into per-packet results in
// sequence order, appended to dst. Packets unknown to the history (too old,
// never sent, or already reported received) are skipped.
func (h *SendHistory) Results(fb *rtcp.TransportLayerCC, dst []PacketResult) []PacketResult {
	if fb == nil {
		return dst
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.highest < 0 {
		return dst
	}
	ref := int64(fb.ReferenceTime & 0xffffff)
	if h.haveRef {
		// A jump back by more than half the range is a wrap forward.
		if ref-h.lastRef < -(1 << 23) {
			h.refCycle++
		} else if ref-h.lastRef > 1<<23 && h.refCycle > 0 {
			h.refCycle--
		}
	}
	h.lastRef, h.haveRef = ref, true
	arrival := (ref + h.refCycle<<24) * 64000

	seq := fb.BaseSequenceNumber
	remaining := int(fb.PacketStatusCount)
	deltaIdx := 0
	handle := func(symbol uint16) {
		remaining--
		s := seq
		seq++
		received := symbol == rtcp.TypeTCCPacketReceivedSmallDelta || symbol == rtcp.TypeTCCPacketReceivedLargeDelta
		if received {
			if deltaIdx >= len(fb.RecvDeltas) {
				// Malformed: statuses promise more deltas than present.
				remaining = 0
				return
			}
			if d := fb.RecvDeltas[deltaIdx]; d != nil {
				arrival += d.Delta
			}
			deltaIdx++
		}
		u := h.unwrap(s)
		if u < 0 {
			return
		}
		p := &h.ring[u&int64(len(h.ring)-1)]
		if p.seq != u || p.size == 0 {
			return
		}
		if p.state == 2 || (p.state == 1 && !received) {
			return // duplicate report
		}
		r := PacketResult{Seq: u, Size: int(p.size), SendUs: p.sendUs, ArrivalUs: -1, ProbeCluster: int(p.probe)}
		if received {
			p.state = 2
			r.ArrivalUs = arrival
			if r.ArrivalUs < 0 {
				r.ArrivalUs = 0
			}
		} else {
			p.state = 1
		}
		dst = append(dst, r)
	}
	for _, c := range fb.PacketChunks {
		if remaining <= 0 {
			break
		}
		switch c := c.(type) {
		case *rtcp.RunLengthChunk:
			for n := int(c.RunLength); n > 0 && remaining > 0; n-- {
				handle(c.PacketStatusSymbol)
			}
		case *rtcp.StatusVectorChunk:
			for _, sym := range c.SymbolList {
				if remaining <= 0 {
					break
				}
				if c.SymbolSize == rtcp.TypeTCCSymbolSizeOneBit && sym == 1 {
					sym = rtcp.TypeTCCPacketReceivedSmallDelta
				}
				handle(sym)
			}
		}
	}
	return dst
}
