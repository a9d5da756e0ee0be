package rtpstream

import (
	"strconv"
	"sync"

	"github.com/gosfu/gosfu/gosfu/ratecalc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// Receive side figures (mediasoup).
const (
	// InactivityTimeoutMs: a stream with no media for this long scores 0.
	InactivityTimeoutMs = 1500
	// InactivityTimeoutDtxMs is the same for streams using DTX.
	InactivityTimeoutDtxMs = 5000
	// MaxSenderReportInterpolationMs bounds how far from the last SR an RTP
	// timestamp may be mapped to NTP time.
	MaxSenderReportInterpolationMs = 10000
)

// RecvConfig describes an incoming stream.
type RecvConfig struct {
	SSRC           uint32
	PayloadType    uint8
	ClockRate      uint32
	MimeType       string // e.g. "video/VP8"
	Rid            string
	Cname          string
	RtxSSRC        uint32 // 0: no RTX
	RtxPayloadType uint8
	UseNack        bool
	UsePli         bool
	UseFir         bool
	UseDtx         bool
	// SendNackDelayMs delays the first NACK of a missing packet.
	SendNackDelayMs int64
	// SpatialLayers and TemporalLayers size the per-layer bitrate counters
	// (0 means 1).
	SpatialLayers  uint8
	TemporalLayers uint8
}

// PacketInfo describes a received RTP packet beyond its header.
type PacketInfo struct {
	// Size is the whole packet length in bytes (header included).
	Size int
	// PayloadSize is the payload length without padding (0: padding only).
	PayloadSize int
	// KeyFrame tells whether the packet starts a key frame.
	KeyFrame bool
	// SpatialLayer and TemporalLayer of the packet, for per-layer bitrate.
	SpatialLayer, TemporalLayer uint8
}

// Events reported by RecvStream.TakeEvents.
type Events uint8

const (
	// EventScoreChanged: Score changed.
	EventScoreChanged Events = 1 << iota
	// EventKeyFrameNeeded: the NACK list overflowed; request a key frame.
	EventKeyFrameNeeded
	// EventNackPending: missing packets wait to be NACKed; call CollectNack
	// (now and every NackTimerIntervalMs while this keeps being reported).
	EventNackPending
)

// dataCounter counts packets and non-padding bytes, with a bitrate.
type dataCounter struct {
	packets uint64
	rate    *ratecalc.Calculator
}

func (c *dataCounter) update(size, payloadSize int, nowMs int64) {
	c.packets++
	if payloadSize > 0 {
		c.rate.Update(size, nowMs)
	}
}

// SenderReportInfo is what the last RTCP Sender Report told.
type SenderReportInfo struct {
	// NTPTime is the 64 bit NTP timestamp of the report.
	NTPTime uint64
	// RTPTime is the RTP timestamp corresponding to NTPTime.
	RTPTime uint32
	// PacketCount and OctetCount are the sender's counters.
	PacketCount, OctetCount uint32
	// ReceivedAtMs is the local time it arrived.
	ReceivedAtMs int64
}

// RecvStats is the getStats() entry of an incoming stream, with the field
// names of mediasoup's RtpStreamRecvStats ("inbound-rtp").
type RecvStats struct {
	Type                 string            `json:"type"`
	Timestamp            int64             `json:"timestamp"`
	Ssrc                 uint32            `json:"ssrc"`
	RtxSsrc              uint32            `json:"rtxSsrc,omitempty"`
	Rid                  string            `json:"rid,omitempty"`
	Kind                 string            `json:"kind"`
	MimeType             string            `json:"mimeType"`
	PacketsLost          uint64            `json:"packetsLost"`
	FractionLost         uint8             `json:"fractionLost"`
	PacketsDiscarded     uint64            `json:"packetsDiscarded"`
	PacketsRetransmitted uint64            `json:"packetsRetransmitted"`
	PacketsRepaired      uint64            `json:"packetsRepaired"`
	NackCount            uint64            `json:"nackCount"`
	NackPacketCount      uint64            `json:"nackPacketCount"`
	PliCount             uint64            `json:"pliCount"`
	FirCount             uint64            `json:"firCount"`
	Score                uint8             `json:"score"`
	PacketCount          uint64            `json:"packetCount"`
	ByteCount            uint64            `json:"byteCount"`
	Bitrate              uint32            `json:"bitrate"`
	BitrateByLayer       map[string]uint32 `json:"bitrateByLayer"`
	Jitter               uint32            `json:"jitter"`
	RoundTripTime        float64           `json:"roundTripTime"`
	RtxPacketsDiscarded  uint64            `json:"rtxPacketsDiscarded,omitempty"`
}

// RecvStream is the receive side state of one incoming RTP stream (one
// encoding of a producer). Driven by the transport's packet goroutine;
// Stats, Score, RTT and LastSenderReport may be called from any goroutine.
type RecvStream struct {
	mu  sync.Mutex
	cfg RecvConfig

	seq seqState

	// Counters.
	packetsDiscarded     uint64
	packetsRetransmitted uint64
	packetsRepaired      uint64
	nackCount            uint64
	nackPacketCount      uint64
	pliCount             uint64
	firCount             uint64
	rtxPackets           uint64
	rtxDiscarded         uint64
	firSeq               uint8

	// transmission counts everything, per layer; media only what arrived
	// on the media SSRC (used for loss).
	layers       [][]dataCounter
	media        dataCounter
	packetsTotal uint64

	// Jitter (RFC 3550 A.8).
	transit int32
	jitter  float64

	// Receiver report state.
	expectedPrior   uint32
	receivedPrior   uint64
	packetsLost     uint32
	fractionLost    uint8
	reportedLost    int64
	lastSR          SenderReportInfo
	hasSR           bool
	rttMs           float64
	lastMediaAtMs   int64
	inactive        bool
	paused          bool
	nack            *NackGenerator
	score           scoreKeeper
	events          Events
	expectedPriorSc uint32
	receivedPriorSc uint64
	repairedPriorSc uint64
	retransPriorSc  uint64
}

// NewRecvStream creates the state of an incoming stream. nowMs is the
// current time (the inactivity clock starts there).
func NewRecvStream(cfg RecvConfig, nowMs int64) *RecvStream {
	if cfg.SpatialLayers == 0 {
		cfg.SpatialLayers = 1
	}
	if cfg.TemporalLayers == 0 {
		cfg.TemporalLayers = 1
	}
	window := int64(2500)
	if cfg.UseDtx {
		window = 6000
	}
	s := &RecvStream{
		cfg:           cfg,
		media:         dataCounter{rate: ratecalc.NewWindow(2500)},
		lastMediaAtMs: nowMs,
	}
	s.layers = make([][]dataCounter, cfg.SpatialLayers)
	for i := range s.layers {
		s.layers[i] = make([]dataCounter, cfg.TemporalLayers)
		for j := range s.layers[i] {
			s.layers[i][j].rate = ratecalc.NewWindow(window)
		}
	}
	if cfg.UseNack {
		s.nack = NewNackGenerator(cfg.SendNackDelayMs)
	}
	s.score.score = 10
	return s
}

// Config returns the stream configuration.
func (s *RecvStream) Config() RecvConfig { return s.cfg }

// SSRC returns the media SSRC.
func (s *RecvStream) SSRC() uint32 { return s.cfg.SSRC }

// ReceivePacket accounts a packet received on the media SSRC. It returns
// false if the packet must be dropped (invalid sequence number). After it,
// call TakeEvents.
func (s *RecvStream) ReceivePacket(hdr *rtp.Header, info PacketInfo, nowMs int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	ok, reset := s.seq.update(hdr.SequenceNumber, hdr.Timestamp, nowMs)
	if !ok {
		s.packetsDiscarded++
		return false
	}
	if reset && s.nack != nil {
		s.nack.Reset()
	}

	if s.nack != nil {
		wasNacked := s.nack.ReceivePacket(hdr.SequenceNumber, info.KeyFrame, false, nowMs)
		if wasNacked && s.cfg.RtxSSRC == 0 {
			// Without RTX a NACKed packet comes back on the media SSRC.
			s.packetsRetransmitted++
			s.packetsRepaired++
		}
		s.noteNackState()
	}

	s.updateJitter(hdr.Timestamp, nowMs)
	s.layerCounter(info).update(info.Size, info.PayloadSize, nowMs)
	s.packetsTotal++
	s.media.update(info.Size, info.PayloadSize, nowMs)

	if info.PayloadSize > 0 {
		s.markActive(nowMs)
	}
	return true
}

// ReceiveRtxPacket accounts a packet received on the RTX SSRC. rtxHdr is
// the RTX packet header, osn the original sequence number it carries (see
// DecodeRTX) and info describes the decoded original packet. It returns true
// if the recovered packet must be forwarded (it was missing, or is newer
// than anything seen). When DecodeRTX fails (empty RTX packet, as libwebrtc
// sends for probing) call it with info.Size == 0 so that the packet is
// counted as an RTX discard. After it, call TakeEvents.
func (s *RecvStream) ReceiveRtxPacket(rtxHdr *rtp.Header, osn uint16, info PacketInfo, nowMs int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.rtxPackets++
	if s.nack == nil || rtxHdr.PayloadType != s.cfg.RtxPayloadType || info.Size == 0 {
		s.rtxDiscarded++
		return false
	}
	ok, reset := s.seq.update(osn, rtxHdr.Timestamp, nowMs)
	if !ok {
		s.rtxDiscarded++
		return false
	}
	if reset {
		s.nack.Reset()
	}
	s.packetsRetransmitted++
	recovered := s.nack.ReceivePacket(osn, info.KeyFrame, true, nowMs)
	s.noteNackState()
	if !recovered {
		return false
	}
	s.packetsRepaired++
	s.layerCounter(info).update(info.Size, info.PayloadSize, nowMs)
	s.packetsTotal++
	if info.PayloadSize > 0 {
		s.markActive(nowMs)
	}
	return true
}

func (s *RecvStream) layerCounter(info PacketInfo) *dataCounter {
	sl := int(info.SpatialLayer)
	if sl >= len(s.layers) {
		sl = len(s.layers) - 1
	}
	tl := int(info.TemporalLayer)
	if tl >= len(s.layers[sl]) {
		tl = len(s.layers[sl]) - 1
	}
	return &s.layers[sl][tl]
}

func (s *RecvStream) noteNackState() {
	if s.nack.TakeKeyFrameNeeded() {
		s.events |= EventKeyFrameNeeded
	}
	if s.nack.HasPending() {
		s.events |= EventNackPending
	}
}

func (s *RecvStream) markActive(nowMs int64) {
	s.lastMediaAtMs = nowMs
	if s.inactive {
		s.inactive = false
		if s.score.reset(10) {
			s.events |= EventScoreChanged
		}
	}
}

// updateJitter implements RFC 3550 A.8 with the arrival time converted into
// RTP clock units.
func (s *RecvStream) updateJitter(ts uint32, nowMs int64) {
	cr := int64(s.cfg.ClockRate)
	if cr == 0 {
		return
	}
	arrival := uint32((nowMs/1000)*cr) + uint32(((nowMs%1000)*cr)/1000)
	transit := int32(arrival - ts)
	if s.transit == 0 {
		s.transit = transit
		return
	}
	d := transit - s.transit
	s.transit = transit
	if d < 0 {
		d = -d
	}
	s.jitter += (float64(d) - s.jitter) / 16
}

// TakeEvents returns and clears the events raised since the last call.
// EventNackPending is raised again by every call that finds missing
// packets still waiting.
func (s *RecvStream) TakeEvents() Events {
	s.mu.Lock()
	e := s.events
	s.events = 0
	s.mu.Unlock()
	return e
}

// CollectNack fills nack (reusing its Nacks capacity) with the packets to
// NACK now and returns false if there are none. Call it after packets
// raising EventNackPending and every NackTimerIntervalMs while
// HasNackPending is true.
func (s *RecvStream) CollectNack(nowMs int64, nack *rtcp.TransportLayerNack) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nack == nil || !s.nack.HasPending() {
		return false
	}
	var seqBuf [64]uint16
	seqs := s.nack.Pending(nowMs, seqBuf[:0])
	if len(seqs) == 0 {
		return false
	}
	nack.SenderSSRC = 0
	nack.MediaSSRC = s.cfg.SSRC
	nack.Nacks = NackPairs(seqs, nack.Nacks[:0])
	s.nackCount++
	for _, p := range nack.Nacks {
		s.nackPacketCount += uint64(countNackPair(p))
	}
	return true
}

