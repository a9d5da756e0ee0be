package codecs

import "github.com/gosfu/gosfu/gosfu/seqmanager"

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
// VP8 stream continuous across source switches and dropped frames. Call
// Map (or Rewrite, which also writes the values in place) for every
// forwarded packet and Drop for every packet of a frame that is not
// forwarded (temporal layer filtering): the pictures after a dropped one are
// renumbered so that the receiver sees no gap, as mediasoup does. Call Sync
// when the source changes (before its first, key frame, packet).
//
// Picture ids use the 15 bit space; packets carrying a 7 bit picture id get
// the low 7 bits of the output value (dropping frames of such a stream is not
// supported: Drop ignores them).
//
// The zero value is ready to use.
type VP8PictureIDRewriter struct {
	pic     *seqmanager.SeqManager[uint16]
	tl0     *seqmanager.SeqManager[uint8]
	syncing bool
}

func (r *VP8PictureIDRewriter) init() {
	if r.pic == nil {
		r.pic = seqmanager.NewBits[uint16](15, 0)
		r.tl0 = seqmanager.New[uint8](0)
	}
}

// Sync makes the next packet start a new mapping whose picture id and
// TL0PICIDX follow the highest emitted ones.
func (r *VP8PictureIDRewriter) Sync() { r.syncing = true }

func (r *VP8PictureIDRewriter) applySync(d *VP8Descriptor) {
	if !r.syncing {
		return
	}
	r.syncing = false
	if d.HasPictureID && r.pic.Started() {
		r.pic.Sync(d.PictureID - 1)
	}
	if d.HasTL0PicIdx && r.tl0.Started() {
		r.tl0.Sync(d.TL0PicIdx - 1)
	}
}

// Map returns the output picture id and TL0PICIDX of a packet described by
// d (fields absent from d come back unchanged). ok is false when the packet
// belongs to a picture that was dropped: it must not be sent.
func (r *VP8PictureIDRewriter) Map(d *VP8Descriptor) (pictureID uint16, tl0PicIdx uint8, ok bool) {
	pictureID, tl0PicIdx = d.PictureID, d.TL0PicIdx
	if !d.HasPictureID && !d.HasTL0PicIdx {
		return pictureID, tl0PicIdx, true
	}
	r.init()
	r.applySync(d)
	if d.HasPictureID {
		if pictureID, ok = r.pic.Input(d.PictureID); !ok {
			return d.PictureID, d.TL0PicIdx, false
		}
		if !d.PictureIDTwoBytes {
			pictureID &= 0x7F
		}
	}
	if d.HasTL0PicIdx {
		if tl0PicIdx, ok = r.tl0.Input(d.TL0PicIdx); !ok {
			return d.PictureID, d.TL0PicIdx, false
		}
	}
	return pictureID, tl0PicIdx, true
}

// Drop records that the packet described by d is not forwarded: its picture
// id (and its TL0PICIDX for a TID 0 packet) is removed from the output
// sequence. Only 15 bit picture ids are dropped.
func (r *VP8PictureIDRewriter) Drop(d *VP8Descriptor) {
	if !d.HasPictureID || !d.PictureIDTwoBytes {
		return
	}
	r.init()
	r.applySync(d)
	r.pic.Drop(d.PictureID)
	if d.HasTL0PicIdx && d.HasTID && d.TID == 0 {
		r.tl0.Drop(d.TL0PicIdx)
	}
}

// IsOld reports whether the picture of d is older than the newest picture
// seen (forwarded or dropped) since the last Sync: a late or retransmitted
// packet, whose fate Map decides.
func (r *VP8PictureIDRewriter) IsOld(d *VP8Descriptor) bool {
	if !d.HasPictureID || r.pic == nil || r.syncing || !r.pic.Started() {
		return false
	}
	return seqmanager.IsLower(d.PictureID, r.pic.MaxInput(), 0x7FFF)
}

// Rewrite rewrites the picture id and TL0PICIDX of payload (described by d,
// which is updated) and returns false if the payload is malformed or belongs
// to a dropped picture.
func (r *VP8PictureIDRewriter) Rewrite(payload []byte, d *VP8Descriptor) bool {
	pic, tl0, ok := r.Map(d)
	if !ok || !VP8Rewrite(payload, d, pic, tl0) {
		return false
	}
	d.PictureID = pic
	d.TL0PicIdx = tl0
	return true
}

// IsHigher15 reports whether 15 bit picture id a is newer than b.
func IsHigher15(a, b uint16) bool {
	diff := (a - b) & 0x7FFF
	return diff != 0 && diff <= 0x3FFF
}
