package engine

import (
	"net/netip"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gosfu/gosfu/gosfu/logger"
)

// Log lines an operator needs, by mediasoup logTag. Each helper checks its
// level and tag before building anything: the call sites on the packet
// path pass typed values (no boxing into ...any), so a disabled line costs
// one atomic load and no allocation. Lines that can follow packets are
// rate-limited per transport (logger.RateLimit): a flood yields a few
// lines and a "suppressed" count, never a line per packet.

// transportLogLimits are a transport's rate limits of per-packet lines.
type transportLogLimits struct {
	unknownTuple logger.RateLimit
	srtpRecv     logger.RateLimit
	srtpNotReady logger.RateLimit
	srtpSend     logger.RateLimit
	dtlsDrop     logger.RateLimit
	badRtp       logger.RateLimit
	badRtcp      logger.RateLimit
	unknownSsrc  logger.RateLimit
	rtx          logger.RateLimit
	nackSent     logger.RateLimit
	nackRecv     logger.RateLimit
	keyFrameRecv logger.RateLimit
	noConsumer   logger.RateLimit
	bwe          logger.RateLimit
	sctpMessage  logger.RateLimit
	// The last REMB bitrates logged, received and sent.
	rembRecv atomic.Uint64
	rembSent atomic.Uint64
}

// logDrop writes a rate-limited line about a dropped packet: what names it
// ("ignoring RTP packet from an unknown tuple").
func (t *Transport) logDrop(level logger.Level, tag logger.Tag, rl *logger.RateLimit, now int64, what string) {
	if !t.log.On(level, tag) {
		return
	}
	if ok, skipped := rl.Allow(now); ok {
		if level == logger.LevelWarn {
			t.log.Warnf(tag, "%s [transportId:%s, suppressed:%d]", what, t.id, skipped)
		} else {
			t.log.Debugf(tag, "%s [transportId:%s, suppressed:%d]", what, t.id, skipped)
		}
	}
}

// logSrtpError reports an SRTP/SRTCP decrypt (authentication, replay) or
// encrypt failure, rate-limited.
func (t *Transport) logSrtpError(rtcpPacket, decrypt bool, err error, now int64) {
	if !t.log.On(logger.LevelWarn, logger.TagSrtp) {
		return
	}
	rl, op := &t.logRL.srtpSend, "encrypt"
	if decrypt {
		rl, op = &t.logRL.srtpRecv, "decrypt"
	}
	kind := "RTP"
	if rtcpPacket {
		kind = "RTCP"
	}
	if ok, skipped := rl.Allow(now); ok {
		t.log.Warnf(logger.TagSrtp, "SRTP %s of %s packet failed, dropped [transportId:%s, suppressed:%d]: %v", op, kind, t.id, skipped, err)
	}
}

// logUnknownSsrc reports an RTP packet no producer (or producer stream)
// takes, rate-limited.
func (t *Transport) logUnknownSsrc(ssrc uint32, pt uint8, now int64) {
	if !t.log.On(logger.LevelWarn, logger.TagRtp) {
		return
	}
	if ok, skipped := t.logRL.unknownSsrc.Allow(now); ok {
		t.log.Warnf(logger.TagRtp, "no Producer stream for received RTP packet, dropped [transportId:%s, ssrc:%d, payloadType:%d, suppressed:%d]",
			t.id, ssrc, pt, skipped)
	}
}