// HasNackPending reports whether packets are still missing (keep the NACK
// timer running).
func (s *RecvStream) HasNackPending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nack != nil && s.nack.HasPending()
}

// RequestKeyFrame returns the RTCP packet asking the sender for a key frame
// (PLI if negotiated, else FIR) and counts it, or nil if neither is
// negotiated.
func (s *RecvStream) RequestKeyFrame() rtcp.Packet {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.cfg.UsePli:
		s.pliCount++
		// Sender SSRC should be 0 but some implementations (gstreamer) choke
		// on it, so use the media SSRC as mediasoup does.
		return &rtcp.PictureLossIndication{SenderSSRC: s.cfg.SSRC, MediaSSRC: s.cfg.SSRC}
	case s.cfg.UseFir:
		s.firCount++
		s.firSeq++
		return &rtcp.FullIntraRequest{
			SenderSSRC: s.cfg.SSRC,
			MediaSSRC:  s.cfg.SSRC,
			FIR:        []rtcp.FIREntry{{SSRC: s.cfg.SSRC, SequenceNumber: s.firSeq}},
		}
	}
	return nil
}

// ReceiverReport builds the reception report block for this stream.
// worstRemoteFractionLost (0 if unused) lets a stream using in-band FEC
// report the worst loss seen by its consumers when higher than its own.
func (s *RecvStream) ReceiverReport(nowMs int64, worstRemoteFractionLost uint8) rtcp.ReceptionReport {
	s.mu.Lock()
	defer s.mu.Unlock()

	rr := rtcp.ReceptionReport{SSRC: s.cfg.SSRC}
	prevLost := s.packetsLost
	expected := s.seq.expected()
	received := s.media.packets
	if uint64(expected) > received {
		s.packetsLost = uint32(uint64(expected) - received)
	} else {
		s.packetsLost = 0
	}
	expectedInterval := expected - s.expectedPrior
	s.expectedPrior = expected
	receivedInterval := uint32(received - s.receivedPrior)
	s.receivedPrior = received
	lostInterval := int64(expectedInterval) - int64(receivedInterval)
	if expectedInterval == 0 || lostInterval <= 0 {
		s.fractionLost = 0
	} else {
		f := (float64(lostInterval) * 256 / float64(expectedInterval)) + 0.5
		if f > 255 {
			f = 255
		}
		s.fractionLost = uint8(f)
	}

	if worstRemoteFractionLost <= s.fractionLost {
		s.reportedLost += int64(s.packetsLost) - int64(prevLost)
		rr.FractionLost = s.fractionLost
	} else {
		s.reportedLost += int64((uint32(worstRemoteFractionLost) * expectedInterval) >> 8)
		rr.FractionLost = worstRemoteFractionLost
	}
	rr.TotalLost = clampLost(s.reportedLost)
	rr.LastSequenceNumber = s.seq.extendedMax()
	rr.Jitter = uint32(s.jitter)
	if s.hasSR {
		rr.LastSenderReport = compactNTP(s.lastSR.NTPTime)
		rr.Delay = msToCompact(nowMs - s.lastSR.ReceivedAtMs)
	}
	return rr
}

