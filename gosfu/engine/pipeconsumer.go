package engine

import (
	"math/rand/v2"

	"github.com/pion/rtcp"

	"github.com/gosfu/gosfu/gosfu/ortc"
	"github.com/gosfu/gosfu/gosfu/rtpstream"
	"github.com/gosfu/gosfu/gosfu/seqmanager"
)

// A pipe consumer (type "pipe": any consumer of a PipeTransport, or one
// created with pipe: true) forwards every encoding of its producer, each
// as its own stream: the SSRC of the matching encoding of its parameters,
// its own sequence numbers (synced on a key frame for video), its own send
// state (NACK/RTX, Sender Reports). Timestamps, marker and payload pass
// unchanged: the router at the other end is a producer of all the streams.

// pipeConsumer is the consumerImpl of type "pipe". Its state is guarded by
// the consumer's mu.
type pipeConsumer struct {
	c *Consumer
	// streams has one outgoing stream per producer encoding.
	streams []*pipeStream
}

// pipeStream is one outgoing stream of a pipe consumer. Its state is
// guarded by the consumer's mu.
type pipeStream struct {
	ssrc    uint32
	rtxSsrc uint32
	send    *rtpstream.SendStream
	seq     *seqmanager.SeqManager[uint16]
	// syncRequired: the next packet forwarded (a key frame for video)
	// restarts the sequence.
	syncRequired bool
}

// newPipeConsumer gives c one stream per encoding of params; cfg is the
// send configuration of the media codec, rtxPT the RTX payload type (-1:
// none). c.send and c.seq alias the first stream, so the code shared with
// the other consumer types still has a stream to look at.
func newPipeConsumer(c *Consumer, cfg rtpstream.SendConfig, params *ortc.RtpParameters, rtxPT int) *pipeConsumer {
	pc := &pipeConsumer{c: c}
	for _, e := range params.Encodings {
		s := &pipeStream{seq: seqmanager.New[uint16](uint16(rand.IntN(0x7fff))), syncRequired: true}
		if e.Ssrc != nil {
			s.ssrc = *e.Ssrc
		}
		scfg := cfg
		scfg.SSRC = s.ssrc
		scfg.RtxSSRC, scfg.RtxPayloadType = 0, 0
		if e.Rtx != nil && rtxPT >= 0 {
			s.rtxSsrc = e.Rtx.Ssrc
			scfg.RtxSSRC, scfg.RtxPayloadType = s.rtxSsrc, uint8(rtxPT)
		}
		scfg.InitialRtxSeq = uint16(rand.IntN(0xffff))
		s.send = rtpstream.NewSendStream(scfg)
		pc.streams = append(pc.streams, s)
	}
	if len(pc.streams) > 0 {
		c.send, c.seq = pc.streams[0].send, pc.streams[0].seq
	}
	return pc
}

func (pc *pipeConsumer) ssrcs() []uint32 {
	out := make([]uint32, 0, 2*len(pc.streams))
	for _, s := range pc.streams {
		out = append(out, s.ssrc)
		if s.rtxSsrc != 0 {
			out = append(out, s.rtxSsrc)
		}
	}
	return out
}

func (pc *pipeConsumer) sendStream(ssrc uint32, mediaOnly bool) *rtpstream.SendStream {
	for _, s := range pc.streams {
		if s.ssrc == ssrc || (!mediaOnly && s.rtxSsrc != 0 && s.rtxSsrc == ssrc) {
			return s.send
		}
	}
	return nil
}

// requestKeyFrame asks for a key frame of every stream, as mediasoup does.
func (pc *pipeConsumer) requestKeyFrame(_ int, now int64) {
	for i := range pc.streams {
		pc.c.producer.requestKeyFrame(i, now)
	}
}

func (pc *pipeConsumer) requireSync() {
	for _, s := range pc.streams {
		s.syncRequired = true
	}
}

