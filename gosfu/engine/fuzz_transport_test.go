package engine

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/pion/stun/v4"
)

// fuzzStunSeeds are STUN-like datagrams: a binding request the transport
// cannot authenticate, one without attributes, an indication, and headers
// whose length lies.
func fuzzStunSeeds(tb testing.TB) [][]byte {
	bad, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.NewUsername("nobody:fuzz"),
		stun.RawAttribute{Type: stun.AttrPriority, Value: []byte{1, 2, 3, 4}},
		stun.RawAttribute{Type: stun.AttrUseCandidate},
		stun.NewShortTermIntegrity("wrong"), stun.Fingerprint)
	if err != nil {
		tb.Fatal(err)
	}
	bare, _ := stun.Build(stun.TransactionID, stun.BindingRequest)
	ind, _ := stun.Build(stun.TransactionID, stun.NewType(stun.MethodBinding, stun.ClassIndication))
	lying := append([]byte(nil), bare.Raw...)
	binary.BigEndian.PutUint16(lying[2:], 400)
	return [][]byte{bad.Raw, bare.Raw, ind.Raw, lying}
}

// dtlsRecord frames one DTLS 1.2 record.
func dtlsRecord(ct byte, epoch uint16, seq uint64, body []byte) []byte {
	b := make([]byte, 13, 13+len(body))
	b[0] = ct
	b[1], b[2] = 0xfe, 0xfd
	binary.BigEndian.PutUint64(b[3:], uint64(epoch)<<48|seq&(1<<48-1))
	binary.BigEndian.PutUint16(b[11:], uint16(len(body)))
	return append(b, body...)
}

// FuzzWebRtcTransportReceive sends arbitrary datagrams to a connected
// WebRtcTransport (ICE, DTLS, SRTP and SCTP up), from its selected tuple
// or from a foreign one: no crash, and afterwards valid SRTP is still
// forwarded and DTLS and SCTP still carry DataChannel messages.
func FuzzWebRtcTransportReceive(f *testing.F) {
	hs := newFuzzHarness(f, newWebrtcFuzz)
	for _, b := range fuzzStunSeeds(f) {
		f.Add(false, b)
	}
	f.Add(false, dtlsRecord(20, 1, 0, make([]byte, 40)))
	f.Add(false, dtlsRecord(21, 0, 9, []byte{2, 0}))
	f.Add(false, dtlsRecord(23, 1, 50, bytes.Repeat([]byte{7}, 48)))
	f.Add(false, markerPacket(7, 7, 0))
	f.Add(false, []byte{0x81, 201, 0, 1, 0, 0, 0, 1})
	f.Add(false, []byte{0x80, 0x65, 0, 1})
	f.Add(false, []byte{64, 0, 0, 4, 1, 2, 3, 4})
	f.Add(true, markerPacket(8, 8, 0))
	f.Add(true, dtlsRecord(22, 0, 0, make([]byte, 12)))
	f.Add(false, []byte{})
	f.Fuzz(func(t *testing.T, foreign bool, data []byte) {
		h := hs.get(t)
		c := h.client
		if foreign {
			c = h.foreign
		}
		sendDatagram(t, c, h.server, data)
		h.check(t)
		hs.done()
	})
}