// clampLost fits a cumulative loss into the 24 bit signed field of a report.
func clampLost(v int64) uint32 {
	if v > 0x7FFFFF {
		v = 0x7FFFFF
	}
	if v < -0x800000 {
		v = -0x800000
	}
	return uint32(v) & 0xFFFFFF
}

// ReceiveSenderReport records an RTCP Sender Report of this stream and
// updates the score (mediasoup scores incoming streams at each SR). Call
// TakeEvents afterwards.
func (s *RecvStream) ReceiveSenderReport(sr *rtcp.SenderReport, nowMs int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A sender without wall clock may send a zero NTP time: nothing to map.
	if sr.NTPTime != 0 {
		s.lastSR = SenderReportInfo{
			NTPTime:      sr.NTPTime,
			RTPTime:      sr.RTPTime,
			PacketCount:  sr.PacketCount,
			OctetCount:   sr.OctetCount,
			ReceivedAtMs: nowMs,
		}
		s.hasSR = true
	}
	s.updateScore()
}

// UpdateScore computes a score sample from the packets expected, received
// and repaired since the previous sample. ReceiveSenderReport calls it; use
// it directly to score streams whose sender sends no SR.
func (s *RecvStream) UpdateScore() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updateScore()
}

func (s *RecvStream) updateScore() {
	totalExpected := s.seq.expected()
	expected := totalExpected - s.expectedPriorSc
	s.expectedPriorSc = totalExpected
	totalReceived := s.media.packets
	received := uint32(totalReceived - s.receivedPriorSc)
	s.receivedPriorSc = totalReceived
	var lost uint32
	if expected > received {
		lost = expected - received
	}
	repaired := uint32(s.packetsRepaired - s.repairedPriorSc)
	s.repairedPriorSc = s.packetsRepaired
	retransmitted := uint32(s.packetsRetransmitted - s.retransPriorSc)
	s.retransPriorSc = s.packetsRetransmitted

	if s.inactive {
		return
	}
	var sample uint8
	switch {
	case expected == 0:
		sample = 10
	case received == 0:
		sample = 0
	default:
		if lost > received {
			lost = received
		}
		if repaired > lost {
			if s.cfg.RtxSSRC != 0 {
				repaired = lost
			} else {
				lost = repaired
			}
		}
		if retransmitted < repaired {
			retransmitted = repaired
		}
		sample = intervalScore(received, lost, repaired, retransmitted)
	}
	if _, changed := s.score.add(sample); changed {
		s.events |= EventScoreChanged
	}
}