// A pipe consumer forwards every stream and has no layers to pick.
func (pc *pipeConsumer) updateTarget(int64) {}

func (pc *pipeConsumer) preferredLayersSet(int64) {}

// sendRtp forwards one mapped producer packet on the stream of its
// encoding. Called by the producer's fan-out; must not block.
func (pc *pipeConsumer) sendRtp(p *rtpPacket, now int64) {
	c := pc.c
	if !c.active() || p.encodingIdx < 0 || p.encodingIdx >= len(pc.streams) {
		return
	}
	s := pc.streams[p.encodingIdx]
	payloadLen := len(p.payload)
	if p.hdr.Padding && payloadLen > 0 && int(p.payload[payloadLen-1]) <= payloadLen {
		payloadLen -= int(p.payload[payloadLen-1])
	}
	c.mu.Lock()
	if p.hdr.PayloadType > 127 || !c.ptAllowed[p.hdr.PayloadType] || (payloadLen == 0 && !s.syncRequired) {
		// A codec the remote does not take, or padding only: leave no
		// hole in the sequence.
		if !s.syncRequired {
			s.seq.Drop(p.hdr.SequenceNumber)
		}
		c.mu.Unlock()
		return
	}
	if s.syncRequired {
		if (c.kind == "video" && !p.keyFrame) || payloadLen == 0 {
			c.mu.Unlock()
			return
		}
		s.seq.Sync(p.hdr.SequenceNumber - 1)
		s.syncRequired = false
	}
	seq, ok := s.seq.Input(p.hdr.SequenceNumber)
	if !ok {
		c.mu.Unlock()
		return
	}
	hdr := p.hdr
	hdr.SSRC = s.ssrc
	hdr.SequenceNumber = seq
	hdr.Extensions = c.extScratch[:0]
	hdr.Extension = false
	hdr.ExtensionProfile = 0
	if p.hdr.Extension {
		for _, id := range c.extIDs {
			if v := p.hdr.GetExtension(id); v != nil {
				_ = hdr.SetExtension(id, v)
			}
		}
	}
	c.extScratch = hdr.Extensions
	size := hdr.MarshalSize() + len(p.payload)
	if size > len(c.buf) {
		c.buf = make([]byte, max(size, 1500))
	}
	n, err := hdr.MarshalTo(c.buf)
	if err != nil {
		c.mu.Unlock()
		return
	}
	copy(c.buf[n:], p.payload)
	b := c.buf[:size]
	if s.send.SendPacketShared(b, &p.shared, now) == rtpstream.SendDiscarded {
		c.mu.Unlock()
		return
	}
	c.t.sendRtp(c, b, trafficRtp, now)
	c.mu.Unlock()
	c.traceRtp(hdr.SSRC, seq, hdr.Timestamp, p.keyFrame)
}

// sendSenderReport sends one Sender Report per stream that sent
// something, with the CNAME of each.
func (pc *pipeConsumer) sendSenderReport(now int64) {
	c := pc.c
	var pkts []rtcp.Packet
	var sdes rtcp.SourceDescription
	wall := c.t.w.clock.Wall()
	c.mu.Lock()
	for _, s := range pc.streams {
		sr := &rtcp.SenderReport{}
		if !s.send.SenderReport(now, wall, sr) {
			continue
		}
		pkts = append(pkts, sr)
		if c.cname != "" {
			sdes.Chunks = append(sdes.Chunks, rtcp.SourceDescriptionChunk{
				Source: s.ssrc,
				Items:  []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: c.cname}},
			})
		}
	}
	c.mu.Unlock()
	if len(sdes.Chunks) > 0 {
		pkts = append(pkts, &sdes)
	}
	c.t.sendRtcpPackets(pkts, now)
}

// stats is the getStats() of a pipe consumer: its streams.
func (pc *pipeConsumer) stats(now int64) []any {
	out := []any{}
	for _, s := range pc.streams {
		out = append(out, s.send.Stats(now))
	}
	return out
}
