package codecs

// VP8Descriptor is the VP8 RTP payload descriptor (RFC 7741 section 4.2).
type VP8Descriptor struct {
	// Extended is the X bit: the extension byte is present.
	Extended bool
	// NonReference is the N bit: the frame can be discarded.
	NonReference bool
	// Start is the S bit: first packet of a partition.
	Start bool
	// PartitionID is the PID field.
	PartitionID uint8

	HasPictureID bool
	// PictureIDTwoBytes tells whether the picture id uses the 15 bit form.
	PictureIDTwoBytes bool
	PictureID         uint16

	HasTL0PicIdx bool
	TL0PicIdx    uint8

	// HasTID is true when the T bit is set.
	HasTID bool
	TID    uint8
	// LayerSync is the Y bit.
	LayerSync bool

	HasKeyIdx bool
	KeyIdx    uint8

	// PictureIDOffset is the payload offset of the picture id (0 if none).
	PictureIDOffset int
	// TL0PicIdxOffset is the payload offset of TL0PICIDX (0 if none).
	TL0PicIdxOffset int
	// HeaderSize is the descriptor length; the VP8 payload starts there.
	HeaderSize int

	// KeyFrame is true when this packet starts a key frame: S=1, PID=0 and
	// the inverse key frame bit of the VP8 payload header is 0.
	KeyFrame bool
}

// Unmarshal parses the descriptor at the start of payload.
func (d *VP8Descriptor) Unmarshal(payload []byte) error {
	*d = VP8Descriptor{}
	if len(payload) < 1 {
		return ErrShortPayload
	}
	b := payload[0]
	d.Extended = b&0x80 != 0
	d.NonReference = b&0x20 != 0
	d.Start = b&0x10 != 0
	d.PartitionID = b & 0x07
	off := 1
	if d.Extended {
		if len(payload) < off+1 {
			return ErrShortPayload
		}
		x := payload[off]
		off++
		hasI := x&0x80 != 0
		hasL := x&0x40 != 0
		hasT := x&0x20 != 0
		hasK := x&0x10 != 0
		if hasI {
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
		if hasL {
			if len(payload) < off+1 {
				return ErrShortPayload
			}
			d.HasTL0PicIdx = true
			d.TL0PicIdxOffset = off
			d.TL0PicIdx = payload[off]
			off++
		}
		if hasT || hasK {
			if len(payload) < off+1 {
				return ErrShortPayload
			}
			tk := payload[off]
			off++
			if hasT {
				d.HasTID = true
				d.TID = tk >> 6
				d.LayerSync = tk&0x20 != 0
			}
			if hasK {
				d.HasKeyIdx = true
				d.KeyIdx = tk & 0x1F
			}
		}
	}
	d.HeaderSize = off
	if off < len(payload) && d.Start && d.PartitionID == 0 && payload[off]&0x01 == 0 {
		d.KeyFrame = true
	}
	return nil
}

// VP8IsKeyFrame reports whether a VP8 RTP payload starts a key frame.
func VP8IsKeyFrame(payload []byte) bool {
	var d VP8Descriptor
	return d.Unmarshal(payload) == nil && d.KeyFrame
}

// VP8Rewrite overwrites, in place, the picture id and TL0PICIDX of a VP8
// payload whose descriptor d was parsed from it. A 7 bit picture id field
// receives the low 7 bits of pictureID. Fields absent from the packet are
// left alone. It returns false if the payload does not match d.
func VP8Rewrite(payload []byte, d *VP8Descriptor, pictureID uint16, tl0PicIdx uint8) bool {
	if len(payload) < d.HeaderSize {
		return false
	}
	if d.HasPictureID {
		o := d.PictureIDOffset
		if d.PictureIDTwoBytes {
			payload[o] = 0x80 | byte(pictureID>>8)&0x7F
			payload[o+1] = byte(pictureID)
		} else {
			payload[o] = byte(pictureID) & 0x7F
		}
	}
	if d.HasTL0PicIdx {
		payload[d.TL0PicIdxOffset] = tl0PicIdx
	}
	return true
}

// VP8ExpandPictureID copies payload into dst turning a 7 bit picture id into
// the 15 bit form (one byte longer), so that a rewriter can use the whole 15
// bit range. It returns the number of bytes written to dst, or 0 if dst is
// too small or the payload has no 7 bit picture id (then nothing is
// written). dst and payload must not overlap.
func VP8ExpandPictureID(dst, payload []byte, d *VP8Descriptor) int {
	if !d.HasPictureID || d.PictureIDTwoBytes || len(payload) < d.HeaderSize || len(dst) < len(payload)+1 {
		return 0
	}
	o := d.PictureIDOffset
	copy(dst, payload[:o])
	dst[o] = 0x80
	dst[o+1] = payload[o] & 0x7F
	copy(dst[o+2:], payload[o+1:])
	return len(payload) + 1
}

// VP8PictureIDRewriter keeps the picture id and TL0PICIDX of an outgoing
// VP8 stream continuous across source switches and dropped frames. Feed
// every forwarded packet to Rewrite (in place); call Sync when the source
// changes (before its first, key frame, packet).
//
// Picture ids use the 15 bit space; packets carrying a 7 bit picture id get
// the low 7 bits of the continuous value.
type VP8PictureIDRewriter struct {
	started    bool
	syncing    bool
	picOffset  uint16
	tl0Offset  uint8
	maxPicOut  uint16
	maxTl0Out  uint8
	haveTl0Out bool
}

// Sync makes the next packet start a new mapping whose picture id follows
// the highest emitted one.
func (r *VP8PictureIDRewriter) Sync() { r.syncing = true }

// Rewrite rewrites the picture id and TL0PICIDX of payload (described by d,
// which is updated) and returns false if the payload is malformed.
func (r *VP8PictureIDRewriter) Rewrite(payload []byte, d *VP8Descriptor) bool {
	if !d.HasPictureID && !d.HasTL0PicIdx {
		return true
	}
	if r.syncing && r.started {
		r.syncing = false
		if d.HasPictureID {
			r.picOffset = (d.PictureID - (r.maxPicOut + 1)) & 0x7FFF
		}
		if d.HasTL0PicIdx && r.haveTl0Out {
			r.tl0Offset = d.TL0PicIdx - (r.maxTl0Out + 1)
		}
	}
	r.syncing = false
	pic := (d.PictureID - r.picOffset) & 0x7FFF
	tl0 := d.TL0PicIdx - r.tl0Offset
	if d.HasPictureID {
		if !r.started || IsHigher15(pic, r.maxPicOut) {
			r.maxPicOut = pic
		}
	}
	if d.HasTL0PicIdx {
		if !r.haveTl0Out || int8(tl0-r.maxTl0Out) > 0 {
			r.maxTl0Out = tl0
		}
		r.haveTl0Out = true
	}
	r.started = true
	if !VP8Rewrite(payload, d, pic, tl0) {
		return false
	}
	d.PictureID = pic
	if !d.PictureIDTwoBytes {
		d.PictureID &= 0x7F
	}
	d.TL0PicIdx = tl0
	return true
}

// IsHigher15 reports whether 15 bit picture id a is newer than b.
func IsHigher15(a, b uint16) bool {
	diff := (a - b) & 0x7FFF
	return diff != 0 && diff <= 0x3FFF
}
