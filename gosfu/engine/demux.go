package engine

import "github.com/gosfu/gosfu/gosfu/ice"

// packetKind is what a received datagram (or RFC 4571 frame) carries.
type packetKind uint8

const (
	packetUnknown packetKind = iota
	packetStun
	packetDtls
	packetRtp
	packetRtcp
	packetSctp
)

var packetKindNames = [...]string{"unknown", "stun", "dtls", "rtp", "rtcp", "sctp"}

// String names the kind, for logs and test failures.
func (k packetKind) String() string {
	if int(k) < len(packetKindNames) {
		return packetKindNames[k]
	}
	return "invalid"
}

// classifyPacket demultiplexes a packet of an ICE path (WebRtcTransport,
// WebRtcServer) by its first byte as RFC 7983 does: STUN (0-3 with the
// magic cookie), DTLS (20-63), RTP/RTCP (128-191). In the RTP range it
// applies mediasoup's checks: RTCP has a payload type of 192-223 and at
// least a 4-byte header, RTP any other and at least 12 bytes; anything
// shorter is unknown, as is every other first byte. It allocates nothing
// and reads at most the first 8 bytes.
func classifyPacket(b []byte) packetKind {
	if len(b) == 0 {
		return packetUnknown
	}
	switch first := b[0]; {
	case ice.IsStun(b):
		return packetStun
	case first >= 20 && first <= 63:
		return packetDtls
	case isRtcp(b):
		return packetRtcp
	case isRtp(b):
		return packetRtp
	}
	return packetUnknown
}

// classifyPlainPacket demultiplexes a packet of a PlainTransport or
// PipeTransport socket, which carries no STUN or DTLS: RTCP and RTP as
// classifyPacket tells them, then SCTP (isSctp) for what is left.
func classifyPlainPacket(b []byte) packetKind {
	switch {
	case isRtcp(b):
		return packetRtcp
	case isRtp(b):
		return packetRtp
	case isSctp(b):
		return packetSctp
	}
	return packetUnknown
}
