package engine

import (
	"encoding/binary"
	"math/rand/v2"
)

// Probation packets: padding a transport sends to learn whether the link
// carries more than it is sending. Two forms:
//   - on a video consumer's RTX stream, padding-only packets (RFC 3550
//     padding; libwebrtc probes so): every receiver that negotiated RTX
//     knows the SSRC and feeds it back, pion included;
//   - else on mediasoup's probation stream (SSRC 1234, payload type 127,
//     mid "probator", zero payload), for which mediasoup-client declares a
//     receiver once a video consumer exists.
const (
	probationSsrc        = 1234
	probationPayloadType = 127
	probationMid         = "probator"
	// probationMaxSize bounds one probator packet (bytes, before SRTP);
	// an RTX padding packet carries at most 255 bytes of padding.
	probationMaxSize = 1200
	maxPadding       = 255
)

// probationGenerator builds the probation packets of one transport. The
// header extension ids are those of the remote's video consumer (the
// probator m-section copies them). Used by the timer goroutine only.
type probationGenerator struct {
	seq uint16
	ts  uint32
	buf [probationMaxSize]byte
	// hdrLen is the length of the header with its extensions; the
	// abs-send-time and transport-wide sequence number values sit at
	// absOff and twccOff (0: absent).
	hdrLen  int
	absOff  int
	twccOff int
}

func newProbationGenerator(midID, absID, twccID uint8) *probationGenerator {
	g := &probationGenerator{seq: uint16(rand.Uint32()), ts: rand.Uint32()}
	b := g.buf[:]
	b[0] = 0x90 // version 2, extension
	// One-byte header extensions (RFC 8285), padded to 32-bit words.
	b[12], b[13] = 0xBE, 0xDE
	n := 16
	if absID > 0 && absID < 15 {
		b[n] = absID<<4 | 2
		g.absOff = n + 1
		n += 4
	}
	if twccID > 0 && twccID < 15 {
		b[n] = twccID<<4 | 1
		g.twccOff = n + 1
		n += 3
	}
	if midID > 0 && midID < 15 {
		b[n] = midID<<4 | byte(len(probationMid)-1)
		n += 1 + copy(b[n+1:], probationMid)
	}
	for (n-16)%4 != 0 {
		b[n] = 0
		n++
	}
	binary.BigEndian.PutUint16(b[14:], uint16((n-16)/4))
	g.hdrLen = n
	return g
}

// probator returns the next packet of the probation stream, of size bytes
// (clamped to what fits), with its abs-send-time set. The payload is
// zeros, as mediasoup's.
func (g *probationGenerator) probator(size int, absSendTime uint32) []byte {
	g.seq++
	g.ts += 20
	size = min(max(size, g.hdrLen+1), probationMaxSize)
	b := g.header(size, probationSsrc, probationPayloadType, g.seq, g.ts, absSendTime)
	b[0] &^= 0x20
	clear(b[g.hdrLen:])
	return b
}

// rtxPadding returns a padding-only RTX packet of about size bytes. Use a
// generator made without the mid extension: a receiver routes a packet by
// its mid before its SSRC.
func (g *probationGenerator) rtxPadding(size int, ssrc uint32, pt uint8, seq uint16, ts, absSendTime uint32) []byte {
	pad := min(max(size-g.hdrLen, 1), maxPadding)
	b := g.header(g.hdrLen+pad, ssrc, pt, seq, ts, absSendTime)
	b[0] |= 0x20 // padding
	clear(b[g.hdrLen:])
	b[len(b)-1] = byte(pad)
	return b
}

func (g *probationGenerator) header(size int, ssrc uint32, pt uint8, seq uint16, ts, absSendTime uint32) []byte {
	b := g.buf[:size]
	b[1] = pt & 0x7f
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	if g.absOff > 0 {
		b[g.absOff], b[g.absOff+1], b[g.absOff+2] = byte(absSendTime>>16), byte(absSendTime>>8), byte(absSendTime)
	}
	return b
}

// setTwcc writes the transport-wide sequence number of the packet last
// returned.
func (g *probationGenerator) setTwcc(b []byte, seq uint16) {
	if g.twccOff > 0 {
		binary.BigEndian.PutUint16(b[g.twccOff:], seq)
	}
}
