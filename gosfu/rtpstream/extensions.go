package rtpstream

import "encoding/binary"

// ValidHeaderExtensions reports whether the header extension block of a
// serialized RTP packet (if any) is well formed in the RFC 8285 layouts,
// as mediasoup's parser checks it: every element fits in the block. A
// one-byte element with ID 0 is skipped as one byte of padding whatever
// its length nibble (pion/rtp stops parsing there, so an overrunning
// element after it would go unnoticed); ID 15 ends the block. Other
// profiles are opaque and accepted. pkt must already have passed
// rtp.Header.Unmarshal (fixed header, CSRCs and block length fit).
func ValidHeaderExtensions(pkt []byte) bool {
	if len(pkt) < 12 || pkt[0]&0x10 == 0 {
		return true
	}
	off := 12 + 4*int(pkt[0]&0x0f)
	if len(pkt) < off+4 {
		return false
	}
	profile := binary.BigEndian.Uint16(pkt[off:])
	end := off + 4 + 4*int(binary.BigEndian.Uint16(pkt[off+2:]))
	if end > len(pkt) {
		return false
	}
	b := pkt[off+4 : end]
	switch {
	case profile == 0xBEDE:
		for i := 0; i < len(b); {
			id := b[i] >> 4
			if id == 0 {
				i++
				continue
			}
			if id == 15 {
				return true
			}
			n := int(b[i]&0x0f) + 1
			if i+1+n > len(b) {
				return false
			}
			i += 1 + n
		}
	case profile&0xfff0 == 0x1000:
		for i := 0; i < len(b); {
			if b[i] == 0 {
				i++
				continue
			}
			if i+2 > len(b) {
				return false
			}
			n := int(b[i+1])
			if i+2+n > len(b) {
				return false
			}
			i += 2 + n
		}
	}
	return true
}
