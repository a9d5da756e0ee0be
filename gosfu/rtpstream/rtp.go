package rtpstream

import (
	"encoding/binary"
	"strings"
	"time"
)

// headerInfo holds the fields of a serialized RTP packet this package needs.
type headerInfo struct {
	seq        uint16
	ts         uint32
	ssrc       uint32
	headerLen  int // fixed header + CSRCs + extension
	paddingLen int
}

// parseRTP reads the fields of a serialized RTP packet without allocating.
func parseRTP(pkt []byte) (h headerInfo, ok bool) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 {
		return h, false
	}
	cc := int(pkt[0] & 0x0F)
	n := 12 + 4*cc
	if len(pkt) < n {
		return h, false
	}
	if pkt[0]&0x10 != 0 {
		if len(pkt) < n+4 {
			return h, false
		}
		extWords := int(binary.BigEndian.Uint16(pkt[n+2:]))
		n += 4 + 4*extWords
		if len(pkt) < n {
			return h, false
		}
	}
	if pkt[0]&0x20 != 0 {
		pad := int(pkt[len(pkt)-1])
		if pad == 0 || n+pad > len(pkt) {
			return h, false
		}
		h.paddingLen = pad
	}
	h.seq = binary.BigEndian.Uint16(pkt[2:])
	h.ts = binary.BigEndian.Uint32(pkt[4:])
	h.ssrc = binary.BigEndian.Uint32(pkt[8:])
	h.headerLen = n
	return h, true
}

// PayloadSize returns the payload length (padding excluded) of a serialized
// RTP packet, or -1 if the packet is malformed.
func PayloadSize(pkt []byte) int {
	h, ok := parseRTP(pkt)
	if !ok {
		return -1
	}
	return len(pkt) - h.headerLen - h.paddingLen
}

// EncodeRTX writes into dst the RTX (RFC 4588) form of the serialized RTP
// packet pkt: same header (marker, timestamp, CSRCs and extensions kept)
// with the RTX payload type, SSRC and sequence number, the original
// sequence number (OSN) prepended to the payload and padding removed. It
// returns the encoded length, or 0 if dst is too small or pkt is malformed.
func EncodeRTX(dst, pkt []byte, rtxPayloadType uint8, rtxSSRC uint32, rtxSeq uint16) int {
	h, ok := parseRTP(pkt)
	if !ok {
		return 0
	}
	payload := pkt[h.headerLen : len(pkt)-h.paddingLen]
	n := h.headerLen + 2 + len(payload)
	if len(dst) < n {
		return 0
	}
	copy(dst, pkt[:h.headerLen])
	dst[0] &^= 0x20 // no padding
	dst[1] = dst[1]&0x80 | rtxPayloadType&0x7F
	binary.BigEndian.PutUint16(dst[2:], rtxSeq)
	binary.BigEndian.PutUint32(dst[8:], rtxSSRC)
	binary.BigEndian.PutUint16(dst[h.headerLen:], h.seq)
	copy(dst[h.headerLen+2:], payload)
	return n
}

// encodeRTXInPlace turns buf, which holds 2 free bytes followed by a
// serialized RTP packet, into the packet's RTX form (as EncodeRTX) starting
// at buf[0]: the header moves 2 bytes back, leaving room for the OSN in
// front of the payload, so nothing but the header is copied. It returns the
// encoded length, or 0 if the packet is malformed.
func encodeRTXInPlace(buf []byte, rtxPayloadType uint8, rtxSSRC uint32, rtxSeq uint16) int {
	if len(buf) < 2 {
		return 0
	}
	h, ok := parseRTP(buf[2:])
	if !ok {
		return 0
	}
	copy(buf, buf[2:2+h.headerLen])
	buf[0] &^= 0x20 // no padding
	buf[1] = buf[1]&0x80 | rtxPayloadType&0x7F
	binary.BigEndian.PutUint16(buf[2:], rtxSeq)
	binary.BigEndian.PutUint32(buf[8:], rtxSSRC)
	binary.BigEndian.PutUint16(buf[h.headerLen:], h.seq)
	return len(buf) - h.paddingLen
}

// DecodeRTX turns, in place, a serialized RTX packet back into the original
// packet: the OSN is removed from the payload and the payload type, SSRC and
// sequence number are restored. It returns the original packet (a subslice
// of pkt, starting 2 bytes later) and its sequence number. ok is false if
// the packet is malformed or its payload is shorter than 2 bytes (libwebrtc
// sends such empty RTX packets as padding/probes; they carry nothing).
func DecodeRTX(pkt []byte, payloadType uint8, ssrc uint32) (out []byte, osn uint16, ok bool) {
	h, valid := parseRTP(pkt)
	if !valid || len(pkt)-h.headerLen-h.paddingLen < 2 {
		return nil, 0, false
	}
	osn = binary.BigEndian.Uint16(pkt[h.headerLen:])
	// Move the header 2 bytes forward over the OSN.
	copy(pkt[2:2+h.headerLen], pkt[:h.headerLen])
	out = pkt[2:]
	out[1] = out[1]&0x80 | payloadType&0x7F
	binary.BigEndian.PutUint16(out[2:], osn)
	binary.BigEndian.PutUint32(out[8:], ssrc)
	return out, osn, true
}

// ntpEpochOffset is the number of seconds from 1900-01-01 (NTP epoch) to
// 1970-01-01 (Unix epoch).
const ntpEpochOffset = 2208988800

// ToNTP converts a wall clock time into a 64 bit NTP timestamp.
func ToNTP(t time.Time) uint64 {
	ns := t.UnixNano()
	sec := uint64(ns/1e9) + ntpEpochOffset
	frac := (uint64(ns%1e9) << 32) / 1e9
	return sec<<32 | frac
}

// FromNTP converts a 64 bit NTP timestamp into a wall clock time.
func FromNTP(ntp uint64) time.Time {
	sec := int64(ntp>>32) - ntpEpochOffset
	nsec := int64(((ntp & 0xFFFFFFFF) * 1e9) >> 32)
	return time.Unix(sec, nsec)
}

// compactNTP returns the middle 32 bits of a 64 bit NTP timestamp.
func compactNTP(ntp uint64) uint32 { return uint32(ntp >> 16) }

// msToCompact converts milliseconds into units of 1/65536 s.
func msToCompact(ms int64) uint32 {
	if ms < 0 {
		ms = 0
	}
	return uint32((ms/1000)<<16) | uint32(((ms%1000)*65536)/1000)
}

// compactToMs converts units of 1/65536 s into milliseconds.
func compactToMs(c uint32) float64 { return float64(c) * 1000 / 65536 }

// kindOf returns "audio" or "video" from a mime type.
func kindOf(mimeType string) string {
	if len(mimeType) >= 6 && strings.EqualFold(mimeType[:6], "audio/") {
		return "audio"
	}
	return "video"
}
