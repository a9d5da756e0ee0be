package engine

// Bandwidth feedback a transport sends and applies: transport-cc feedback
// for the packets it receives (recordTwcc, sendTwccFeedback), REMB for
// senders that negotiated goog-remb or are capped by
// setMaxIncomingBitrate() (sendRemb, estimating with bwe.RembEstimator),
// and the outgoing limit consumers fit in (outgoingLimit). The remote's
// REMB is read in Transport.ReceiveRtcp (transport.go).

import (
	"crypto/rand"
	"time"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gosfu/gosfu/gosfu/bwe"
)

// recordTwcc notes the arrival of a packet carrying a transport-wide
// sequence number.
func (t *Transport) recordTwcc(hdr *rtp.Header, id uint8) {
	v := hdr.GetExtension(id)
	if len(v) < 2 {
		return
	}
	seq := uint16(v[0])<<8 | uint16(v[1])
	t.twccMu.Lock()
	if t.twccRecorder == nil {
		t.twccRecorder = twcc.NewRecorder(randomSsrc())
	}
	t.twccRecorder.Record(hdr.SSRC, seq, int64(t.w.clock.Now()/time.Microsecond))
	t.twccMu.Unlock()
}

// recordAbsSendTime feeds the delay-based REMB estimate with the arrival
// of a packet carrying abs-send-time (senders without transport-cc).
func (t *Transport) recordAbsSendTime(hdr *rtp.Header, id uint8, size int) {
	v := hdr.GetExtension(id)
	if len(v) < 3 {
		return
	}
	ast := uint32(v[0])<<16 | uint32(v[1])<<8 | uint32(v[2])
	nowUs := int64(t.w.clock.Now() / time.Microsecond)
	t.rembDelayMu.Lock()
	if t.rembDelay == nil {
		t.rembDelay = bwe.NewReceiveSide(bwe.InitialBitrate)
	}
	t.rembDelay.OnPacket(nowUs, ast, size)
	t.rembDelayMu.Unlock()
}

// sendTwccFeedback sends the transport-cc feedback collected since the
// last call (every NACK tick, 40 ms).
func (t *Transport) sendTwccFeedback(now int64) {
	t.twccMu.Lock()
	var pkts []rtcp.Packet
	if t.twccRecorder != nil && t.twccRecorder.PacketsHeld() > 0 {
		pkts = t.twccRecorder.BuildFeedbackPacket()
	}
	t.twccMu.Unlock()
	if len(pkts) > 0 {
		t.sendRtcpPackets(pkts, now)
	}
}

// randomSsrc returns a random SSRC (the sender SSRC of twcc feedback).
func randomSsrc() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// sendRemb tells remote senders how much they may send: the REMB estimate
// for producers that negotiated goog-remb without transport-cc, capped by
// setMaxIncomingBitrate(); with transport-cc, only that cap (as mediasoup
// does, so that the sender's own estimate stays below it).
func (t *Transport) sendRemb(now int64) {
	maxIn := t.maxIncomingBitrate.Load()
	var ssrcs, rembSsrcs []uint32
	var incoming uint64
	var worstLoss uint8
	for _, p := range t.producerList() {
		in := p.rembInputs(now)
		ssrcs = append(ssrcs, in.ssrcs...)
		if p.useRemb {
			rembSsrcs = append(rembSsrcs, in.ssrcs...)
			incoming += in.bitrate
			worstLoss = max(worstLoss, in.fractionLost)
		}
	}
	var bitrate uint64
	switch {
	case t.twccExtID.Load() == 0 && len(rembSsrcs) > 0:
		// The loss-based figure bounds the delay-based one: both must
		// agree that the link carries more.
		bitrate = t.remb.Update(incoming, worstLoss)
		t.rembDelayMu.Lock()
		if t.rembDelay != nil {
			bitrate = min(bitrate, t.rembDelay.Estimate(int64(t.w.clock.Now()/time.Microsecond)))
		}
		t.rembDelayMu.Unlock()
		t.availableIncoming.Store(bitrate)
		t.logRemb("REMB estimate (available incoming bitrate) changed", &t.logRL.rembSent, bitrate, now)
		if maxIn > 0 && bitrate > uint64(maxIn) {
			bitrate = uint64(maxIn)
		}
		ssrcs = rembSsrcs
	case maxIn > 0 && len(ssrcs) > 0:
		bitrate = uint64(maxIn)
	default:
		return
	}
	t.sendRtcpPackets([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{
		SenderSSRC: 0, Bitrate: float32(bitrate), SSRCs: ssrcs,
	}}, now)
}

// outgoingLimit is the bitrate consumers of this transport should fit in:
// the smaller of setMaxOutgoingBitrate() and the remote's REMB (0: none).
func (t *Transport) outgoingLimit() uint64 {
	limit := uint64(t.maxOutgoingBitrate.Load())
	if a := t.availableOutgoing.Load(); a > 0 && (limit == 0 || a < limit) {
		limit = a
	}
	return limit
}
