package rtpstream

import (
	"sync"
	"time"

	"github.com/gosfu/gosfu/gosfu/ratecalc"
	"github.com/pion/rtcp"
)

// Send side figures (mediasoup).
const (
	// MaxSenderReportReferenceAgeMs: no SR is produced when nothing was sent
	// for this long (the RTP timeline cannot be extrapolated honestly).
	MaxSenderReportReferenceAgeMs = 2000
	// DefaultRttMs is used to throttle retransmissions while RTT is unknown.
	DefaultRttMs = 100
	// MaxNackDelayMs bounds how late, in media time, a retransmission may
	// arrive: older packets are not resent.
	MaxNackDelayMs = 1000
	// srHistory is how many of our own SRs are remembered to compute RTT.
	srHistory = 8
)

// SendConfig describes an outgoing stream.
type SendConfig struct {
	SSRC           uint32
	PayloadType    uint8
	ClockRate      uint32
	MimeType       string // e.g. "video/VP8"
	Rid            string
	Cname          string
	RtxSSRC        uint32 // 0: no RTX
	RtxPayloadType uint8
	// InitialRtxSeq is the first RTX sequence number minus one (pick it at
	// random).
	InitialRtxSeq uint16
	UseNack       bool
	UsePli        bool
	UseFir        bool
	// BufferMaxItems overrides DefaultRetransmissionBufferItems.
	BufferMaxItems int
	// MaxRetransmissionDelayMs overrides the per kind default (2000 ms for
	// video, 1000 ms for audio).
	MaxRetransmissionDelayMs int64
}

// SendResult tells what SendPacket did.
type SendResult uint8

const (
	// SendDiscarded: do not send the packet (invalid, or duplicate of one
	// already sent, which the receiver would fail to decrypt).
	SendDiscarded SendResult = iota
	// SendAccepted: send it; it was not stored for retransmission.
	SendAccepted
	// SendAcceptedAndStored: send it; it is stored for retransmission.
	SendAcceptedAndStored
)

// SendStats is the getStats() entry of an outgoing stream, with the field
// names of mediasoup's RtpStreamSendStats ("outbound-rtp").
type SendStats struct {
	Type                 string  `json:"type"`
	Timestamp            int64   `json:"timestamp"`
	Ssrc                 uint32  `json:"ssrc"`
	RtxSsrc              uint32  `json:"rtxSsrc,omitempty"`
	Rid                  string  `json:"rid,omitempty"`
	Kind                 string  `json:"kind"`
	MimeType             string  `json:"mimeType"`
	PacketsLost          uint64  `json:"packetsLost"`
	FractionLost         uint8   `json:"fractionLost"`
	PacketsDiscarded     uint64  `json:"packetsDiscarded"`
	PacketsRetransmitted uint64  `json:"packetsRetransmitted"`
	PacketsRepaired      uint64  `json:"packetsRepaired"`
	NackCount            uint64  `json:"nackCount"`
	NackPacketCount      uint64  `json:"nackPacketCount"`
	PliCount             uint64  `json:"pliCount"`
	FirCount             uint64  `json:"firCount"`
	Score                uint8   `json:"score"`
	PacketCount          uint64  `json:"packetCount"`
	ByteCount            uint64  `json:"byteCount"`
	Bitrate              uint32  `json:"bitrate"`
	Jitter               uint32  `json:"jitter"`
	RoundTripTime        float64 `json:"roundTripTime"`
}

type sentSR struct {
	compact  uint32
	sentAtMs int64
}