// CheckInactivity must be called periodically (e.g. every 500 ms): when no
// media arrived for InactivityTimeoutMs (InactivityTimeoutDtxMs with DTX)
// the stream becomes inactive and its score drops to 0 (EventScoreChanged
// is raised). It returns true if the stream is inactive. A paused stream is
// never marked inactive.
func (s *RecvStream) CheckInactivity(nowMs int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused || s.inactive {
		return s.inactive
	}
	timeout := int64(InactivityTimeoutMs)
	if s.cfg.UseDtx {
		timeout = InactivityTimeoutDtxMs
	}
	if nowMs-s.lastMediaAtMs >= timeout {
		s.inactive = true
		if s.score.reset(0) {
			s.events |= EventScoreChanged
		}
	}
	return s.inactive
}

// Pause stops inactivity detection, resets the NACK state and the jitter.
func (s *RecvStream) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused = true
	if s.nack != nil {
		s.nack.Reset()
	}
	s.transit = 0
	s.jitter = 0
}

// Resume restarts inactivity detection from nowMs.
func (s *RecvStream) Resume(nowMs int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused = false
	if !s.inactive {
		s.lastMediaAtMs = nowMs
	}
}

// SetRTT sets the round trip time towards the sender (known for instance
// from RTCP XR DLRR), used to space NACK retries and reported in stats.
func (s *RecvStream) SetRTT(rttMs float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rttMs < 0 {
		rttMs = 0
	}
	s.rttMs = rttMs
	if s.nack != nil {
		s.nack.SetRTT(int64(rttMs))
	}
}

