package engine

// Live transports for the network fuzz targets: a WebRtcTransport a raw
// client (STUN, pion/dtls, SRTP, pion/sctp over the same UDP socket) has
// connected, and PlainTransports with and without SRTP. After each input a
// target proves the transport still works by sending a marked, valid packet
// behind the input on the same socket and waiting until the consumer
// forwards it (and, over DTLS, an SCTP message until its DataConsumer gets
// it): packets of one socket are handled in order, so the input has been
// handled by then.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/sctp"
	"github.com/pion/srtp/v3"
	"github.com/pion/stun/v4"
)

// fuzzWait bounds every wait of the fuzz harness: generous, as the fuzzer
// loads the machine (a live transport answers in microseconds), yet under
// the 10 s after which the fuzzer reports a worker as hung, so a failure
// reports what it waited for.
const fuzzWait = 8 * time.Second

// fuzzEmitter keeps no event (a fuzz run emits millions), only what the
// checks need: the last state per target, event counts, and the highest
// marker the consumer "c" forwarded.
type fuzzEmitter struct {
	mu      sync.Mutex
	changed chan struct{}
	states  map[string]string
	counts  map[string]int
	marker  atomic.Uint32
	died    atomic.Bool
}

func newFuzzEmitter() *fuzzEmitter {
	return &fuzzEmitter{changed: make(chan struct{}), states: map[string]string{}, counts: map[string]int{}}
}

var markerMagic = []byte("fuzzmark")

func (e *fuzzEmitter) Emit(target, ev string, data []byte, _ bool) {
	if ev == "rtp" && target == "c" && len(data) >= 12+len(markerMagic)+4 {
		tail := data[len(data)-len(markerMagic)-4:]
		if bytes.Equal(tail[:len(markerMagic)], markerMagic) {
			id := binary.BigEndian.Uint32(tail[len(markerMagic):])
			for cur := e.marker.Load(); id > cur && !e.marker.CompareAndSwap(cur, id); cur = e.marker.Load() {
			}
		}
	}
	if ev == "died" {
		e.died.Store(true)
	}
	var state string
	if field, ok := strings.CutSuffix(ev, "statechange"); ok {
		var m map[string]any
		if json.Unmarshal(data, &m) == nil {
			state, _ = m[field+"State"].(string)
		}
	}
	e.mu.Lock()
	e.counts[target+"/"+ev]++
	if state != "" {
		e.states[target+"/"+ev] = state
	}
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()
}

func (e *fuzzEmitter) count(target, ev string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[target+"/"+ev]
}

func (e *fuzzEmitter) state(target, ev string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.states[target+"/"+ev]
}

// wait returns once cond holds, checking it on every event and every
// millisecond (for conditions on counters, which emit nothing).
func (e *fuzzEmitter) wait(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.NewTimer(fuzzWait)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		e.mu.Lock()
		ch := e.changed
		e.mu.Unlock()
		if cond() {
			return
		}
		if e.died.Load() {
			tb.Fatalf("worker died waiting for %s", what)
		}
		select {
		case <-ch:
		case <-tick.C:
		case <-deadline.C:
			tb.Fatalf("timed out waiting for %s", what)
		}
	}
}

// fuzzEnv is the testing.TB a harness is built with: failures go to the
// test, cleanups to a list of the harness's own.
type fuzzEnv struct {
	testing.TB
	cleanups *[]func()
}

func (e fuzzEnv) Cleanup(fn func()) { *e.cleanups = append(*e.cleanups, fn) }

// fuzzHarness keeps the live objects of a fuzz target from one input to
// the next, and builds them anew after an input failed: a broken harness
// would fail every later input, and minimisation would keep whichever of
// them it tried last instead of the input that broke it.
type fuzzHarness[H any] struct {
	build    func(testing.TB) H
	h        H
	cleanups []func()
	broken   bool
}

func newFuzzHarness[H any](f *testing.F, build func(testing.TB) H) *fuzzHarness[H] {
	hs := &fuzzHarness[H]{build: build}
	hs.h = build(fuzzEnv{f, &hs.cleanups})
	f.Cleanup(hs.close)
	return hs
}