// SendStream is the send side state of one outgoing RTP stream (a
// consumer's). Driven by the transport's packet goroutine; Stats, Score and
// RTT may be called from any goroutine.
type SendStream struct {
	mu  sync.Mutex
	cfg SendConfig

	seq    seqState
	buffer *RetransmissionBuffer
	rtxSeq uint16

	packets uint64
	counter *ratecalc.Calculator

	packetsDiscarded     uint64
	packetsRetransmitted uint64
	packetsRepaired      uint64
	nackCount            uint64
	nackPacketCount      uint64
	// nackTooLate counts NACKed packets not resent because they could
	// no longer arrive in time (MaxNackDelayMs).
	nackTooLate uint64
	// floorSeq is the first packet of a new source (a simulcast switch):
	// packets before it are not resent, for a decoder restarted by its
	// key frame has no use for them. floorAtMs 0: no floor.
	floorSeq  uint16
	floorAtMs int64
	pliCount  uint64
	firCount  uint64

	packetsLost  int32
	fractionLost uint8
	jitter       uint32
	rttMs        float64

	srs    [srHistory]sentSR
	srNext int

	score         scoreKeeper
	scoreChanged  bool
	sentPriorSc   uint64
	lostPriorSc   int32
	repairedPrior uint64
	retransmPrior uint64
	// resendSeqs and resendBuf are the resend path's scratch (the caller
	// serialises resends); resendBuf is allocated on the first resend.
	resendSeqs [maxResendPerItem]uint16
	resendBuf  []byte
}

// maxResendPerItem: a NACK item names a packet and up to 16 following ones.
const maxResendPerItem = 17

// resendFloorMs is how long SetResendFloor holds: past it a NACK for a
// packet before the floor is too late anyway, and sequence numbers may
// have wrapped.
const resendFloorMs = 2 * MaxNackDelayMs

// SetResendFloor marks seq, a key frame that starts a new source on this
// stream, as the oldest packet worth resending: retransmissions of the
// previous source would take a congested link's capacity from the key
// frame's own repairs.
func (s *SendStream) SetResendFloor(seq uint16, nowMs int64) {
	s.mu.Lock()
	s.floorSeq, s.floorAtMs = seq, max(nowMs, 1)
	s.mu.Unlock()
}

// NewSendStream creates the state of an outgoing stream.
func NewSendStream(cfg SendConfig) *SendStream {
	s := &SendStream{
		cfg:     cfg,
		rtxSeq:  cfg.InitialRtxSeq,
		counter: ratecalc.NewWindow(2500),
	}
	s.score.score = 10
	if cfg.UseNack {
		maxItems := cfg.BufferMaxItems
		if maxItems <= 0 {
			maxItems = DefaultRetransmissionBufferItems
		}
		delay := cfg.MaxRetransmissionDelayMs
		if delay <= 0 {
			delay = MaxRetransmissionDelayVideoMs
			if kindOf(cfg.MimeType) == "audio" {
				delay = MaxRetransmissionDelayAudioMs
			}
		}
		s.buffer = NewRetransmissionBuffer(maxItems, delay, cfg.ClockRate)
	}
	return s
}

// Config returns the stream configuration.
func (s *SendStream) Config() SendConfig { return s.cfg }

// SSRC returns the media SSRC.
func (s *SendStream) SSRC() uint32 { return s.cfg.SSRC }

// SendPacket accounts an outgoing, fully rewritten (SSRC, sequence number,
// timestamp, extensions), not yet encrypted RTP packet and stores a copy of
// it for retransmission when NACK is enabled. It returns whether the packet
// must actually be sent.
func (s *SendStream) SendPacket(pkt []byte, nowMs int64) SendResult {
	return s.SendPacketShared(pkt, nil, nowMs)
}