// RTT returns the round trip time set by SetRTT.
func (s *RecvStream) RTT() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rttMs
}

// Score returns the stream score (0..10).
func (s *RecvStream) Score() uint8 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.score.score
}

// Active reports whether media arrived recently (see CheckInactivity).
func (s *RecvStream) Active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.inactive
}

// LastSenderReport returns the last Sender Report received, if any.
func (s *RecvStream) LastSenderReport() (SenderReportInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastSR, s.hasSR
}

// RTPToNTP maps an RTP timestamp of this stream to sender NTP time using
// the last Sender Report (for lip sync and simulcast timestamp alignment).
// It fails when there is no SR, no clock rate, or ts is more than
// MaxSenderReportInterpolationMs away from the SR.
func (s *RecvStream) RTPToNTP(ts uint32) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.hasSR || s.cfg.ClockRate == 0 {
		return 0, false
	}
	diff := int64(int32(ts - s.lastSR.RTPTime))
	diffUs := diff * 1_000_000 / int64(s.cfg.ClockRate)
	if diffUs > MaxSenderReportInterpolationMs*1000 || diffUs < -MaxSenderReportInterpolationMs*1000 {
		return 0, false
	}
	// NTP fractions per microsecond: 2^32 / 1e6.
	delta := (diffUs << 32) / 1_000_000
	return uint64(int64(s.lastSR.NTPTime) + delta), true
}

