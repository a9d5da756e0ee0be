package engine

import "encoding/binary"

// dtlsChangeCipherSpecsValid reports whether every ChangeCipherSpec record
// of a DTLS datagram is one a peer can send: epoch 0, one byte, value 1
// (DTLS 1.2 sends it only in the clear, before the epoch changes).
//
// pion/dtls (v3.1.15) does not decrypt ChangeCipherSpec records of epoch 1
// and fails the whole connection with a fatal decode error when such a
// record is malformed: a single unauthenticated 53-byte datagram from the
// client's address would end the session. RFC 6347 §4.1.2.7 says such
// records are discarded, so the demux drops them before pion sees them.
// Records it cannot frame are left to pion, which discards them.
func dtlsChangeCipherSpecsValid(b []byte) bool {
	const headerLen = 13
	for len(b) >= headerLen {
		typ := b[0]
		epoch := binary.BigEndian.Uint16(b[3:5])
		n := int(binary.BigEndian.Uint16(b[11:13]))
		if len(b) < headerLen+n {
			return true
		}
		if typ == 20 && (epoch != 0 || n != 1 || b[headerLen] != 1) {
			return false
		}
		b = b[headerLen+n:]
	}
	return true
}
