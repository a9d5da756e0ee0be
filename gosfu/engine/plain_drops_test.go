package engine

import (
	"bytes"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// packetsDropped reads a transport's drop counters from its dump.
func packetsDropped(tb testing.TB, w *Worker, id string) map[string]float64 {
	tb.Helper()
	out, err := w.Request("transport.dump", id, nil)
	if err != nil {
		tb.Fatal(err)
	}
	var d struct {
		PacketsDropped map[string]float64 `json:"packetsDropped"`
	}
	if err := json.Unmarshal(out, &d); err != nil {
		tb.Fatal(err)
	}
	return d.PacketsDropped
}

// TestPlainReceiveDrops sends one bad datagram per case to the sockets of
// Plain transports (connected or not, with or without SRTP, rtcp-mux or
// not) and checks it is dropped and counted once, under its cause.
func TestPlainReceiveDrops(t *testing.T) {
	const suite = "AES_CM_128_HMAC_SHA1_80"
	plain, secure := newPlainFuzz(t, false), newPlainFuzz(t, true)
	w, em := secure.w, secure.em
	listen := map[string]any{"protocol": "udp", "ip": "127.0.0.1"}
	// Not connected: SRTP keys unknown, no remote tuple.
	unkeyed := mustRequest(t, w, "router.createPlainTransport", "r", map[string]any{"transportId": "pu", "listenInfo": listen, "enableSrtp": true, "srtpCryptoSuite": suite})
	remoteless := mustRequest(t, w, "router.createPlainTransport", "r", map[string]any{"transportId": "pv", "listenInfo": listen})
	// comedia with SRTP and a separate RTCP socket: the first authenticated
	// packet of each socket sets its remote tuple.
	params, key := newSrtpKey(suite)
	split := mustRequest(t, w, "router.createPlainTransport", "r", map[string]any{"transportId": "pr", "listenInfo": listen,
		"rtcpMux": false, "comedia": true, "enableSrtp": true, "srtpCryptoSuite": suite})
	mustRequest(t, w, "transport.connect", "pr", map[string]any{"srtpParameters": params})
	clientCtx, err := newSrtpContext(suite, key, false)
	if err != nil {
		t.Fatal(err)
	}
	sr, _ := (&rtcp.SenderReport{SSRC: 1111, NTPTime: 1 << 40}).Marshal()
	srtcp, err := clientCtx.EncryptRTCP(nil, sr, nil)
	if err != nil {
		t.Fatal(err)
	}
	srtpPkt, err := clientCtx.EncryptRTP(nil, vp8Packet(1, 1, 2222, true), nil)
	if err != nil {
		t.Fatal(err)
	}

	addr := func(info map[string]any, key string) *net.UDPAddr {
		return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tuplePort(map[string]any{"tuple": info[key]})}
	}
	rtcpJunk := []byte{0x80, 200, 0, 50, 0, 0, 0, 1}
	rtpBadExt := vp8Packet(1, 1, 1111, true)
	rtpBadExt[0] |= 0x10 // X bit without an extension
	rtpBadExt = rtpBadExt[:14]
	oversizedSctp := append([]byte{0x13, 0x88, 0x13, 0x88}, make([]byte, maxPionDatagram)...)
	bogusSrtp := append(vp8Packet(3, 3, 1111, true), bytes.Repeat([]byte{1}, 10)...)
	bogusSrtcp := append(append([]byte(nil), sr...), 0x80, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)

	cases := []struct {
		name   string
		w      *Worker
		em     *fuzzEmitter
		id     string
		from   *net.UDPConn
		to     *net.UDPAddr
		b      []byte
		reason string // "": accepted (no drop)
	}{
		{"RTP from a foreign tuple", plain.w, plain.em, "pt", plain.foreign, plain.server, vp8Packet(1, 1, 1111, true), "unknownTuple"},
		{"RTCP from a foreign tuple", plain.w, plain.em, "pt", plain.foreign, plain.server, sr, "unknownTuple"},
		{"SCTP from a foreign tuple", plain.w, plain.em, "pt", plain.foreign, plain.server, make([]byte, 16), "unknownTuple"},
		{"two bytes of the RTP range", plain.w, plain.em, "pt", plain.client, plain.server, []byte{0x80, 0x65}, "unknownType"},
		{"RTP of version 1, 13 bytes", plain.w, plain.em, "pt", plain.client, plain.server, append([]byte{0x40}, make([]byte, 12)...), "unknownType"},
		{"RTP of an unknown SSRC", plain.w, plain.em, "pt", plain.client, plain.server, vp8Packet(1, 1, 4242, true), "unknownSsrc"},
		{"RTP with a truncated extension", plain.w, plain.em, "pt", plain.client, plain.server, rtpBadExt, "rtpInvalid"},
		{"RTCP whose length lies", plain.w, plain.em, "pt", plain.client, plain.server, rtcpJunk, "rtcpInvalid"},
		{"SCTP datagram over pion's buffer", plain.w, plain.em, "pt", plain.client, plain.server, oversizedSctp, "oversized"},
		{"SRTP from a foreign tuple", w, em, "pt", secure.foreign, secure.server, bogusSrtp, "unknownTuple"},
		{"SRTCP from a foreign tuple", w, em, "pt", secure.foreign, secure.server, bogusSrtcp, "unknownTuple"},
		{"SRTP failing authentication", w, em, "pt", secure.client, secure.server, bogusSrtp, "srtp"},
		{"SRTCP failing authentication", w, em, "pt", secure.client, secure.server, bogusSrtcp, "srtp"},
		{"SRTP before connect()", w, em, "pu", secure.client, addr(unkeyed, "tuple"), bogusSrtp, "srtp"},
		{"SRTCP before connect()", w, em, "pu", secure.client, addr(unkeyed, "tuple"), bogusSrtcp, "srtp"},
		{"RTP before connect() without comedia", w, em, "pv", secure.client, addr(remoteless, "tuple"), vp8Packet(1, 1, 1111, true), "unknownTuple"},
		{"RTCP before connect() without comedia", w, em, "pv", secure.client, addr(remoteless, "tuple"), sr, "unknownTuple"},
		{"RTP on the RTCP socket", w, em, "pr", secure.client, addr(split, "rtcpTuple"), vp8Packet(1, 1, 1111, true), "unknownType"},
		{"SRTCP on the RTCP socket (comedia learns it)", w, em, "pr", secure.client, addr(split, "rtcpTuple"), srtcp, ""},
		{"SRTCP on the RTCP socket from another tuple", w, em, "pr", secure.foreign, addr(split, "rtcpTuple"), bogusSrtcp, "unknownTuple"},
		{"SRTP (comedia learns the tuple)", w, em, "pr", secure.client, addr(split, "tuple"), srtpPkt, "unknownSsrc"},
		{"SRTP from another tuple once learnt", w, em, "pr", secure.foreign, addr(split, "tuple"), srtpPkt, "unknownTuple"},
	}
	total := func(m map[string]float64) (n float64) {
		for _, v := range m {
			n += v
		}
		return n
	}
	for _, c := range cases {
		before := packetsDropped(t, c.w, c.id)
		rtcpBefore := c.em.count(c.id, "rtcptuple")
		sendDatagram(t, c.from, c.to, c.b)
		if c.reason == "" {
			c.em.wait(t, c.name+": rtcptuple", func() bool { return c.em.count(c.id, "rtcptuple") > rtcpBefore })
			continue
		}
		c.em.wait(t, c.name+": "+c.reason, func() bool { return packetsDropped(t, c.w, c.id)[c.reason] > before[c.reason] })
		if after := packetsDropped(t, c.w, c.id); total(after) != total(before)+1 {
			t.Errorf("%s: counted %v times (%v → %v)", c.name, total(after)-total(before), before, after)
		}
	}
	// The transports still work.
	plain.media.check(t)
	secure.media.check(t)
}

// TestUdpSctpConnAddresses: the net.Conn SCTP runs over on a Plain
// transport reports the socket and the remote tuple, and ignores
// deadlines (the association has its own timers).
func TestUdpSctpConnAddresses(t *testing.T) {
	h := newPlainFuzz(t, false)
	c := h.l.sctpConn
	if got := c.LocalAddr().String(); got != h.server.String() {
		t.Errorf("LocalAddr %s, want %s", got, h.server)
	}
	if got := c.RemoteAddr().String(); got != h.client.LocalAddr().String() {
		t.Errorf("RemoteAddr %s, want %s", got, h.client.LocalAddr())
	}
	for _, set := range []func(time.Time) error{c.SetDeadline, c.SetReadDeadline, c.SetWriteDeadline} {
		if err := set(time.Now()); err != nil {
			t.Error(err)
		}
	}
	if n := h.l.sctpQueueDrops(); n != 0 {
		t.Errorf("%d SCTP packets dropped at the queue", n)
	}
}