// SendPacketShared is SendPacket for a packet forwarded from a producer
// whose payload is, apart from its first PayloadPrefix bytes (which the
// consumer may have rewritten), the payload ref is armed with: the
// retransmission buffer then keeps only pkt's header and the start of its
// payload, and a reference to ref's shared copy (made on the first store).
// A nil ref stores a private copy.
func (s *SendStream) SendPacketShared(pkt []byte, ref *SharedRef, nowMs int64) SendResult {
	h, ok := parseRTP(pkt)
	if !ok {
		return SendDiscarded
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	valid, reset := s.seq.update(h.seq, h.ts, nowMs)
	if !valid {
		s.packetsDiscarded++
		return SendDiscarded
	}
	if reset && s.buffer != nil {
		s.buffer.Clear()
	}
	stored := false
	if s.buffer != nil {
		if s.buffer.Contains(h.seq) {
			return SendDiscarded
		}
		stored = s.buffer.insert(&packetSource{pkt: pkt, hdrLen: h.headerLen, ref: ref}, h.seq, h.ts)
	}
	s.packets++
	if len(pkt)-h.headerLen-h.paddingLen > 0 {
		s.counter.Update(len(pkt), nowMs)
	}
	if stored {
		return SendAcceptedAndStored
	}
	return SendAccepted
}

// Close releases the stored packets (their shared payloads go back to
// their pool) and stops storing: a closed stream resends nothing. Safe
// from any goroutine, concurrently with the packet path.
func (s *SendStream) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buffer != nil {
		s.buffer.Clear()
		s.buffer = nil
	}
	s.resendBuf = nil
}

// BufferStores returns how many packets the retransmission buffer stored
// pointing at a shared payload, and how many with a private copy.
func (s *SendStream) BufferStores() (shared, private uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buffer == nil {
		return 0, 0
	}
	return s.buffer.Stores()
}

// ReceiveNack handles a NACK from the receiver: every requested packet still
// stored, and not already resent within the last RTT, is passed to fn,
// RTX-encoded (own SSRC, payload type and sequence number, OSN prepended)
// when RTX is configured, else as originally sent. The slice given to fn is
// only valid during the call; fn must not call back into the stream.
// Resends (ReceiveNack, NextRtxPadding) must be serialised by the caller;
// they may run concurrently with SendPacket.
func (s *SendStream) ReceiveNack(nack *rtcp.TransportLayerNack, nowMs int64, fn func(pkt []byte, isRtx bool)) {
	s.mu.Lock()
	s.nackCount++
	s.mu.Unlock()
	for _, pair := range nack.Nacks {
		s.mu.Lock()
		s.nackPacketCount += uint64(countNackPair(pair))
		seqs := s.collect(pair, nowMs)
		s.mu.Unlock()
		for _, seq := range seqs {
			// Each packet is assembled (its slot's own bytes and the
			// shared payload) under the lock, so the packet path cannot
			// evict it, nor release its payload, meanwhile; fn runs
			// without the lock on the assembled copy.
			s.mu.Lock()
			pkt, isRtx := s.assemble(seq)
			s.mu.Unlock()
			if pkt != nil {
				fn(pkt, isRtx)
			}
		}
	}
}

// collect selects the packets to resend for one NACK item.
func (s *SendStream) collect(pair rtcp.NackPair, nowMs int64) []uint16 {
	seqs := s.resendSeqs[:0]
	if s.buffer == nil {
		return seqs
	}
	rtt := int64(s.rttMs)
	if s.rttMs <= 0 {
		rtt = DefaultRttMs
	}
	floor := s.floorAtMs != 0 && nowMs-s.floorAtMs < resendFloorMs
	seq := pair.PacketID
	mask := pair.LostPackets
	for i := 0; i < maxResendPerItem; i++ {
		if (i == 0 || mask&(1<<(i-1)) != 0) && !(floor && int16(seq-s.floorSeq) < 0) {
			it := s.buffer.get(seq)
			// A retransmission that would reach the receiver more than
			// MaxNackDelayMs after the packet's newer neighbours is too late
			// for its jitter buffer: it would only add to the congestion.
			if it != nil && s.buffer.mediaAgeMs(it)+rtt/2 > MaxNackDelayMs {
				s.nackTooLate++
				it = nil
			}
			if it != nil && (it.resentAtMs == 0 || nowMs-it.resentAtMs > rtt) {
				it.resentAtMs = nowMs
				if it.sentTimes < 255 {
					it.sentTimes++
				}
				s.packetsRetransmitted++
				if it.sentTimes == 1 {
					s.packetsRepaired++
				}
				seqs = append(seqs, seq)
			}
		}
		seq++
	}
	return seqs
}

