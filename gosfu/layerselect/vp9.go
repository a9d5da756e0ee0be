package layerselect

import "github.com/gosfu/gosfu/gosfu/codecs"

// VP9SVC is the spatial and temporal layer filter of a VP9 SVC (or K-SVC)
// stream. Create it with NewVP9SVC.
//
// The targets (preferred layers) are taken at each new picture (a newer
// RTP timestamp), so that a picture is cut the same way in all its
// packets; lowering a target lowers the current layer at once (every layer
// below the current one is forwarded, so the lower layers' references are
// there in SVC as in K-SVC). Going up a spatial layer waits for a key
// frame (whose picture starts every layer afresh, in SVC as in K-SVC);
// there the current layers jump to the targets. Going up a temporal layer
// happens at the start of a frame of a higher layer (up to the target)
// carrying the switching up point (U) bit, as mediasoup's VP9 handler
// does; in flexible mode (what libwebrtc sends, with U on every frame) the
// frame's references (P_DIFFs) must also all have been forwarded. Packets
// of an older picture are filtered with the current layers. The marker bit
// is set on the last packet (E bit) of the current spatial layer's frame:
// the end of the picture for the receiver when higher layers are dropped.
type VP9SVC struct {
	spatialTarget   int
	temporalTarget  int
	spatialCurrent  int
	temporalCurrent int
	frameTs         uint32
	haveTs          bool
	// spatialSent is the number of spatial layers the stream has, from
	// the latest scalability structure (0 before one): the encoder may send
	// fewer than its scalabilityMode says (libwebrtc: none under 240x135).
	spatialSent int
	// forwarded records the picture ids forwarded, by pictureId % 256
	// (-1: none), for the flexible mode's reference check.
	forwarded [256]int32
}

// NewVP9SVC returns a filter that has forwarded nothing yet.
func NewVP9SVC() *VP9SVC {
	s := &VP9SVC{spatialCurrent: -1, temporalCurrent: -1}
	for i := range s.forwarded {
		s.forwarded[i] = -1
	}
	return s
}

// Reset makes the next packet start a new picture (at a resync).
func (s *VP9SVC) Reset() { s.haveTs = false }

// Spatial is the current spatial layer (-1 before the first key frame).
func (s *VP9SVC) Spatial() int { return s.spatialCurrent }

// Layers returns the current spatial and temporal layers to report, the
// spatial one clamped to the layers the stream has; ok is false before
// the first key frame.
func (s *VP9SVC) Layers() (spatial, temporal int, ok bool) {
	if s.spatialCurrent < 0 {
		return 0, 0, false
	}
	spatial = s.spatialCurrent
	if s.spatialSent > 0 && spatial >= s.spatialSent {
		spatial = s.spatialSent - 1
	}
	return spatial, s.temporalCurrent, true
}

// Forward tells whether a packet (RTP timestamp ts, descriptor d with
// layer indices) passes, given the preferred layers, and whether its
// marker bit must be set.
func (s *VP9SVC) Forward(ts uint32, d *codecs.VP9Descriptor, preferredSpatial, preferredTemporal int) (forward, marker bool) {
	if d.HasSS {
		s.spatialSent = int(d.NumSpatialLayers)
	}
	if newFrame(s.haveTs, ts, s.frameTs) {
		s.haveTs, s.frameTs = true, ts
		s.spatialTarget, s.temporalTarget = preferredSpatial, preferredTemporal
		if s.spatialCurrent > s.spatialTarget {
			s.spatialCurrent = s.spatialTarget
		}
		if s.temporalCurrent > s.temporalTarget {
			s.temporalCurrent = s.temporalTarget
		}
	}
	if ts == s.frameTs {
		if d.KeyFrame {
			s.spatialCurrent, s.temporalCurrent = s.spatialTarget, s.temporalTarget
		} else if s.spatialCurrent >= 0 && d.B && d.SwitchingUp && int(d.TID) > s.temporalCurrent &&
			int(d.TID) <= s.temporalTarget && s.refsForwarded(d) {
			s.temporalCurrent = int(d.TID)
		}
	}
	if s.spatialCurrent < 0 || int(d.SID) > s.spatialCurrent || int(d.TID) > s.temporalCurrent {
		return false, false
	}
	if d.HasPictureID {
		s.forwarded[d.PictureID&0xFF] = int32(d.PictureID)
	}
	return true, d.E && int(d.SID) == s.spatialCurrent
}

// refsForwarded tells whether the pictures a flexible mode frame
// references were forwarded (true outside flexible mode, or without a
// picture id).
func (s *VP9SVC) refsForwarded(d *codecs.VP9Descriptor) bool {
	if !d.F || !d.HasPictureID {
		return true
	}
	mask := uint16(0x7F)
	if d.PictureIDTwoBytes {
		mask = 0x7FFF
	}
	for i := 0; i < int(d.NumPDiffs) && i < len(d.PDiffs); i++ {
		ref := (d.PictureID - uint16(d.PDiffs[i])) & mask
		if s.forwarded[ref&0xFF] != int32(ref) {
			return false
		}
	}
	return true
}
