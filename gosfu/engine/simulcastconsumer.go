package engine

import (
	"strings"

	"github.com/gosfu/gosfu/gosfu/codecs"
	"github.com/gosfu/gosfu/gosfu/layerselect"
	"github.com/gosfu/gosfu/gosfu/logger"
	"github.com/gosfu/gosfu/gosfu/streamallocator"
)

// simulcastConsumer (type "simulcast") forwards one of its producer's
// streams: the preferred spatial layer, or a lower one when it is inactive
// or above the transport's outgoing limit (layerselect.SimulcastTarget).
// The base switches streams on a key frame of the target, keeping
// sequence numbers and timestamps continuous; for VP8 the picture ids
// follow, and temporal layers are filtered.
type simulcastConsumer struct {
	singleStream
	vp8 *vp8Filter // nil unless VP8
}

func newSimulcastConsumer(c *Consumer, mimeType string) *simulcastConsumer {
	s := &simulcastConsumer{singleStream: singleStream{c}}
	if strings.EqualFold(mimeType, "video/VP8") {
		s.vp8 = newVP8Filter(c)
	}
	c.targetIdx = s.activeTarget()
	return s
}

func (s *simulcastConsumer) sendRtp(p *rtpPacket, now int64) { s.c.forwardRtp(p, now, s) }

func (s *simulcastConsumer) filter(p *rtpPacket) (bool, bool) {
	c := s.c
	if c.bwePaused.Load() || (c.bweDropCurrent.Load() && c.targetIdx != c.encodingIdx) {
		if s.vp8 != nil {
			s.vp8.drop(p)
		}
		return false, false
	}
	if s.vp8 == nil {
		return true, false
	}
	return s.vp8.filter(p), false
}

func (s *simulcastConsumer) rewrite(payload []byte) {
	if s.vp8 != nil {
		s.vp8.rewrite(payload)
	}
}

func (s *simulcastConsumer) sync() {
	if s.vp8 != nil {
		s.vp8.sync()
	}
}

func (s *simulcastConsumer) layers() (int, int) {
	temporal := s.c.maxTemporal
	if s.vp8 != nil && s.vp8.temporal && s.vp8.tl.Current() >= 0 {
		temporal = s.vp8.tl.Current()
	}
	return s.c.encodingIdx, temporal
}

func (s *simulcastConsumer) preferredLayersSet(now int64) { s.updateTarget(now) }

// updateTarget picks the stream to forward and asks for its key frame
// when it changes.
func (s *simulcastConsumer) updateTarget(now int64) {
	c := s.c
	target := s.activeTarget()
	c.mu.Lock()
	changed := target != c.targetIdx
	prevTarget, current := c.targetIdx, c.encodingIdx
	c.targetIdx = target
	needKeyFrame := changed && target != c.encodingIdx
	c.mu.Unlock()
	if changed {
		c.log.Debugf(logger.TagSimulcast, "target encoding changed [consumerId:%s, from:%d, to:%d, current:%d]", c.id, prevTarget, target, current)
	}
	if needKeyFrame && c.active() {
		c.producer.requestKeyFrame(target, now)
	}
}

// activeTarget is the stream of the preferred spatial layer, lowered to
// an active one within the transport's outgoing limit.
func (s *simulcastConsumer) activeTarget() int {
	c := s.c
	want := 0
	if n := len(c.producer.streams); n > 1 {
		want = min(max(int(c.preferredSpatial.Load()), 0), n-1)
	}
	if len(c.producer.streams) <= 1 {
		return want
	}
	limit := c.t.outgoingLimit()
	if a := int(c.allocSpatial.Load()); a >= 0 {
		// The transport's allocation already fitted the layer in the
		// estimate (congestioncontrol.go).
		want, limit = min(want, a), 0
	} else if a == -1 {
		limit = 0
	}
	active, bitrates := c.producer.streamStates(c.t.w.nowMs())
	return layerselect.SimulcastTarget(want, active, bitrates, limit)
}