// logRtcpFeedback reports a NACK, PLI or FIR received from the remote for
// one of this transport's consumers (c nil: no consumer sends that SSRC).
func (t *Transport) logRtcpFeedback(pkt rtcp.Packet, ssrc uint32, c *Consumer, now int64) {
	var tag logger.Tag
	var rl *logger.RateLimit
	var what string
	switch pkt.(type) {
	case *rtcp.TransportLayerNack:
		if c != nil {
			// The consumer logs what it resent (logRetransmitted).
			return
		}
		tag, what = logger.TagRtx|logger.TagRtcp, "NACK"
	case *rtcp.PictureLossIndication:
		tag, rl, what = logger.TagRtcp, &t.logRL.keyFrameRecv, "PLI"
	case *rtcp.FullIntraRequest:
		tag, rl, what = logger.TagRtcp, &t.logRL.keyFrameRecv, "FIR"
	default:
		return
	}
	if !t.log.On(logger.LevelDebug, tag) {
		return
	}
	if c == nil {
		rl = &t.logRL.noConsumer
	}
	ok, skipped := rl.Allow(now)
	switch {
	case !ok:
	case c == nil:
		t.log.Debugf(tag, "no Consumer for received %s [transportId:%s, ssrc:%d, suppressed:%d]", what, t.id, ssrc, skipped)
	default:
		t.log.Debugf(tag, "%s received, requesting key frame [transportId:%s, consumerId:%s, ssrc:%d, suppressed:%d]",
			what, t.id, c.id, ssrc, skipped)
	}
}

// nackCount is how many packets a NACK asks for.
func nackCount(n *rtcp.TransportLayerNack) int {
	count := 0
	for _, p := range n.Nacks {
		count++
		for b := p.LostPackets; b != 0; b &= b - 1 {
			count++
		}
	}
	return count
}

// logRemb reports a bandwidth figure (the remote's REMB, or the REMB this
// transport sends) when it moved by 10% or more since the last one logged.
func (t *Transport) logRemb(what string, last *atomic.Uint64, bitrate uint64, now int64) {
	if !t.log.On(logger.LevelDebug, logger.TagBwe) {
		return
	}
	prev := last.Load()
	if prev != 0 && bitrate*10 < prev*11 && bitrate*10 > prev*9 {
		return
	}
	if ok, skipped := t.logRL.bwe.Allow(now); ok {
		last.Store(bitrate)
		t.log.Debugf(logger.TagBwe, "%s [transportId:%s, bitrate:%d, previous:%d, suppressed:%d]", what, t.id, bitrate, prev, skipped)
	}
}

// logNewStream reports the first packet of a producer stream (encoding).
func (p *Producer) logNewStream(hdr *rtp.Header, idx int) {
	if !p.log.On(logger.LevelDebug, logger.TagRtp) {
		return
	}
	p.recvMu.Lock()
	var rid, mime string
	if idx >= 0 && idx < len(p.streams) {
		rid, mime = p.streams[idx].rid, p.streams[idx].mimeType
	}
	p.recvMu.Unlock()
	p.log.Debugf(logger.TagRtp, "new RTP stream [producerId:%s, encodingIdx:%d, ssrc:%d, rid:%q, mimeType:%s, payloadType:%d]",
		p.id, idx, hdr.SSRC, rid, mime, hdr.PayloadType&0x7f)
}

// logRtx reports a packet recovered through RTX, rate-limited.
func (p *Producer) logRtx(rtxSsrc uint32, osn uint16, now int64) {
	if !p.log.On(logger.LevelDebug, logger.TagRtx) {
		return
	}
	if ok, skipped := p.t.logRL.rtx.Allow(now); ok {
		p.log.Debugf(logger.TagRtx, "RTX packet received [producerId:%s, rtxSsrc:%d, seq:%d, suppressed:%d]", p.id, rtxSsrc, osn, skipped)
	}
}

// logNackSent reports a NACK sent to the remote sender, rate-limited.
func (p *Producer) logNackSent(nack *rtcp.TransportLayerNack, now int64) {
	tag := logger.TagRtx | logger.TagRtcp
	if !p.log.On(logger.LevelDebug, tag) {
		return
	}
	if ok, skipped := p.t.logRL.nackSent.Allow(now); ok {
		p.log.Debugf(tag, "NACK sent [producerId:%s, ssrc:%d, lost:%d, suppressed:%d]", p.id, nack.MediaSSRC, nackCount(nack), skipped)
	}
}

