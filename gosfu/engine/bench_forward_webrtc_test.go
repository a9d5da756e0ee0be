package engine

// Forwarding benchmark over WebRtcTransports: the forwarding benchmark of
// bench_forward_test.go (same producer, packets, metrics and paired
// baseline) with every transport a WebRtcTransport, on its own UDP socket
// or all on one WebRtcServer, each connected to an in-process client doing
// real ICE (a STUN binding request), a real DTLS handshake (pion/dtls, the
// client's role) and SRTP AEAD_AES_128_GCM with the keys it exported.
//
// One op is one SRTP packet, encrypted beforehand with the producer
// client's keys (timer stopped), handed to the producer transport as its
// UDP read loop hands it (WebRtcServer: route, then the transport):
// demultiplexing, tuple check, ingress SRTP decryption, and the whole
// forwarding path with SRTP encryption and sendto per consumer. The
// clients stop reading their sockets after the handshake, so the kernel
// drops what the consumer transports send them, as with the plain
// benchmark's sinks.

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/stun/v4"
)

// webrtcBenchConsent is how often the clients refresh ICE consent: well
// within iceConsentTimeout (30 s), so that a long run keeps its tuples.
const webrtcBenchConsent = 5 * time.Second

// benchDtlsConnected signals the transports whose DTLS got connected.
type benchDtlsConnected struct{ ch chan string }

func (e benchDtlsConnected) Emit(target, ev string, data []byte, _ bool) {
	if ev == "dtlsstatechange" && strings.Contains(string(data), `"dtlsState":"connected"`) {
		select {
		case e.ch <- target:
		default: // not waited for any more
		}
	}
}

// benchClientConn is the net.PacketConn a client's DTLS conn reads and
// writes: its UDP socket, returning only DTLS records to pion/dtls.
// Once the handshake is done the reads stop (stop, or capture for a
// consumer: after keeping the first RTP packet received), ReadFrom then
// waits for Close: the kernel drops what arrives.
type benchClientConn struct {
	*net.UDPConn
	stop    atomic.Bool
	capture atomic.Bool
	first   []byte
	got     chan struct{} // closed once first is set
	done    chan struct{}
	once    sync.Once
}

func (c *benchClientConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		if c.stop.Load() {
			<-c.done
			return 0, nil, net.ErrClosed
		}
		n, from, err := c.UDPConn.ReadFrom(p)
		if err != nil {
			return n, from, err
		}
		switch classifyPacket(p[:n]) {
		case packetDtls:
			return n, from, nil
		case packetRtp:
			if c.capture.Load() {
				c.first = append([]byte(nil), p[:n]...)
				c.stop.Store(true)
				close(c.got)
			}
		}
		// STUN responses and RTCP are of no interest.
	}
}

func (c *benchClientConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return c.UDPConn.Close()
}

// benchWebRtcClient is the remote end of one WebRtcTransport.
type benchWebRtcClient struct {
	id         string
	conn       *benchClientConn
	to         *net.UDPAddr
	ufrag, pwd string // the transport's ICE credentials
	dtls       *dtls.Conn
	keys       srtp.SessionKeys
}

// benchStunRequest is a binding request nominating the tuple, as an ICE
// controlling agent sends it.
func benchStunRequest(ufrag, pwd string) ([]byte, error) {
	pr := make([]byte, 4)
	binary.BigEndian.PutUint32(pr, 1853824767)
	tie := make([]byte, 8)
	_, _ = rand.Read(tie)
	m, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.NewUsername(ufrag+":bench"),
		stun.RawAttribute{Type: stun.AttrPriority, Value: pr},
		stun.RawAttribute{Type: stun.AttrICEControlling, Value: tie},
		stun.RawAttribute{Type: stun.AttrUseCandidate},
		stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
	if err != nil {
		return nil, err
	}
	return m.Raw, nil
}

