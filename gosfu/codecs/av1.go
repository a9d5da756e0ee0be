package codecs

// AV1 OBU types (AV1 bitstream specification section 6.2.2).
const (
	av1OBUSequenceHeader = 1
)

// AV1Info describes an AV1 RTP payload (AOM "RTP Payload Format for AV1").
type AV1Info struct {
	// Z: the first OBU element continues an OBU fragment of the previous packet.
	Z bool
	// Y: the last OBU element will continue in the next packet.
	Y bool
	// W: number of OBU elements (0 means each one has a length field).
	W uint8
	// N: the packet is the first of a coded video sequence (a key frame).
	N bool
	// HasSequenceHeader is true if a (non continued) sequence header OBU is
	// present.
	HasSequenceHeader bool
	// NumOBUs is the number of OBU elements seen.
	NumOBUs int
}

// KeyFrame reports whether the payload starts a key frame: the N bit is set
// or it carries a sequence header OBU.
func (i *AV1Info) KeyFrame() bool { return i.N || i.HasSequenceHeader }

// readLEB128 decodes an unsigned LEB128 value (at most 8 bytes). It returns
// the value and the bytes used, or 0 bytes on error.
func readLEB128(p []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 8 && i < len(p); i++ {
		v |= uint64(p[i]&0x7F) << (7 * i)
		if p[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// ParseAV1 inspects the aggregation header and the OBU elements of an AV1
// RTP payload.
func ParseAV1(payload []byte) (AV1Info, error) {
	var info AV1Info
	if len(payload) < 1 {
		return info, ErrShortPayload
	}
	h := payload[0]
	info.Z = h&0x80 != 0
	info.Y = h&0x40 != 0
	info.W = (h >> 4) & 0x03
	info.N = h&0x08 != 0
	off := 1
	for idx := 0; off < len(payload); idx++ {
		var size int
		last := info.W != 0 && idx == int(info.W)-1
		if last {
			size = len(payload) - off
		} else {
			v, n := readLEB128(payload[off:])
			if n == 0 {
				return info, ErrShortPayload
			}
			off += n
			if v > uint64(len(payload)-off) {
				return info, ErrShortPayload
			}
			size = int(v)
		}
		info.NumOBUs++
		if size > 0 && !(idx == 0 && info.Z) {
			obuType := (payload[off] >> 3) & 0x0F
			if obuType == av1OBUSequenceHeader {
				info.HasSequenceHeader = true
			}
		}
		off += size
		if last {
			break
		}
	}
	return info, nil
}

// AV1IsKeyFrame reports whether an AV1 RTP payload starts a key frame.
func AV1IsKeyFrame(payload []byte) bool {
	if len(payload) < 1 {
		return false
	}
	if payload[0]&0x08 != 0 {
		return true
	}
	info, _ := ParseAV1(payload)
	return info.HasSequenceHeader
}
