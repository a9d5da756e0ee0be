package codecs

// H.264 NAL unit types used for key frame detection (RFC 6184).
const (
	h264NalIDR   = 5
	h264NalSPS   = 7
	h264NalPPS   = 8
	h264NalSTAPA = 24
	h264NalSTAPB = 25
	h264NalFUA   = 28
	h264NalFUB   = 29
)

// H264Info describes what an H.264 RTP payload carries.
type H264Info struct {
	// NalType is the type of the RTP payload NAL unit (24 for STAP-A, 28 for
	// FU-A, ...).
	NalType uint8
	// HasSPS, HasPPS and HasIDR tell whether a parameter set or an IDR
	// slice (start of, for fragmentation units) is carried.
	HasSPS, HasPPS, HasIDR bool
	// FragmentStart and FragmentEnd are the S and E bits of FU-A/FU-B.
	FragmentStart, FragmentEnd bool
}

// KeyFrame reports whether the payload starts a key frame: it carries an SPS
// or the beginning of an IDR slice.
func (i *H264Info) KeyFrame() bool { return i.HasSPS || i.HasIDR }

func (i *H264Info) noteNal(t uint8) {
	switch t {
	case h264NalIDR:
		i.HasIDR = true
	case h264NalSPS:
		i.HasSPS = true
	case h264NalPPS:
		i.HasPPS = true
	}
}

// ParseH264 inspects an H.264 RTP payload: single NAL unit packets, STAP-A
// and STAP-B aggregates and FU-A/FU-B fragments.
func ParseH264(payload []byte) (H264Info, error) {
	var info H264Info
	if len(payload) < 1 {
		return info, ErrShortPayload
	}
	t := payload[0] & 0x1F
	info.NalType = t
	switch {
	case t >= 1 && t <= 23:
		info.noteNal(t)
	case t == h264NalSTAPA || t == h264NalSTAPB:
		off := 1
		if t == h264NalSTAPB {
			off += 2 // DON
		}
		for off+2 < len(payload) {
			size := int(payload[off])<<8 | int(payload[off+1])
			off += 2
			if size == 0 || off+size > len(payload) {
				// Truncated aggregate: look at the header that is there.
				info.noteNal(payload[off] & 0x1F)
				break
			}
			info.noteNal(payload[off] & 0x1F)
			off += size
		}
	case t == h264NalFUA || t == h264NalFUB:
		if len(payload) < 2 {
			return info, ErrShortPayload
		}
		fu := payload[1]
		info.FragmentStart = fu&0x80 != 0
		info.FragmentEnd = fu&0x40 != 0
		if info.FragmentStart {
			info.noteNal(fu & 0x1F)
		}
	}
	return info, nil
}

// H264IsKeyFrame reports whether an H.264 RTP payload starts a key frame
// (carries an SPS, or the start of an IDR slice).
func H264IsKeyFrame(payload []byte) bool {
	info, err := ParseH264(payload)
	return err == nil && info.KeyFrame()
}

// H.265 NAL unit types (RFC 7798 / ITU-T H.265 table 7-1).
const (
	h265NalBLAWLP   = 16
	h265NalCRA      = 21
	h265NalVPS      = 32
	h265NalSPS      = 33
	h265NalPPS      = 34
	h265NalAP       = 48
	h265NalFU       = 49
	h265NalPACI     = 50
	h265HeaderBytes = 2
)

// H265Info describes what an H.265 RTP payload carries.
type H265Info struct {
	// NalType is the type of the RTP payload NAL unit (48 for aggregation
	// packets, 49 for fragmentation units, ...).
	NalType uint8
	// TID is the temporal id (TemporalIdPlus1 - 1) of the payload header.
	TID uint8
	// HasVPS, HasSPS, HasPPS tell whether parameter sets are carried; HasIRAP
	// whether an IRAP picture (IDR, CRA, BLA) or its first fragment is.
	HasVPS, HasSPS, HasPPS, HasIRAP bool
	// FragmentStart and FragmentEnd are the S and E bits of an FU.
	FragmentStart, FragmentEnd bool
}

// KeyFrame reports whether the payload starts a key frame: it carries a
// VPS/SPS or the beginning of an IRAP picture.
func (i *H265Info) KeyFrame() bool { return i.HasVPS || i.HasSPS || i.HasIRAP }

func (i *H265Info) noteNal(t uint8) {
	switch {
	case t >= h265NalBLAWLP && t <= h265NalCRA:
		i.HasIRAP = true
	case t == h265NalVPS:
		i.HasVPS = true
	case t == h265NalSPS:
		i.HasSPS = true
	case t == h265NalPPS:
		i.HasPPS = true
	}
}

// ParseH265 inspects an H.265 RTP payload: single NAL unit packets,
// aggregation packets and fragmentation units. DONL fields (sprop-max-don-
// diff > 0) are not supported.
func ParseH265(payload []byte) (H265Info, error) {
	var info H265Info
	if len(payload) < h265HeaderBytes {
		return info, ErrShortPayload
	}
	t := (payload[0] >> 1) & 0x3F
	info.NalType = t
	if tid := payload[1] & 0x07; tid > 0 {
		info.TID = tid - 1
	}
	switch t {
	case h265NalAP:
		off := h265HeaderBytes
		for off+2 < len(payload) {
			size := int(payload[off])<<8 | int(payload[off+1])
			off += 2
			info.noteNal((payload[off] >> 1) & 0x3F)
			if size == 0 || off+size > len(payload) {
				break
			}
			off += size
		}
	case h265NalFU:
		if len(payload) < 3 {
			return info, ErrShortPayload
		}
		fu := payload[2]
		info.FragmentStart = fu&0x80 != 0
		info.FragmentEnd = fu&0x40 != 0
		if info.FragmentStart {
			info.noteNal(fu & 0x3F)
		}
	case h265NalPACI:
		// PACI packets wrap another payload header; not handled.
	default:
		info.noteNal(t)
	}
	return info, nil
}

// H265IsKeyFrame reports whether an H.265 RTP payload starts a key frame.
func H265IsKeyFrame(payload []byte) bool {
	info, err := ParseH265(payload)
	return err == nil && info.KeyFrame()
}