func (hs *fuzzHarness[H]) close() {
	for i := len(hs.cleanups) - 1; i >= 0; i-- {
		hs.cleanups[i]()
	}
	hs.cleanups = nil
}

// get returns the harness for an input; done tells the input left it
// usable.
func (hs *fuzzHarness[H]) get(t *testing.T) H {
	if hs.broken {
		hs.close()
		hs.h = hs.build(fuzzEnv{t, &hs.cleanups})
	}
	hs.broken = true
	return hs.h
}

func (hs *fuzzHarness[H]) done() { hs.broken = false }

// quietPion is the logger factory of the clients' pion stacks.
func quietPion() logging.LoggerFactory {
	f := logging.NewDefaultLoggerFactory()
	f.DefaultLogLevel = logging.LogLevelDisabled
	return f
}

func fuzzRequest(tb testing.TB, w *Worker, method, handler string, data any) map[string]any {
	tb.Helper()
	return mustRequest(tb, w, method, handler, data)
}

// setupFuzzMedia creates a VP8 producer "p" (SSRC 1111) on transport tid
// and its consumer "c" on DirectTransport "d".
func setupFuzzMedia(tb testing.TB, w *Worker, caps any, tid string) {
	tb.Helper()
	fuzzRequest(tb, w, "transport.produce", tid, map[string]any{
		"producerId": "p", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs": []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
				"rtcpFeedback": []any{map[string]any{"type": "nack"}, map[string]any{"type": "nack", "parameter": "pli"}}}},
			"encodings": []any{map[string]any{"ssrc": 1111}},
		},
	})
	fuzzRequest(tb, w, "router.createDirectTransport", "r", map[string]any{"transportId": "d"})
	fuzzRequest(tb, w, "transport.consume", "d", map[string]any{"consumerId": "c", "producerId": "p", "rtpCapabilities": caps})
}

// markerPacket is a VP8 key frame of SSRC 1111 whose payload ends with the
// marker id.
func markerPacket(seq uint16, ts uint32, id uint32) []byte {
	payload := make([]byte, 200)
	payload[0] = 0x10 // S=1, PID=0; payload[1] 0: key frame
	tail := payload[len(payload)-len(markerMagic)-4:]
	copy(tail, markerMagic)
	binary.BigEndian.PutUint32(tail[len(markerMagic):], id)
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: seq, Timestamp: ts, SSRC: 1111, Marker: true}, Payload: payload}
	b, _ := p.Marshal()
	return b
}

// mediaSender sends the marked packets of a target.
type mediaSender struct {
	em     *fuzzEmitter
	conn   *net.UDPConn
	to     *net.UDPAddr
	srtp   *srtp.Context // nil: plain RTP
	seq    uint16
	ts     uint32
	marker uint32
}

// follow keeps the markers ahead of an input that was a plain RTP packet
// of SSRC 1111 ahead of them: markers behind a packet the consumer sent
// would be dropped as old.
func (s *mediaSender) follow(b []byte) {
	var h rtp.Header
	if s.srtp != nil || !isRtp(b) {
		return
	}
	if _, err := h.Unmarshal(b); err != nil || h.SSRC != 1111 {
		return
	}
	if d := h.SequenceNumber - s.seq; d != 0 && d < 1<<15 {
		s.seq = h.SequenceNumber
	}
}

// check sends three markers in sequence and waits until the consumer
// forwards the last. An input may have moved the producer's sequence far
// away (a plain RTP packet of SSRC 1111, taken or not): then, as in
// mediasoup's RtpStream, the producer drops the first marker as a jump and
// resynchronises on the second, which the consumer's send stream in turn
// drops as a jump of its own output; the third goes through.
func (s *mediaSender) check(tb testing.TB) {
	tb.Helper()
	for range 3 {
		s.seq++
		s.ts += 3000
		s.marker++
		pkt := markerPacket(s.seq, s.ts, s.marker)
		if s.srtp != nil {
			var err error
			if pkt, err = s.srtp.EncryptRTP(nil, pkt, nil); err != nil {
				tb.Fatal(err)
			}
		}
		if _, err := s.conn.WriteToUDP(pkt, s.to); err != nil {
			tb.Fatal(err)
		}
	}
	want := s.marker
	s.em.wait(tb, "a valid RTP packet forwarded", func() bool { return s.em.marker.Load() >= want })
}