// connectClient connects a client to transport id (created with info):
// connect() with the client's fingerprint and role client (the transport
// is then the DTLS server), a binding request, the DTLS handshake.
func connectClient(tb testing.TB, w *Worker, id string, info *webrtcTransportInfo, certOpt dtls.Option, fp string) *benchWebRtcClient {
	tb.Helper()
	benchRequest(tb, w, "transport.connect", id, map[string]any{
		"dtlsParameters": map[string]any{"role": "client", "fingerprints": []any{map[string]any{"algorithm": "sha-256", "value": fp}}},
	})
	udp := benchListenSink(tb)
	c := &benchWebRtcClient{
		id:    id,
		conn:  &benchClientConn{UDPConn: udp, got: make(chan struct{}), done: make(chan struct{})},
		to:    &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: info.IceCandidates[0].Port},
		ufrag: info.IceParameters.UsernameFragment,
		pwd:   info.IceParameters.Password,
	}
	req, err := benchStunRequest(c.ufrag, c.pwd)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := udp.WriteToUDP(req, c.to); err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = udp.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := udp.Read(buf)
	if err != nil {
		tb.Fatalf("%s: no binding response: %v", id, err)
	}
	resp := &stun.Message{Raw: buf[:n]}
	if err := resp.Decode(); err != nil || resp.Type != stun.BindingSuccess {
		tb.Fatalf("%s: binding response % x (%v)", id, buf[:n], err)
	}
	_ = udp.SetReadDeadline(time.Time{})

	fps := info.DtlsParameters.Fingerprints
	c.dtls, err = dtls.ClientWithOptions(c.conn, c.to, certOpt,
		dtls.WithSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM),
		dtls.WithInsecureSkipVerify(true),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithVerifyPeerCertificate(func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !checkRemoteFingerprint(raw[0], fps) {
				return errors.New("server certificate does not match the transport's fingerprints")
			}
			return nil
		}))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = c.dtls.HandshakeContext(ctx)
	cancel()
	if err != nil {
		tb.Fatalf("%s: DTLS handshake: %v", id, err)
	}
	if p, ok := c.dtls.SelectedSRTPProtectionProfile(); !ok || p != dtls.SRTP_AEAD_AES_128_GCM {
		tb.Fatalf("%s: SRTP profile %v negotiated", id, p)
	}
	state, ok := c.dtls.ConnectionState()
	if !ok {
		tb.Fatalf("%s: no DTLS connection state", id)
	}
	cfg := srtp.Config{Profile: srtp.ProtectionProfileAeadAes128Gcm}
	if err := cfg.ExtractSessionKeysFromDTLS(&state, true); err != nil {
		tb.Fatal(err)
	}
	c.keys = cfg.Keys
	return c
}

func (c *benchWebRtcClient) close() {
	_ = c.conn.Close()
}

// webrtcEnv is one producer forwarded to n consumers over WebRtcTransports.
// The embedded fwdEnv gives the packet stream and the forwarded count; its
// prodT is the producer transport.
type webrtcEnv struct {
	fwdEnv
	srv     *WebRtcServer // nil: every transport has its own socket
	link    *webrtcLink   // the producer transport's
	path    icePath       // the producer client's tuple
	clients []*benchWebRtcClient
	// remote encrypts as the producer client: it tracks the rollover
	// counter as the producer transport's context does.
	remote *srtp.Context

	stopKeepalive chan struct{}
	keepalive     sync.WaitGroup
}

func (e *webrtcEnv) close() {
	close(e.stopKeepalive)
	e.keepalive.Wait()
	e.w.Close()
	e.w.Wait()
	for _, c := range e.clients {
		c.close()
	}
}

