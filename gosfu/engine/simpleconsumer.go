package engine

import (
	"github.com/pion/rtcp"

	"github.com/gosfu/gosfu/gosfu/rtpstream"
)

// singleStream is the part shared by the consumers that send one stream
// (simple, simulcast, svc): the consumer's own SSRC (and RTX SSRC) and
// send stream.
type singleStream struct{ c *Consumer }

func (s singleStream) sendStream(ssrc uint32, mediaOnly bool) *rtpstream.SendStream {
	if mediaOnly && ssrc != s.c.ssrc {
		return nil
	}
	return s.c.send
}

func (s singleStream) ssrcs() []uint32 {
	if s.c.rtxSsrc != 0 {
		return []uint32{s.c.ssrc, s.c.rtxSsrc}
	}
	return []uint32{s.c.ssrc}
}

// sendSenderReport sends a Sender Report with the CNAME.
func (s singleStream) sendSenderReport(now int64) {
	c := s.c
	var sr rtcp.SenderReport
	c.mu.Lock()
	ok := c.send.SenderReport(now, c.t.w.clock.Wall(), &sr)
	c.mu.Unlock()
	if !ok {
		return
	}
	pkts := []rtcp.Packet{&sr}
	if c.cname != "" {
		pkts = append(pkts, &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{
			Source: c.ssrc,
			Items:  []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: c.cname}},
		}}})
	}
	c.t.sendRtcpPackets(pkts, now)
}

// stats is the getStats() of a single stream consumer: its send stream,
// then the producer stream it forwards (or wants).
func (s singleStream) stats(now int64) []any {
	c := s.c
	out := []any{c.send.Stats(now)}
	c.producer.recvMu.Lock()
	defer c.producer.recvMu.Unlock()
	idx := c.encodingIdx
	if idx < 0 {
		idx = c.targetIdx
	}
	if idx < len(c.producer.streams) {
		if ps := c.producer.streams[idx]; ps.recv != nil {
			out = append(out, ps.recv.Stats(now))
		}
	}
	return out
}

func (s singleStream) requestKeyFrame(idx int, now int64) { s.c.producer.requestKeyFrame(idx, now) }

// requireSync: the base's syncRequired covers the single stream.
func (singleStream) requireSync() {}

func (singleStream) updateTarget(int64) {}

func (singleStream) preferredLayersSet(int64) {}

// simpleConsumer (type "simple") forwards the single stream of its
// producer as it comes, audio or video.
type simpleConsumer struct{ singleStream }

func (s *simpleConsumer) sendRtp(p *rtpPacket, now int64) { s.c.forwardRtp(p, now, nil) }
