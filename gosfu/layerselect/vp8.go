package layerselect

import "github.com/gosfu/gosfu/gosfu/codecs"

// VP8Temporal is the temporal layer filter of a VP8 stream. The zero
// value is not ready: use NewVP8Temporal.
//
// As mediasoup's VP8 handler: packets without TID or 15 bit picture id
// pass, and so do TL0 packets and late ones (an older picture than the
// newest seen: the picture id rewriter refuses those of dropped pictures).
// Otherwise a packet passes when its TID is at most the current layer; a
// higher TID, up to the target, passes when its frame is a layer sync (Y)
// frame, which depends on TL0 frames only, and raises the current layer to
// it. A key frame resets every VP8 reference buffer, so the current layer
// goes straight to the target there. The target (the preferred temporal
// layer) is taken at each new frame, so that a frame is forwarded whole or
// not at all; lowering it lowers the current layer at once.
type VP8Temporal struct {
	target  int
	current int
	frameTs uint32
	haveTs  bool
}

// NewVP8Temporal returns a filter that has forwarded nothing yet.
func NewVP8Temporal() VP8Temporal {
	return VP8Temporal{current: -1}
}

// Reset makes the next packet start a new frame (at a stream switch or
// resync: the new stream's timestamps are unrelated to the old ones).
func (s *VP8Temporal) Reset() { s.haveTs = false }

// Current is the highest temporal layer forwarded (-1 before the first
// packet).
func (s *VP8Temporal) Current() int { return s.current }

// Forward tells whether a packet (RTP timestamp ts, key frame flag,
// descriptor d) passes, and moves the current layer. old tells whether the
// packet's picture is older than the newest seen; preferred is the wanted
// temporal layer.
func (s *VP8Temporal) Forward(ts uint32, keyFrame bool, d *codecs.VP8Descriptor, old bool, preferred int) bool {
	if newFrame(s.haveTs, ts, s.frameTs) {
		s.haveTs, s.frameTs = true, ts
		s.target = preferred
	}
	if s.current > s.target {
		s.current = s.target
	}
	if keyFrame {
		s.current = s.target
		return true
	}
	if !d.HasTID || d.TID == 0 || !d.HasPictureID || !d.PictureIDTwoBytes || old {
		return true
	}
	tid := int(d.TID)
	if tid <= s.current {
		return true
	}
	if tid <= s.target && d.LayerSync && s.current >= 0 {
		s.current = tid
		return true
	}
	return false
}
