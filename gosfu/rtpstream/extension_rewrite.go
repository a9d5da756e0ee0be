package rtpstream

import "encoding/binary"

// FindExtension returns the value of the RFC 8285 header extension element
// id in the serialized RTP packet pkt (one-byte or two-byte form), aliasing
// pkt, or nil when the packet has no such element or its extension block is
// malformed. The first element with that ID wins.
//
// The block is read the way receivers (libwebrtc, pion/rtp) read it: in the
// one-byte form, ID 15 or an ID-0 byte with a non-zero length nibble ends
// the element list, so an element after it is not found (a receiver would
// not see a value written there either). The whole list is checked, not
// just up to the match, so a value is only returned from a packet that
// receivers parse. IDs outside 1..14 (one-byte) or 1..255 (two-byte) are
// never found.
func FindExtension(pkt []byte, id uint8) []byte {
	off, n := findExtension(pkt, id)
	if off < 0 {
		return nil
	}
	return pkt[off : off+n : off+n]
}

// SetExtension16 overwrites the 2-byte value of extension element id in the
// serialized RTP packet pkt with v (big endian), in place. It reports false,
// leaving pkt unchanged, when the packet has no such element or the element
// is not 2 bytes long. It does not allocate, so it can stamp a fresh
// transport-wide sequence number on a packet at send time.
func SetExtension16(pkt []byte, id uint8, v uint16) bool {
	off, n := findExtension(pkt, id)
	if off < 0 || n != 2 {
		return false
	}
	binary.BigEndian.PutUint16(pkt[off:], v)
	return true
}

// findExtension returns the offset and length of element id's value, or
// -1 when it is absent or the block is malformed.
func findExtension(pkt []byte, id uint8) (int, int) {
	if id == 0 || len(pkt) < 12 || pkt[0]&0x10 == 0 {
		return -1, 0
	}
	off := 12 + 4*int(pkt[0]&0x0f)
	if len(pkt) < off+4 {
		return -1, 0
	}
	profile := binary.BigEndian.Uint16(pkt[off:])
	start := off + 4
	end := start + 4*int(binary.BigEndian.Uint16(pkt[off+2:]))
	if end > len(pkt) {
		return -1, 0
	}
	found, foundLen := -1, 0
	switch {
	case profile == 0xBEDE:
		if id > 14 {
			return -1, 0
		}
		for i := start; i < end; {
			b := pkt[i]
			if b == 0 {
				i++
				continue
			}
			eid := b >> 4
			if eid == 15 || eid == 0 {
				break
			}
			n := int(b&0x0f) + 1
			if i+1+n > end {
				return -1, 0
			}
			if eid == id && found < 0 {
				found, foundLen = i+1, n
			}
			i += 1 + n
		}
	case profile&0xfff0 == 0x1000:
		for i := start; i < end; {
			if pkt[i] == 0 {
				i++
				continue
			}
			if i+2 > end {
				return -1, 0
			}
			n := int(pkt[i+1])
			if i+2+n > end {
				return -1, 0
			}
			if pkt[i] == id && found < 0 {
				found, foundLen = i+2, n
			}
			i += 2 + n
		}
	}
	return found, foundLen
}
