package engine

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// stunHeader is a 20-byte STUN header (binding request) with the magic
// cookie.
func stunHeader() []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], 0x0001)
	binary.BigEndian.PutUint32(b[4:], 0x2112A442)
	return b
}

func TestClassifyPacket(t *testing.T) {
	rtp12 := vp8Packet(1, 1, 1111, true)[:12]
	rtcpRR := []byte{0x80, 201, 0, 1, 0, 0, 0, 1}
	sctpInit := make([]byte, 32)
	binary.BigEndian.PutUint16(sctpInit[0:], 5000)
	binary.BigEndian.PutUint16(sctpInit[2:], 5000)
	cases := []struct {
		name          string
		b             []byte
		webrtc, plain packetKind
	}{
		{"empty", nil, packetUnknown, packetUnknown},
		{"STUN binding request (SCTP-like on a plain socket)", stunHeader(), packetStun, packetSctp},
		{"STUN of 23 bytes", append(stunHeader(), 0, 0, 0), packetStun, packetUnknown},
		{"STUN header without the magic cookie", make([]byte, 20), packetUnknown, packetSctp},
		{"STUN header of 19 bytes", stunHeader()[:19], packetUnknown, packetUnknown},
		{"first byte 2 (RFC 7983 STUN range, not a binding)", append([]byte{2}, stunHeader()[1:]...), packetUnknown, packetSctp},
		{"DTLS handshake", []byte{22, 0xfe, 0xfd, 0, 0}, packetDtls, packetUnknown},
		{"DTLS lowest (ChangeCipherSpec)", []byte{20}, packetDtls, packetUnknown},
		{"DTLS highest (63)", []byte{63}, packetDtls, packetUnknown},
		{"just under DTLS (19)", []byte{19}, packetUnknown, packetUnknown},
		{"just over DTLS (64, TURN channel)", []byte{64, 0, 0, 4, 1, 2, 3, 4, 5, 6, 7, 8}, packetUnknown, packetSctp},
		{"RTP of 12 bytes", rtp12, packetRtp, packetRtp},
		{"RTP of 11 bytes", rtp12[:11], packetUnknown, packetUnknown},
		{"RTP with marker and PT 72 (b[1] 200, reads as RTCP)", []byte{0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0}, packetRtcp, packetRtcp},
		{"RTCP receiver report", rtcpRR, packetRtcp, packetRtcp},
		{"RTCP of 4 bytes", rtcpRR[:4], packetRtcp, packetRtcp},
		{"RTCP of 3 bytes", rtcpRR[:3], packetUnknown, packetUnknown},
		{"RTCP PT 191 (b[1]), 8 bytes", []byte{0x80, 191, 0, 1, 0, 0, 0, 1}, packetUnknown, packetUnknown},
		{"RTCP PT 224 (b[1]), 12 bytes: RTP", []byte{0x80, 224, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}, packetRtp, packetRtp},
		{"RTP version 1", append([]byte{0x40}, rtp12[1:]...), packetUnknown, packetSctp},
		{"RTP version 3 (first byte 192)", append([]byte{0xc0}, rtp12[1:]...), packetUnknown, packetSctp},
		{"SCTP common header and INIT", sctpInit, packetUnknown, packetSctp},
		{"SCTP length not padded to 4", sctpInit[:13], packetUnknown, packetUnknown},
		{"SCTP of 8 bytes", sctpInit[:8], packetUnknown, packetUnknown},
		{"first byte 255", bytes.Repeat([]byte{255}, 16), packetUnknown, packetSctp},
	}
	for _, c := range cases {
		if got := classifyPacket(c.b); got != c.webrtc {
			t.Errorf("%s: classifyPacket = %v, want %v", c.name, got, c.webrtc)
		}
		if got := classifyPlainPacket(c.b); got != c.plain {
			t.Errorf("%s: classifyPlainPacket = %v, want %v", c.name, got, c.plain)
		}
	}
	if got := packetKind(200).String(); got != "invalid" {
		t.Errorf("packetKind(200) = %q", got)
	}
}

// classifyRef is RFC 7983 and mediasoup's checks written out on the bytes,
// independently of the helpers classifyPacket uses.
func classifyRef(b []byte, plain bool) packetKind {
	n := len(b)
	v2 := n > 0 && b[0] >= 128 && b[0] <= 191
	rtcpPT := n > 1 && b[1] >= 192 && b[1] <= 223
	switch {
	case !plain && n >= 20 && (b[0] == 0 || b[0] == 1) && bytes.Equal(b[4:8], []byte{0x21, 0x12, 0xa4, 0x42}):
		return packetStun
	case !plain && n > 0 && b[0] >= 20 && b[0] <= 63:
		return packetDtls
	case v2 && n >= 4 && rtcpPT:
		return packetRtcp
	case v2 && n >= 12 && !rtcpPT:
		return packetRtp
	case plain && !v2 && n >= 12 && n%4 == 0:
		return packetSctp
	}
	return packetUnknown
}

// FuzzClassify checks both classifiers against the reference, and that
// they look at nothing but the first 8 bytes and the length.
func FuzzClassify(f *testing.F) {
	f.Add(stunHeader())
	f.Add([]byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1})
	f.Add(vp8Packet(1, 1, 1111, true))
	f.Add([]byte{0x81, 201, 0, 7, 0, 0, 0, 1})
	f.Add([]byte{0x13, 0x88, 0x13, 0x88, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, pk := classifyPacket(b), classifyPlainPacket(b)
		if want := classifyRef(b, false); k != want {
			t.Fatalf("classifyPacket(% x) = %v, want %v", b, k, want)
		}
		if want := classifyRef(b, true); pk != want {
			t.Fatalf("classifyPlainPacket(% x) = %v, want %v", b, pk, want)
		}
		// RTP and RTCP are told the same way on every transport.
		if (k == packetRtp || k == packetRtcp || pk == packetRtp || pk == packetRtcp) && k != pk {
			t.Fatalf("% x: WebRTC %v, plain %v", b, k, pk)
		}
		if len(b) > 8 {
			tail := bytes.Repeat([]byte{0xa5}, len(b)-8)
			other := append(append([]byte(nil), b[:8]...), tail...)
			if classifyPacket(other) != k || classifyPlainPacket(other) != pk {
				t.Fatalf("% x: classification depends on bytes after the 8th", b)
			}
		}
	})
}

// BenchmarkClassifyPacket shows the classifier costs nothing on the packet
// path (no allocation).
func BenchmarkClassifyPacket(b *testing.B) {
	pkts := [][]byte{stunHeader(), {22, 0xfe, 0xfd}, vp8Packet(1, 1, 1, true), {0x80, 201, 0, 1, 0, 0, 0, 1}}
	b.ReportAllocs()
	var sink packetKind
	for i := 0; b.Loop(); i++ {
		sink += classifyPacket(pkts[i%len(pkts)])
	}
	_ = sink
}