// logKeyFrameRequest reports a PLI or FIR sent to the remote sender (the
// key frame request manager already throttles them).
func (p *Producer) logKeyFrameRequest(pkt rtcp.Packet) {
	tag := logger.TagRtcp | logger.TagRtx
	if !p.log.On(logger.LevelDebug, tag) {
		return
	}
	switch k := pkt.(type) {
	case *rtcp.PictureLossIndication:
		p.log.Debugf(tag, "requesting key frame with PLI [producerId:%s, ssrc:%d]", p.id, k.MediaSSRC)
	case *rtcp.FullIntraRequest:
		var ssrc uint32
		if len(k.FIR) > 0 {
			ssrc = k.FIR[0].SSRC
		}
		p.log.Debugf(tag, "requesting key frame with FIR [producerId:%s, ssrc:%d]", p.id, ssrc)
	}
}

// logLayers reports a change of the layers a simulcast or SVC consumer
// forwards (the layerschange event).
func (c *Consumer) logLayers(spatial, temporal int) {
	tag := logger.TagSimulcast
	if c.typ == "svc" {
		tag = logger.TagSvc
	}
	c.log.Debugf(tag, "forwarded layers changed [consumerId:%s, spatialLayer:%d, temporalLayer:%d]", c.id, spatial, temporal)
}

// logRetransmitted reports what a NACK from the remote made this consumer
// resend, rate-limited.
func (c *Consumer) logRetransmitted(nack *rtcp.TransportLayerNack, resent int, now int64) {
	if !c.log.On(logger.LevelDebug, logger.TagRtx) {
		return
	}
	if ok, skipped := c.t.logRL.nackRecv.Allow(now); ok {
		c.log.Debugf(logger.TagRtx, "packets retransmitted for NACK [consumerId:%s, ssrc:%d, asked:%d, resent:%d, suppressed:%d]",
			c.id, nack.MediaSSRC, nackCount(nack), resent, skipped)
	}
}

// logMessageDrop reports a dropped SCTP/data message, rate-limited per
// transport: streamID -1 when there is none (DirectTransport), err nil
// when there is no error to show.
func (t *Transport) logMessageDrop(level logger.Level, tag logger.Tag, what string, streamID, size int, err error) {
	if !t.log.On(level, tag) {
		return
	}
	ok, skipped := t.logRL.sctpMessage.Allow(t.w.nowMs())
	switch {
	case !ok:
	case err != nil:
		t.log.Debugf(tag, "%s [transportId:%s, streamId:%d, len:%d, suppressed:%d]: %v", what, t.id, streamID, size, skipped, err)
	case level == logger.LevelWarn:
		t.log.Warnf(tag, "%s [transportId:%s, streamId:%d, len:%d, suppressed:%d]", what, t.id, streamID, size, skipped)
	default:
		t.log.Debugf(tag, "%s [transportId:%s, streamId:%d, len:%d, suppressed:%d]", what, t.id, streamID, size, skipped)
	}
}

// logUnknownRemote reports a packet from an address other than the remote
// tuple of a PlainTransport or PipeTransport, rate-limited.
func (t *Transport) logUnknownRemote(from netip.AddrPort) {
	if !t.log.On(logger.LevelWarn, logger.TagRtp) {
		return
	}
	if ok, skipped := t.logRL.unknownTuple.Allow(t.w.nowMs()); ok {
		t.log.Warnf(logger.TagRtp, "ignoring packet from an address other than the remote tuple [transportId:%s, from:%s, suppressed:%d]", t.id, from, skipped)
	}
}

// logTupleLearned reports the remote tuple a comedia transport learned.
func (t *Transport) logTupleLearned(from netip.AddrPort, rtcpPath bool) {
	t.log.Debugf(logger.TagRtp, "remote tuple learned (comedia) [transportId:%s, remote:%s, rtcp:%t]", t.id, from, rtcpPath)
}
