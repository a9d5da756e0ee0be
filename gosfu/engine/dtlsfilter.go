package engine

import "encoding/binary"

// dtlsDatagramValid reports whether a DTLS datagram holds no record that
// pion/dtls (v3.1.15) would answer by ending the session although no peer
// sends it and nothing authenticates it. RFC 6347 §4.1.2.7 says invalid
// records are discarded; pion instead:
//
//   - fails the connection with a fatal decode error on a malformed
//     ChangeCipherSpec of epoch 1, which it does not decrypt: every
//     ChangeCipherSpec must be one a peer can send (epoch 0, one byte,
//     value 1; DTLS 1.2 sends it only in the clear, before the epoch
//     changes);
//   - sends the peer a fatal alert (unexpected_message or decode_error),
//     encrypted once the handshake is done, for any record of epoch 0 other
//     than a ChangeCipherSpec, an alert or a handshake message: application
//     data, which follows the handshake (epoch 1 or more), or a content type
//     it does not know. The peer (a browser) then closes the session.
//
// Either way a single datagram of a few bytes from the client's address
// would end the session, so the demux drops the whole datagram before pion
// sees it. Records it cannot frame are left to pion, which discards them.
func dtlsDatagramValid(b []byte) bool {
	const (
		headerLen        = 13
		changeCipherSpec = 20
		alert            = 21
		handshake        = 22
	)
	for len(b) >= headerLen {
		typ := b[0]
		epoch := binary.BigEndian.Uint16(b[3:5])
		n := int(binary.BigEndian.Uint16(b[11:13]))
		if len(b) < headerLen+n {
			return true
		}
		if typ == changeCipherSpec && (epoch != 0 || n != 1 || b[headerLen] != 1) {
			return false
		}
		if epoch == 0 && typ != changeCipherSpec && typ != alert && typ != handshake {
			return false
		}
		b = b[headerLen+n:]
	}
	return true
}