// FuzzDtlsRecords sends arbitrary DTLS records (any content type of the
// DTLS range, epoch and sequence number, body and trailing bytes) from the
// selected tuple of a connected WebRtcTransport: pion must discard what
// does not authenticate; the session stays connected, SRTP is still
// forwarded and SCTP over DTLS still delivers.
func FuzzDtlsRecords(f *testing.F) {
	hs := newFuzzHarness(f, newWebrtcFuzz)
	f.Add(uint8(0), uint16(0), uint64(3), []byte{1}, []byte(nil))
	f.Add(uint8(0), uint16(1), uint64(0), make([]byte, 40), []byte(nil))
	f.Add(uint8(1), uint16(0), uint64(9), []byte{2, 0}, []byte(nil))
	f.Add(uint8(1), uint16(0), uint64(9), []byte{1, 0}, []byte(nil))
	f.Add(uint8(1), uint16(1), uint64(1), bytes.Repeat([]byte{3}, 26), []byte(nil))
	clientHello := []byte{1, 0, 0, 44, 0, 0, 0, 0, 0, 0, 0, 0, 0, 44, 0xfe, 0xfd}
	clientHello = append(clientHello, make([]byte, 32)...)
	clientHello = append(clientHello, 0, 0, 0, 2, 0xc0, 0x2b, 1, 0)
	f.Add(uint8(2), uint16(0), uint64(0), clientHello, []byte(nil))
	f.Add(uint8(2), uint16(1), uint64(7), make([]byte, 64), []byte(nil))
	f.Add(uint8(3), uint16(0), uint64(5), []byte("plaintext application data"), []byte(nil))
	f.Add(uint8(3), uint16(1), uint64(1<<40), bytes.Repeat([]byte{9}, 100), dtlsRecord(20, 1, 0, []byte{1}))
	f.Add(uint8(4), uint16(0), uint64(0), []byte{1, 0, 16}, []byte(nil))
	f.Add(uint8(5), uint16(1), uint64(2), make([]byte, 20), []byte{0})
	f.Add(uint8(43), uint16(0xffff), uint64(1<<48-1), []byte(nil), []byte{20, 0xfe})
	f.Fuzz(func(t *testing.T, ct uint8, epoch uint16, seq uint64, body, tail []byte) {
		if len(body) > 0xffff {
			body = body[:0xffff]
		}
		h := hs.get(t)
		rec := append(dtlsRecord(20+ct%44, epoch, seq, body), tail...)
		sendDatagram(t, h.client, h.server, rec)
		h.check(t)
		hs.done()
	})
}