// bweSteps lists the layers allocation may choose: each active stream up
// to the preferred spatial layer, and within it each temporal layer up to
// the preferred one, with what receiving it costs.
func (s *simulcastConsumer) bweSteps(now int64) []streamallocator.Step {
	c := s.c
	active, rates := c.producer.layerBitrates(now)
	maxS := min(int(c.preferredSpatial.Load()), len(active)-1)
	maxT := min(int(c.preferredTemporal.Load()), maxLayers-1)
	if s.vp8 == nil || !s.vp8.temporal {
		maxT = 0
	}
	// Above the lowest stream, frame rate is not traded for resolution
	// below half the full rate: with three temporal layers (L1T3, 7.5 /
	// 15 / 30 fps) a higher stream starts at its second one.
	minT := max(0, maxT-1)
	var steps []streamallocator.Step
	lowest := true
	for sl := 0; sl <= maxS; sl++ {
		if !active[sl] {
			continue
		}
		var total uint64
		for tl := range maxLayers {
			total += rates[sl][0][tl]
		}
		if total == 0 {
			continue
		}
		var cum uint64
		for tl := 0; tl <= maxT; tl++ {
			cum += rates[sl][0][tl]
			if tl == maxT {
				// The top step carries every layer the stream has, also
				// those the descriptor does not announce.
				cum = total
			}
			if !lowest && tl < minT {
				continue
			}
			steps = append(steps, streamallocator.Step{Spatial: sl, Temporal: tl, Bitrate: cum})
		}
		lowest = false
	}
	return steps
}

// vp8Filter keeps VP8 picture ids and TL0PICIDX continuous across
// simulcast stream switches and dropped temporal layer frames (without it
// a receiver takes the new stream's key frame for an old frame) and, when
// the stream has temporal layers, drops those above the wanted one, as
// mediasoup does. Used by simulcast consumers and by svc consumers of a
// VP8 L1Tn stream. Guarded by the consumer's mu.
type vp8Filter struct {
	c        *Consumer
	rw       codecs.VP8PictureIDRewriter
	desc     codecs.VP8Descriptor
	temporal bool
	tl       layerselect.VP8Temporal
	// the picture id and TL0PICIDX of the packet filter passed last, when
	// mapped.
	pic    uint16
	tl0    uint8
	mapped bool
}

func newVP8Filter(c *Consumer) *vp8Filter {
	return &vp8Filter{c: c, temporal: c.maxTemporal > 0, tl: layerselect.NewVP8Temporal()}
}

// filter applies the temporal layer filter, then maps the picture id.
func (f *vp8Filter) filter(p *rtpPacket) bool {
	f.mapped = false
	payload := unpadded(p)
	if len(payload) == 0 || f.desc.Unmarshal(payload) != nil {
		return true
	}
	if f.temporal && !f.tl.Forward(p.hdr.Timestamp, p.keyFrame, &f.desc, f.rw.IsOld(&f.desc), f.c.targetTemporal()) {
		f.rw.Drop(&f.desc)
		return false
	}
	// A late packet of a dropped picture fails to map.
	f.pic, f.tl0, f.mapped = f.rw.Map(&f.desc)
	return f.mapped
}

// drop keeps the picture id continuous over a packet not forwarded.
func (f *vp8Filter) drop(p *rtpPacket) {
	f.mapped = false
	payload := unpadded(p)
	if len(payload) > 0 && f.desc.Unmarshal(payload) == nil {
		f.rw.Drop(&f.desc)
	}
}

func (f *vp8Filter) rewrite(payload []byte) {
	if f.mapped {
		codecs.VP8Rewrite(payload, &f.desc, f.pic, f.tl0)
	}
}

func (f *vp8Filter) sync() {
	f.rw.Sync()
	f.tl.Reset()
}