func newWebRtcEnv(tb testing.TB, server bool, n int) *webrtcEnv {
	tb.Helper()
	connected := make(chan string, n+1)
	w, err := NewWorker([]byte(`{"logLevel":"warn","rtcMinPort":20000,"rtcMaxPort":59999}`), benchDtlsConnected{connected})
	if err != nil {
		tb.Fatal(err)
	}
	e := &webrtcEnv{fwdEnv: fwdEnv{w: w}, stopKeepalive: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	router := benchRequest(tb, w, "worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": []any{
		map[string]any{"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2},
		map[string]any{"kind": "video", "mimeType": "video/VP8", "clockRate": 90000},
	}})
	caps := router["rtpCapabilities"]
	if server {
		benchRequest(tb, w, "worker.createWebRtcServer", "", map[string]any{"webRtcServerId": "srv",
			"listenInfos": []any{map[string]any{"protocol": "udp", "ip": "127.0.0.1"}}})
		e.srv = w.webRtcServer("srv")
	}
	certOpt, fp := selfSigned(tb)
	infos := map[string]*webrtcTransportInfo{}
	ids := []string{"tp"}
	for i := 0; i < n; i++ {
		ids = append(ids, fmt.Sprintf("tc%d", i))
	}
	for _, id := range ids {
		req := map[string]any{"transportId": id}
		if server {
			req["webRtcServerId"] = "srv"
			req["enableUdp"] = true
			req["enableTcp"] = false
		} else {
			req["listenInfos"] = []any{map[string]any{"protocol": "udp", "ip": "127.0.0.1"}}
		}
		var info webrtcTransportInfo
		b, _ := json.Marshal(req)
		out, err := w.Request("router.createWebRtcTransport", "r", b)
		if err != nil {
			tb.Fatalf("createWebRtcTransport: %v", err)
		}
		if err := json.Unmarshal(out, &info); err != nil || len(info.IceCandidates) != 1 {
			tb.Fatalf("createWebRtcTransport: %s (%v)", out, err)
		}
		infos[id] = &info
	}
	benchRequest(tb, w, "transport.produce", "tp", map[string]any{
		"producerId": "p", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs": []any{
				map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
					"rtcpFeedback": []any{map[string]any{"type": "nack"}, map[string]any{"type": "nack", "parameter": "pli"}}},
				map[string]any{"mimeType": "video/rtx", "payloadType": 102, "clockRate": 90000, "parameters": map[string]any{"apt": 101}},
			},
			"headerExtensions": []any{
				map[string]any{"uri": "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", "id": 2},
				map[string]any{"uri": "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", "id": 3},
			},
			"encodings": []any{map[string]any{"ssrc": 1111, "rtx": map[string]any{"ssrc": 1112}}},
		},
	})
	for i := 0; i < n; i++ {
		benchRequest(tb, w, "transport.consume", fmt.Sprintf("tc%d", i), map[string]any{
			"consumerId": fmt.Sprintf("c%d", i), "producerId": "p", "rtpCapabilities": caps,
		})
	}

	for _, id := range ids {
		e.clients = append(e.clients, connectClient(tb, w, id, infos[id], certOpt, fp))
	}
	// The transports' side of DTLS is done (SRTP contexts set) once they
	// report dtlsState connected.
	timeout := time.After(10 * time.Second)
	for range ids {
		select {
		case <-connected:
		case <-timeout:
			tb.Fatal("timeout waiting for the transports' DTLS to connect")
		}
	}
	// Stop reading: the producer client at once, the consumer clients
	// after their first RTP packet.
	e.clients[0].conn.stop.Store(true)
	for _, c := range e.clients[1:] {
		c.conn.capture.Store(true)
	}
	e.keepalive.Add(1)
	go e.refreshConsent()

	w.mu.Lock()
	e.prodT = w.handlers["tp"].(*Transport)
	for i := 0; i < n; i++ {
		e.consumers = append(e.consumers, w.handlers[fmt.Sprintf("c%d", i)].(*Consumer))
	}
	w.mu.Unlock()
	e.link = e.prodT.link.(*webrtcLink)
	sel := e.link.selected.Load()
	if sel == nil {
		tb.Fatal("no selected tuple on the producer transport")
	}
	e.path = *sel
	pk := e.clients[0].keys
	if e.remote, err = srtp.CreateContext(pk.LocalMasterKey, pk.LocalMasterSalt, srtp.ProtectionProfileAeadAes128Gcm); err != nil {
		tb.Fatal(err)
	}

	// The same VP8 stream as the plain benchmark.
	h := rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: 1000, Timestamp: 90000, SSRC: 1111}
	_ = h.SetExtension(2, []byte{1, 2, 3})
	_ = h.SetExtension(3, []byte{0, 1})
	e.pkt = make([]byte, benchPacketSize)
	if hl, err := h.MarshalTo(e.pkt); err != nil || hl != 24 {
		tb.Fatalf("header: %d bytes, %v", hl, err)
	}
	e.pkt[24] = 0x10 // VP8 descriptor: S=1, PID=0
	e.seq, e.ts = 1000, 90000

	// Warm up through the measured path: a key frame, then enough packets
	// to fill every retransmission buffer to its steady state.
	pkts := newBenchBatch()
	for done := 0; done < 5000; {
		k := min(len(pkts), 5000-done)
		e.encrypt(tb, pkts[:k], done == 0)
		e.receive(pkts[:k])
		done += k
	}
	// Every consumer client got a forwarded packet it can decrypt.
	for _, c := range e.clients[1:] {
		select {
		case <-c.conn.got:
		case <-time.After(5 * time.Second):
			tb.Fatalf("%s: no RTP packet received", c.id)
		}
		ctx, err := srtp.CreateContext(c.keys.RemoteMasterKey, c.keys.RemoteMasterSalt, srtp.ProtectionProfileAeadAes128Gcm)
		if err != nil {
			tb.Fatal(err)
		}
		var hdr rtp.Header
		if _, err := ctx.DecryptRTP(nil, c.conn.first, &hdr); err != nil {
			tb.Fatalf("%s: cannot decrypt the forwarded packet: %v", c.id, err)
		}
	}
	for i, c := range e.consumers {
		if got := c.send.Stats(0).PacketCount; got != 5000 {
			tb.Fatalf("consumer %d forwarded %d packets in warm-up, want 5000 (producer transport SRTP drops: %d)",
				i, got, e.prodT.drops.srtp.Load())
		}
	}
	ok = true
	return e
}