// FuzzPlainTransportReceive sends arbitrary datagrams to a connected
// PlainTransport (rtcp-mux, SCTP enabled) without or with SRTP, from its
// remote tuple or a foreign one: no crash, and afterwards valid RTP (or
// SRTP) is still forwarded.
func FuzzPlainTransportReceive(f *testing.F) {
	plain := newFuzzHarness(f, func(tb testing.TB) *plainFuzz { return newPlainFuzz(tb, false) })
	secure := newFuzzHarness(f, func(tb testing.TB) *plainFuzz { return newPlainFuzz(tb, true) })
	f.Add(false, false, markerPacket(100, 1, 0))
	f.Add(false, false, markerPacket(9000, 1, 0))
	f.Add(false, false, vp8Packet(1, 1, 1111, false))
	f.Add(false, false, vp8Packet(1, 1, 4242, true))
	f.Add(false, false, []byte{0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0, 4, 87, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(false, false, []byte{0x81, 203, 0, 1, 0, 0, 4, 87})
	f.Add(false, false, []byte{0x13, 0x88, 0x13, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 4})
	f.Add(false, true, markerPacket(10, 1, 0))
	f.Add(true, false, markerPacket(11, 1, 0))
	f.Add(true, false, []byte{0x81, 201, 0, 1, 0, 0, 0, 1, 0x80, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Add(true, true, markerPacket(12, 1, 0))
	f.Add(false, false, []byte{})
	f.Fuzz(func(t *testing.T, withSrtp, foreign bool, data []byte) {
		hs := plain
		if withSrtp {
			hs = secure
		}
		h := hs.get(t)
		c := h.client
		if foreign {
			c = h.foreign
		}
		sendDatagram(t, c, h.server, data)
		if !foreign {
			h.media.follow(data)
		}
		h.media.check(t)
		hs.done()
	})
}

// tcpFuzz has an ICE-TCP WebRtcTransport on its own listener ("wtt") and
// one on a WebRtcServer's ("wst"), with the ICE credentials of each.
type tcpFuzz struct {
	em      *fuzzEmitter
	own     *webrtcLink
	srv     *WebRtcServer
	addrs   [2]*net.TCPAddr
	ufrags  [2]string
	pwds    [2]string
	created [2]string
}

func newTcpFuzz(tb testing.TB) *tcpFuzz {
	tb.Helper()
	w, em, _ := newFuzzWorker(tb)
	fuzzRequest(tb, w, "worker.createWebRtcServer", "", map[string]any{"webRtcServerId": "srv",
		"listenInfos": []any{map[string]any{"protocol": "tcp", "ip": "127.0.0.1"}}})
	h := &tcpFuzz{em: em, srv: w.webRtcServer("srv")}
	for i, req := range []map[string]any{
		{"transportId": "wtt", "listenInfos": []any{map[string]any{"protocol": "tcp", "ip": "127.0.0.1"}}},
		{"transportId": "wst", "webRtcServerId": "srv", "enableUdp": false},
	} {
		info := fuzzRequest(tb, w, "router.createWebRtcTransport", "r", req)
		ice := info["iceParameters"].(map[string]any)
		cand := info["iceCandidates"].([]any)[0].(map[string]any)
		h.addrs[i] = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(cand["port"].(float64))}
		h.ufrags[i], h.pwds[i] = ice["usernameFragment"].(string), ice["password"].(string)
	}
	h.own = w.handlers["wtt"].(*Transport).link.(*webrtcLink)
	return h
}

// settled reports whether the transports forgot every closed connection.
func (h *tcpFuzz) settled() bool {
	h.own.iceMu.Lock()
	own := len(h.own.tcpConns)
	h.own.iceMu.Unlock()
	h.srv.mu.RLock()
	srv := len(h.srv.tcpConn) + len(h.srv.byPath)
	h.srv.mu.RUnlock()
	return own == 0 && srv == 0
}

// FuzzIceTcpStream writes arbitrary byte streams, optionally behind a
// valid framed binding request, to the ICE-TCP listeners of a
// WebRtcTransport and of a WebRtcServer, then half-closes: the engine must
// read the frames, close the connection and forget it, whatever the
// framing.
func FuzzIceTcpStream(f *testing.F) {
	hs := newFuzzHarness(f, newTcpFuzz)
	frame := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, byte(len(p)>>8), byte(len(p)))
			out = append(out, p...)
		}
		return out
	}
	stunSeeds := fuzzStunSeeds(f)
	f.Add(false, false, frame(stunSeeds...))
	f.Add(true, false, frame(stunSeeds...))
	f.Add(false, true, frame(dtlsRecord(22, 0, 0, make([]byte, 30)), markerPacket(1, 1, 0)))
	f.Add(true, true, frame(dtlsRecord(20, 1, 0, make([]byte, 40)), []byte{0x81, 201, 0, 1, 0, 0, 0, 1}))
	f.Add(false, true, frame(nil, nil, []byte{1}))
	f.Add(false, false, []byte{0xff, 0xff, 1, 2, 3})
	f.Add(true, true, []byte{0})
	f.Add(false, false, []byte{})
	f.Fuzz(func(t *testing.T, server, valid bool, stream []byte) {
		h := hs.get(t)
		i := 0
		if server {
			i = 1
		}
		c, err := net.DialTCP("tcp", nil, h.addrs[i])
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		read := make(chan error, 1)
		go func() {
			_, err := io.Copy(io.Discard, c)
			read <- err
		}()
		if valid {
			req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.NewUsername(h.ufrags[i]+":fuzz"),
				stun.RawAttribute{Type: stun.AttrPriority, Value: []byte{0x6e, 0, 0x1e, 0xff}},
				stun.RawAttribute{Type: stun.AttrICEControlling, Value: make([]byte, 8)},
				stun.RawAttribute{Type: stun.AttrUseCandidate},
				stun.NewShortTermIntegrity(h.pwds[i]), stun.Fingerprint)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(frame(req.Raw)); err != nil {
				t.Fatal(err)
			}
		}
		// The engine may close first (a frame it refuses): then writes fail.
		if _, err := c.Write(stream); err == nil {
			_ = c.CloseWrite()
		}
		h.em.wait(t, "the engine to close the connection", func() bool {
			select {
			case <-read:
				return true
			default:
				return false
			}
		})
		h.em.wait(t, "the closed connection forgotten", h.settled)
		hs.done()
	})
}