// assemble writes the stored packet seq into resendBuf, RTX-encoded when
// RTX is configured; nil if it is no longer stored. Called with s.mu held.
func (s *SendStream) assemble(seq uint16) (pkt []byte, isRtx bool) {
	if s.buffer == nil {
		return nil, false
	}
	it := s.buffer.get(seq)
	if it == nil {
		return nil, false
	}
	// Room for the OSN in front: RTX moves the header 2 bytes back.
	need := 2 + it.size()
	if cap(s.resendBuf) < need {
		s.resendBuf = make([]byte, 0, max(need, 1536))
	}
	buf := it.appendTo(s.resendBuf[:2])
	if s.cfg.RtxSSRC == 0 {
		return buf[2:], false
	}
	s.rtxSeq++
	n := encodeRTXInPlace(buf, s.cfg.RtxPayloadType, s.cfg.RtxSSRC, s.rtxSeq)
	if n == 0 {
		return nil, false
	}
	return buf[:n], true
}

// ReceiveKeyFrameRequest counts a PLI (fir=false) or FIR (fir=true) from
// the receiver. Forwarding the request to the producer is the caller's job.
func (s *SendStream) ReceiveKeyFrameRequest(fir bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fir {
		s.firCount++
	} else {
		s.pliCount++
	}
}

// ReceiveReceiverReport processes the report block about this stream: RTT
// (from LSR/DLSR, when LSR names one of our recent SRs), cumulative and
// fractional loss, jitter and score. It returns true if Score changed.
func (s *SendStream) ReceiveReceiverReport(rr *rtcp.ReceptionReport, nowMs int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rr.LastSenderReport != 0 {
		for _, sr := range s.srs {
			if sr.sentAtMs != 0 && sr.compact == rr.LastSenderReport {
				rtt := float64(nowMs-sr.sentAtMs) - compactToMs(rr.Delay)
				if rtt < 0 {
					rtt = 0
				}
				s.rttMs = rtt
				break
			}
		}
	}
	// Total lost is a 24 bit signed value.
	lost := int32(rr.TotalLost<<8) >> 8
	s.packetsLost = lost
	s.fractionLost = rr.FractionLost
	s.jitter = rr.Jitter
	s.updateScore(lost)
	changed := s.scoreChanged
	s.scoreChanged = false
	return changed
}

func (s *SendStream) updateScore(totalLost int32) {
	sent := s.packets - s.sentPriorSc
	s.sentPriorSc = s.packets
	if totalLost < 0 {
		totalLost = 0
	}
	var lost uint32
	if totalLost > s.lostPriorSc {
		lost = uint32(totalLost - s.lostPriorSc)
	}
	s.lostPriorSc = totalLost
	repaired := uint32(s.packetsRepaired - s.repairedPrior)
	s.repairedPrior = s.packetsRepaired
	retransmitted := uint32(s.packetsRetransmitted - s.retransmPrior)
	s.retransmPrior = s.packetsRetransmitted

	var sample uint8
	if sent == 0 {
		sample = 10
	} else {
		if uint64(lost) > sent {
			lost = uint32(sent)
		}
		if repaired > lost {
			repaired = lost
		}
		if retransmitted < repaired {
			retransmitted = repaired
		}
		sample = intervalScore(uint32(sent), lost, repaired, retransmitted)
	}
	if _, changed := s.score.add(sample); changed {
		s.scoreChanged = true
	}
}