// refreshConsent sends every client's binding request every
// webrtcBenchConsent: ICE would drop the tuples after iceConsentTimeout.
func (e *webrtcEnv) refreshConsent() {
	defer e.keepalive.Done()
	tick := time.NewTicker(webrtcBenchConsent)
	defer tick.Stop()
	for {
		select {
		case <-e.stopKeepalive:
			return
		case <-tick.C:
		}
		for _, c := range e.clients {
			if req, err := benchStunRequest(c.ufrag, c.pwd); err == nil {
				_, _ = c.conn.UDPConn.WriteToUDP(req, c.to)
			}
		}
	}
}

// benchBatch is how many packets are encrypted ahead, timer stopped.
const benchBatch = 1024

func newBenchBatch() [][]byte {
	pkts := make([][]byte, benchBatch)
	for i := range pkts {
		pkts[i] = make([]byte, 0, 1600)
	}
	return pkts
}

// encrypt fills pkts with the next packets of the stream, SRTP-protected
// by the producer client (the first a key frame packet if key).
func (e *webrtcEnv) encrypt(tb testing.TB, pkts [][]byte, key bool) {
	var hdr rtp.Header
	for i := range pkts {
		out, err := e.remote.EncryptRTP(pkts[i][:0], e.nextPacket(key && i == 0), &hdr)
		if err != nil {
			tb.Fatal(err)
		}
		pkts[i] = out
	}
}

// receive hands pkts to the producer transport as its UDP read loop does
// (through the WebRtcServer's routing in server mode).
func (e *webrtcEnv) receive(pkts [][]byte) {
	for _, p := range pkts {
		l := e.link
		if e.srv != nil {
			if l = e.srv.route(p, e.path); l == nil {
				continue
			}
		}
		l.handlePacket(p, e.path, &e.hdr, e.w.nowMs())
	}
}

// BenchmarkForwardWebRtc is BenchmarkForwardIngress over WebRtcTransports
// (SRTP AEAD_AES_128_GCM keyed by DTLS), each on its own socket
// (transport) or all on one WebRtcServer (server). Per forwarded packet
// figures, with the paired GCM baseline.
func BenchmarkForwardWebRtc(b *testing.B) {
	for _, server := range []bool{false, true} {
		name := "transport"
		if server {
			name = "server"
		}
		for _, n := range benchFanouts {
			var env *webrtcEnv
			var bl *baseline
			b.Run(fmt.Sprintf("%s/N=%d", name, n), func(b *testing.B) {
				if env == nil {
					env = newWebRtcEnv(b, server, n)
					bl = newBaseline(b, "AEAD_AES_128_GCM")
				}
				pkts := newBenchBatch()
				f0 := env.forwarded()
				b.ReportAllocs()
				b.ResetTimer()
				var m, base measurement
				for done := 0; done < b.N; {
					k := min(benchBatch, b.N-done)
					b.StopTimer()
					env.encrypt(b, pkts[:k], false)
					b.StartTimer()
					m.add(measure(func() { env.receive(pkts[:k]) }))
					b.StopTimer()
					base.add(measure(func() { bl.run(k * n) }))
					b.StartTimer()
					done += k
				}
				b.StopTimer()
				fwd := env.forwarded() - f0
				if want := uint64(b.N) * uint64(n); fwd != want {
					b.Fatalf("forwarded %d packets, want %d (producer transport SRTP drops: %d, unknown tuple: %d)",
						fwd, want, env.prodT.drops.srtp.Load(), env.prodT.drops.unknownTuple.Load())
				}
				for _, c := range env.consumers {
					if !c.t.link.(*webrtcLink).connected() {
						b.Fatalf("consumer %s: its transport lost its ICE tuple or SRTP", c.id)
					}
				}
				report(b, fwd, m, base)
			})
			if env != nil {
				env.close()
				bl.close()
			}
		}
	}
}