// Bitrate returns the bitrate of the whole stream in bps.
func (s *RecvStream) Bitrate(nowMs int64) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bitrate(nowMs)
}

func (s *RecvStream) bitrate(nowMs int64) uint32 {
	var r uint32
	for i := range s.layers {
		for j := range s.layers[i] {
			r += s.layers[i][j].rate.Rate(nowMs)
		}
	}
	return r
}

// LayerBitrate returns the bitrate needed to receive up to the given
// spatial/temporal layer (all lower spatial layers plus temporal layers
// 0..temporal of this one), or 0 if that exact layer is not being received.
func (s *RecvStream) LayerBitrate(nowMs int64, spatial, temporal uint8) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.layerBitrate(nowMs, int(spatial), int(temporal))
}

func (s *RecvStream) layerBitrate(nowMs int64, sl, tl int) uint32 {
	if sl >= len(s.layers) || tl >= len(s.layers[sl]) || s.layers[sl][tl].rate.Rate(nowMs) == 0 {
		return 0
	}
	var r uint32
	for i := 0; i < sl; i++ {
		for j := range s.layers[i] {
			r += s.layers[i][j].rate.Rate(nowMs)
		}
	}
	for j := 0; j <= tl; j++ {
		r += s.layers[sl][j].rate.Rate(nowMs)
	}
	return r
}

// SpatialLayerBitrate returns the bitrate of all temporal layers of one
// spatial layer (used to detect a spatial layer that stopped).
func (s *RecvStream) SpatialLayerBitrate(nowMs int64, spatial uint8) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if int(spatial) >= len(s.layers) {
		return 0
	}
	var r uint32
	for j := range s.layers[spatial] {
		r += s.layers[spatial][j].rate.Rate(nowMs)
	}
	return r
}

// Stats returns the getStats() entry of the stream. Safe from any
// goroutine.
func (s *RecvStream) Stats(nowMs int64) RecvStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := RecvStats{
		Type:                 "inbound-rtp",
		Timestamp:            nowMs,
		Ssrc:                 s.cfg.SSRC,
		RtxSsrc:              s.cfg.RtxSSRC,
		Rid:                  s.cfg.Rid,
		Kind:                 kindOf(s.cfg.MimeType),
		MimeType:             s.cfg.MimeType,
		PacketsLost:          uint64(s.packetsLost),
		FractionLost:         s.fractionLost,
		PacketsDiscarded:     s.packetsDiscarded,
		PacketsRetransmitted: s.packetsRetransmitted,
		PacketsRepaired:      s.packetsRepaired,
		NackCount:            s.nackCount,
		NackPacketCount:      s.nackPacketCount,
		PliCount:             s.pliCount,
		FirCount:             s.firCount,
		Score:                s.score.score,
		PacketCount:          s.packetsTotal,
		Bitrate:              s.bitrate(nowMs),
		BitrateByLayer:       map[string]uint32{},
		Jitter:               uint32(s.jitter),
		RoundTripTime:        s.rttMs,
		RtxPacketsDiscarded:  s.rtxDiscarded,
	}
	for i := range s.layers {
		for j := range s.layers[i] {
			st.ByteCount += s.layers[i][j].rate.Bytes()
		}
	}
	if len(s.layers) > 1 || len(s.layers[0]) > 1 {
		for i := range s.layers {
			for j := range s.layers[i] {
				st.BitrateByLayer[strconv.Itoa(i)+"."+strconv.Itoa(j)] = s.layerBitrate(nowMs, i, j)
			}
		}
	}
	return st
}