// SenderReport fills sr with a Sender Report for this stream and returns
// false when none must be sent (nothing sent yet, or nothing for
// MaxSenderReportReferenceAgeMs). wallNow is the wall clock time of nowMs:
// the report maps its NTP time to the RTP timestamp extrapolated from the
// newest packet sent (timestamp + elapsed time * clock rate), which is what
// receivers need for lip sync. sr.Reports is left untouched.
func (s *SendStream) SenderReport(nowMs int64, wallNow time.Time, sr *rtcp.SenderReport) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.packets == 0 || nowMs-s.seq.maxTsAt > MaxSenderReportReferenceAgeMs {
		return false
	}
	elapsed := nowMs - s.seq.maxTsAt
	if elapsed < 0 {
		elapsed = 0
	}
	ntp := ToNTP(wallNow)
	sr.SSRC = s.cfg.SSRC
	sr.NTPTime = ntp
	sr.RTPTime = s.seq.maxTs + uint32(elapsed*int64(s.cfg.ClockRate)/1000)
	sr.PacketCount = uint32(s.packets)
	sr.OctetCount = uint32(s.counter.Bytes())
	s.srs[s.srNext] = sentSR{compact: compactNTP(ntp), sentAtMs: nowMs}
	if s.srs[s.srNext].sentAtMs == 0 {
		s.srs[s.srNext].sentAtMs = 1 // 0 marks an empty slot
	}
	s.srNext = (s.srNext + 1) % srHistory
	return true
}

// Pause clears the retransmission buffer and the jitter (the packets it
// holds would be stale after the pause).
func (s *SendStream) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buffer != nil {
		s.buffer.Clear()
	}
	s.jitter = 0
}

// Resume is the counterpart of Pause (nothing to do currently).
func (s *SendStream) Resume() {}

// ResetScore forces the score (mediasoup resets consumer scores to 10 when a
// consumer starts over). It returns true if it changed.
func (s *SendStream) ResetScore(score uint8) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.score.reset(score)
}

// Score returns the stream score (0..10).
func (s *SendStream) Score() uint8 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.score.score
}

// RTT returns the last round trip time measured, in ms (0 if unknown).
func (s *SendStream) RTT() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rttMs
}

// FractionLost returns the fraction lost of the last receiver report
// (0..255).
func (s *SendStream) FractionLost() uint8 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fractionLost
}

// Bitrate returns the sending bitrate in bps.
func (s *SendStream) Bitrate(nowMs int64) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counter.Rate(nowMs)
}

// Stats returns the getStats() entry of the stream. Safe from any
// goroutine.
func (s *SendStream) Stats(nowMs int64) SendStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	lost := s.packetsLost
	if lost < 0 {
		lost = 0
	}
	return SendStats{
		Type:                 "outbound-rtp",
		Timestamp:            nowMs,
		Ssrc:                 s.cfg.SSRC,
		RtxSsrc:              s.cfg.RtxSSRC,
		Rid:                  s.cfg.Rid,
		Kind:                 kindOf(s.cfg.MimeType),
		MimeType:             s.cfg.MimeType,
		PacketsLost:          uint64(lost),
		FractionLost:         s.fractionLost,
		PacketsDiscarded:     s.packetsDiscarded,
		PacketsRetransmitted: s.packetsRetransmitted,
		PacketsRepaired:      s.packetsRepaired,
		NackCount:            s.nackCount,
		NackPacketCount:      s.nackPacketCount,
		PliCount:             s.pliCount,
		FirCount:             s.firCount,
		Score:                s.score.score,
		PacketCount:          s.packets,
		ByteCount:            s.counter.Bytes(),
		Bitrate:              s.counter.Rate(nowMs),
		Jitter:               s.jitter,
		RoundTripTime:        s.rttMs,
	}
}

// NackTooLate returns how many NACKed packets were not resent because
// they could no longer arrive in time.
func (s *SendStream) NackTooLate() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nackTooLate
}

// NextRtxPadding reserves the next RTX sequence number for a padding-only
// RTX packet (a bandwidth probe) and returns the RTX SSRC and payload type
// and the newest media timestamp; false without RTX or before any media.
// Like resends, calls must be serialised by the caller.
func (s *SendStream) NextRtxPadding() (ssrc uint32, pt uint8, seq uint16, ts uint32, ok bool) {
	if s.cfg.RtxSSRC == 0 {
		return 0, 0, 0, 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.packets == 0 {
		return 0, 0, 0, 0, false
	}
	s.rtxSeq++
	return s.cfg.RtxSSRC, s.cfg.RtxPayloadType, s.rtxSeq, s.seq.maxTs, true
}