// sendDatagram sends an input, cut to what one UDP datagram carries.
func sendDatagram(tb testing.TB, c *net.UDPConn, to *net.UDPAddr, b []byte) {
	tb.Helper()
	if len(b) > 65507 {
		b = b[:65507]
	}
	if _, err := c.WriteToUDP(b, to); err != nil {
		tb.Fatal(err)
	}
}

func loopbackUDP(tb testing.TB) *net.UDPConn {
	tb.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// newFuzzWorker returns a worker with router "r" and the router's RTP
// capabilities.
func newFuzzWorker(tb testing.TB) (*Worker, *fuzzEmitter, any) {
	tb.Helper()
	em := newFuzzEmitter()
	w, err := NewWorker([]byte(`{"logLevel":"none"}`), em)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close(); w.Wait() })
	router := fuzzRequest(tb, w, "worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})
	return w, em, router["rtpCapabilities"]
}

// webrtcFuzz is a WebRtcTransport "wt" connected to a raw client: ICE
// selected its UDP tuple, DTLS (gosfu the server) and SCTP are up, and a
// DataChannel (stream 1) reaches DataConsumer "sink".
type webrtcFuzz struct {
	w       *Worker
	em      *fuzzEmitter
	l       *webrtcLink
	server  *net.UDPAddr
	client  *net.UDPConn
	foreign *net.UDPConn
	media   *mediaSender
	stream  *sctp.Stream
	msgs    int
}

func newWebrtcFuzz(tb testing.TB) *webrtcFuzz {
	tb.Helper()
	w, em, caps := newFuzzWorker(tb)
	info := fuzzRequest(tb, w, "router.createWebRtcTransport", "r", map[string]any{
		"transportId": "wt", "listenInfos": []any{map[string]any{"protocol": "udp", "ip": "127.0.0.1"}},
		"enableSctp": true, "iceConsentTimeout": 0,
	})
	setupFuzzMedia(tb, w, caps, "wt")
	fuzzRequest(tb, w, "transport.produceData", "wt", map[string]any{"dataProducerId": "up", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 1, "ordered": true}})
	fuzzRequest(tb, w, "transport.consumeData", "d", map[string]any{"dataConsumerId": "sink", "dataProducerId": "up", "type": "direct"})

	ice := info["iceParameters"].(map[string]any)
	port := info["iceCandidates"].([]any)[0].(map[string]any)["port"].(float64)
	f := &webrtcFuzz{w: w, em: em, l: w.handlers["wt"].(*Transport).link.(*webrtcLink),
		server: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(port)}, client: loopbackUDP(tb), foreign: loopbackUDP(tb)}

	// ICE: a binding request with USE-CANDIDATE selects the tuple.
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.NewUsername(ice["usernameFragment"].(string)+":fuzz"),
		stun.RawAttribute{Type: stun.AttrPriority, Value: []byte{0x6e, 0, 0x1e, 0xff}},
		stun.RawAttribute{Type: stun.AttrICEControlling, Value: make([]byte, 8)},
		stun.RawAttribute{Type: stun.AttrUseCandidate},
		stun.NewShortTermIntegrity(ice["password"].(string)), stun.Fingerprint)
	if err != nil {
		tb.Fatal(err)
	}
	sendDatagram(tb, f.client, f.server, req.Raw)
	em.wait(tb, "ICE completed", func() bool { return f.l.selected.Load() != nil })

	// DTLS, gosfu the server.
	certOpt, fp := selfSigned(tb)
	fuzzRequest(tb, w, "transport.connect", "wt", map[string]any{"dtlsParameters": map[string]any{
		"role": "client", "fingerprints": []any{map[string]any{"algorithm": "sha-256", "value": fp}}}})
	dc, err := dtls.ClientWithOptions(f.client, f.server,
		certOpt, dtls.WithInsecureSkipVerify(true),
		dtls.WithSRTPProtectionProfiles(dtls.SRTP_AES128_CM_HMAC_SHA1_80),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithLoggerFactory(quietPion()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = dc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), fuzzWait)
	defer cancel()
	if err := dc.HandshakeContext(ctx); err != nil {
		tb.Fatalf("DTLS handshake: %v", err)
	}
	em.wait(tb, "SRTP ready", f.l.srtpReady.Load)

	// SRTP keys of the client side.
	state, ok := dc.ConnectionState()
	if !ok {
		tb.Fatal("no DTLS state")
	}
	cfg := srtp.Config{Profile: srtp.ProtectionProfileAes128CmHmacSha1_80}
	if err := cfg.ExtractSessionKeysFromDTLS(&state, true); err != nil {
		tb.Fatal(err)
	}
	sc, err := srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, cfg.Profile)
	if err != nil {
		tb.Fatal(err)
	}
	f.media = &mediaSender{em: em, conn: f.client, to: f.server, srtp: sc}

	// SCTP, the client starting it as a browser does.
	assoc, err := sctp.ClientWithOptions(sctp.WithNetConn(dc), sctp.WithLoggerFactory(quietPion()))
	if err != nil {
		tb.Fatalf("SCTP: %v", err)
	}
	tb.Cleanup(func() { _ = assoc.Close() })
	if f.stream, err = assoc.OpenStream(1, sctp.PayloadTypeWebRTCBinary); err != nil {
		tb.Fatal(err)
	}
	f.check(tb)
	return f
}

