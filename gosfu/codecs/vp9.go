package codecs

// VP9Descriptor is the VP9 RTP payload descriptor (RFC 9628 section 4.2).
type VP9Descriptor struct {
	// Flag bits of the first byte.
	I, P, L, F, B, E, V, Z bool

	HasPictureID      bool
	PictureIDTwoBytes bool
	PictureID         uint16

	// HasLayerIndices is true when the L bit is set and the layer byte
	// was read.
	HasLayerIndices bool
	TID             uint8
	// SwitchingUp is the U bit.
	SwitchingUp bool
	SID         uint8
	// InterLayerDependency is the D bit.
	InterLayerDependency bool

	// HasTL0PicIdx is true in non-flexible mode when layer indices are present.
	HasTL0PicIdx bool
	TL0PicIdx    uint8

	// NumPDiffs and PDiffs hold the reference indices of flexible mode.
	NumPDiffs uint8
	PDiffs    [3]uint8

	// Scalability structure (V bit), when present.
	HasSS bool
	// NumSpatialLayers is N_S + 1.
	NumSpatialLayers uint8
	// Widths and Heights of each spatial layer when the Y bit was set.
	HasResolution bool
	Widths        [8]uint16
	Heights       [8]uint16

	PictureIDOffset int
	TL0PicIdxOffset int
	// HeaderSize is the descriptor length; the VP9 payload starts there.
	HeaderSize int

	// KeyFrame is true for the first packet of a key frame of the base
	// spatial layer: not inter-picture predicted (P=0), beginning of a frame
	// (B=1) and spatial id 0.
	KeyFrame bool
}

// Unmarshal parses the descriptor at the start of payload.
func (d *VP9Descriptor) Unmarshal(payload []byte) error {
	*d = VP9Descriptor{}
	if len(payload) < 1 {
		return ErrShortPayload
	}
	b := payload[0]
	d.I = b&0x80 != 0
	d.P = b&0x40 != 0
	d.L = b&0x20 != 0
	d.F = b&0x10 != 0
	d.B = b&0x08 != 0
	d.E = b&0x04 != 0
	d.V = b&0x02 != 0
	d.Z = b&0x01 != 0
	off := 1
	if d.I {
		if len(payload) < off+1 {
			return ErrShortPayload
		}
		d.HasPictureID = true
		d.PictureIDOffset = off
		if payload[off]&0x80 != 0 {
			if len(payload) < off+2 {
				return ErrShortPayload
			}
			d.PictureIDTwoBytes = true
			d.PictureID = uint16(payload[off]&0x7F)<<8 | uint16(payload[off+1])
			off += 2
		} else {
			d.PictureID = uint16(payload[off] & 0x7F)
			off++
		}
	}
	if d.L {
		if len(payload) < off+1 {
			return ErrShortPayload
		}
		lb := payload[off]
		off++
		d.HasLayerIndices = true
		d.TID = lb >> 5
		d.SwitchingUp = lb&0x10 != 0
		d.SID = (lb >> 1) & 0x07
		d.InterLayerDependency = lb&0x01 != 0
		if !d.F {
			if len(payload) < off+1 {
				return ErrShortPayload
			}
			d.HasTL0PicIdx = true
			d.TL0PicIdxOffset = off
			d.TL0PicIdx = payload[off]
			off++
		}
	}
	if d.F && d.P {
		for {
			if len(payload) < off+1 {
				return ErrShortPayload
			}
			pd := payload[off]
			off++
			if d.NumPDiffs < uint8(len(d.PDiffs)) {
				d.PDiffs[d.NumPDiffs] = pd >> 1
				d.NumPDiffs++
			} else {
				return ErrShortPayload
			}
			if pd&0x01 == 0 {
				break
			}
		}
	}
	if d.V {
		n, err := d.parseSS(payload[off:])
		if err != nil {
			return err
		}
		off += n
	}
	d.HeaderSize = off
	d.KeyFrame = !d.P && d.B && d.SID == 0
	return nil
}

// parseSS parses the scalability structure and returns its length.
func (d *VP9Descriptor) parseSS(p []byte) (int, error) {
	if len(p) < 1 {
		return 0, ErrShortPayload
	}
	h := p[0]
	off := 1
	d.HasSS = true
	d.NumSpatialLayers = h>>5 + 1
	hasY := h&0x10 != 0
	hasG := h&0x08 != 0
	if hasY {
		d.HasResolution = true
		for i := 0; i < int(d.NumSpatialLayers); i++ {
			if len(p) < off+4 {
				return 0, ErrShortPayload
			}
			d.Widths[i] = uint16(p[off])<<8 | uint16(p[off+1])
			d.Heights[i] = uint16(p[off+2])<<8 | uint16(p[off+3])
			off += 4
		}
	}
	if hasG {
		if len(p) < off+1 {
			return 0, ErrShortPayload
		}
		ng := int(p[off])
		off++
		for i := 0; i < ng; i++ {
			if len(p) < off+1 {
				return 0, ErrShortPayload
			}
			nr := int(p[off]>>2) & 0x03
			off += 1 + nr
			if len(p) < off {
				return 0, ErrShortPayload
			}
		}
	}
	return off, nil
}

// VP9IsKeyFrame reports whether a VP9 RTP payload starts a key frame.
func VP9IsKeyFrame(payload []byte) bool {
	var d VP9Descriptor
	return d.Unmarshal(payload) == nil && d.KeyFrame
}