// check proves the transport still works after an input: the media marker
// is forwarded, an SCTP message (behind any DTLS record of the input, on
// the same socket) arrives, and DTLS stayed connected.
func (f *webrtcFuzz) check(tb testing.TB) {
	tb.Helper()
	f.media.check(tb)
	f.msgs++
	if _, err := f.stream.WriteSCTP([]byte("ping"), sctp.PayloadTypeWebRTCBinary); err != nil {
		tb.Fatalf("SCTP write: %v", err)
	}
	want := f.msgs
	f.em.wait(tb, "a DataChannel message delivered", func() bool { return f.em.count("sink", "message") >= want })
	if st := f.l.dtlsState.Load().(string); st != "connected" || !f.l.srtpReady.Load() {
		tb.Fatalf("dtlsState %s, srtpReady %v", st, f.l.srtpReady.Load())
	}
	if st := f.em.state("wt", "sctpstatechange"); st != "connected" {
		tb.Fatalf("sctpState %s", st)
	}
}

// plainFuzz is a PlainTransport "pt" (rtcp-mux, SCTP enabled, optionally
// SRTP) connected to a client socket.
type plainFuzz struct {
	w       *Worker
	em      *fuzzEmitter
	l       *plainLink
	server  *net.UDPAddr
	client  *net.UDPConn
	foreign *net.UDPConn
	media   *mediaSender
}

func newPlainFuzz(tb testing.TB, withSrtp bool) *plainFuzz {
	tb.Helper()
	const suite = "AES_CM_128_HMAC_SHA1_80"
	w, em, caps := newFuzzWorker(tb)
	info := fuzzRequest(tb, w, "router.createPlainTransport", "r", map[string]any{
		"transportId": "pt", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"},
		"rtcpMux": true, "comedia": false, "enableSctp": true, "enableSrtp": withSrtp, "srtpCryptoSuite": suite,
	})
	setupFuzzMedia(tb, w, caps, "pt")
	f := &plainFuzz{w: w, em: em, l: w.handlers["pt"].(*Transport).link.(*plainLink),
		server: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tuplePort(info)}, client: loopbackUDP(tb), foreign: loopbackUDP(tb)}
	f.media = &mediaSender{em: em, conn: f.client, to: f.server}
	connect := map[string]any{"ip": "127.0.0.1", "port": f.client.LocalAddr().(*net.UDPAddr).Port}
	if withSrtp {
		params, key := newSrtpKey(suite)
		connect["srtpParameters"] = params
		sc, err := newSrtpContext(suite, key, false)
		if err != nil {
			tb.Fatal(err)
		}
		f.media.srtp = sc
	}
	fuzzRequest(tb, w, "transport.connect", "pt", connect)
	f.media.check(tb)
	return f
}
