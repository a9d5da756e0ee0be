package engine

// A second, independent implementation of a WebRTC endpoint talking to the
// engine: pion/webrtc PeerConnections publish and subscribe through
// WebRtcTransports (own sockets or a WebRtcServer, UDP and ICE-TCP). The
// signalling is done in-process the way mediasoup-client does it for an
// ICE-lite server: the remote SDP is built from the transport's
// iceParameters, iceCandidates and dtlsParameters.

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pionice "github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/gosfu/gosfu/gosfu/codecs"
)

// pionEvents is the worker's Emitter for these tests.
type pionEvents struct {
	mu     sync.Mutex
	events []pionEvent
}

type pionEvent struct {
	target, name string
	data         []byte
}

func (r *pionEvents) Emit(target, ev string, data []byte, binary bool) {
	r.mu.Lock()
	r.events = append(r.events, pionEvent{target, ev, append([]byte(nil), data...)})
	r.mu.Unlock()
}

// has reports whether target emitted ev with a payload field equal to value.
func (r *pionEvents) has(target, ev, field, value string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.target != target || e.name != ev {
			continue
		}
		var m map[string]any
		if json.Unmarshal(e.data, &m) == nil && m[field] == value {
			return true
		}
	}
	return false
}

func newPionWorker(t *testing.T) (*Worker, *pionEvents) {
	t.Helper()
	rec := &pionEvents{}
	w, err := NewWorker([]byte(`{"logLevel":"error","rtcMinPort":40000,"rtcMaxPort":49999}`), rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); w.Wait() })
	return w, rec
}

func pionRequest(t *testing.T, w *Worker, method, handler string, data any) []byte {
	t.Helper()
	b, _ := json.Marshal(data)
	out, err := w.Request(method, handler, b)
	if err != nil {
		t.Fatalf("%s(%s): %v", method, handler, err)
	}
	return out
}

func pionRequestInto(t *testing.T, w *Worker, method, handler string, data, into any) {
	t.Helper()
	out := pionRequest(t, w, method, handler, data)
	if err := json.Unmarshal(out, into); err != nil {
		t.Fatalf("%s: decoding %s: %v", method, out, err)
	}
}

// webrtcTransportInfo is the part of createWebRtcTransport's answer the
// client needs.
type webrtcTransportInfo struct {
	IceRole       string `json:"iceRole"`
	IceParameters struct {
		UsernameFragment string `json:"usernameFragment"`
		Password         string `json:"password"`
		IceLite          bool   `json:"iceLite"`
	} `json:"iceParameters"`
	IceCandidates  []IceCandidate `json:"iceCandidates"`
	IceState       string         `json:"iceState"`
	DtlsParameters struct {
		Fingerprints []DtlsFingerprint `json:"fingerprints"`
		Role         string            `json:"role"`
	} `json:"dtlsParameters"`
	DtlsState string `json:"dtlsState"`
}

func (i *webrtcTransportInfo) fingerprint(t *testing.T) string {
	for _, f := range i.DtlsParameters.Fingerprints {
		if f.Algorithm == "sha-256" {
			return f.Value
		}
	}
	t.Fatalf("no sha-256 fingerprint in %+v", i.DtlsParameters)
	return ""
}

// pionCase says where a transport listens and who is the DTLS client.
type pionCase struct {
	name     string
	server   bool // through a WebRtcServer
	tcp      bool // ICE-TCP only (pion active, gosfu passive)
	sfuDtlsC bool // gosfu is the DTLS client (pion the server)
}

var pionTransportSeq atomic.Int64

func createPionTransport(t *testing.T, w *Worker, routerID string, c pionCase, serverID string) (string, *webrtcTransportInfo) {
	t.Helper()
	id := fmt.Sprintf("wt%d", pionTransportSeq.Add(1))
	req := map[string]any{"transportId": id}
	proto := "udp"
	if c.tcp {
		proto = "tcp"
	}
	if c.server {
		req["webRtcServerId"] = serverID
		req["enableUdp"] = !c.tcp
		req["enableTcp"] = c.tcp
	} else {
		req["listenInfos"] = []any{map[string]any{"protocol": proto, "ip": "127.0.0.1"}}
	}
	var info webrtcTransportInfo
	pionRequestInto(t, w, "router.createWebRtcTransport", routerID, req, &info)
	if info.IceRole != "controlled" || !info.IceParameters.IceLite || info.IceState != "new" || info.DtlsState != "new" ||
		info.DtlsParameters.Role != "auto" || len(info.IceCandidates) != 1 {
		t.Fatalf("unexpected transport info %+v", info)
	}
	cand := info.IceCandidates[0]
	if cand.Protocol != proto || cand.Type != "host" || cand.IP != "127.0.0.1" || cand.Port == 0 ||
		(c.tcp && cand.TcpType != "passive") {
		t.Fatalf("unexpected candidate %+v", cand)
	}
	return id, &info
}

func newPionAPI(t *testing.T, c pionCase, answerAsDtlsServer bool) *webrtc.API {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: "urn:ietf:params:rtp-hdrext:sdes:mid"}, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetICEMulticastDNSMode(pionice.MulticastDNSModeDisabled)
	if c.tcp {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	// pion answers an ICE-lite offer as DTLS server by default; choose
	// explicitly so both gosfu DTLS roles are exercised.
	answerRole := webrtc.DTLSRoleClient
	if answerAsDtlsServer {
		answerRole = webrtc.DTLSRoleServer
	}
	if err := se.SetAnsweringDTLSRole(answerRole); err != nil {
		t.Fatal(err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// sdpTransportLines are the media-level transport attributes of the
// remote (gosfu) side.
func sdpTransportLines(b *strings.Builder, info *webrtcTransportInfo, setup string) {
	fmt.Fprintf(b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", info.IceParameters.UsernameFragment, info.IceParameters.Password)
	for _, c := range info.IceCandidates {
		fmt.Fprintf(b, "a=candidate:%s 1 %s %d %s %d typ %s", c.Foundation, c.Protocol, c.Priority, c.IP, c.Port, c.Type)
		if c.TcpType != "" {
			fmt.Fprintf(b, " tcptype %s", c.TcpType)
		}
		b.WriteString("\r\n")
	}
	b.WriteString("a=end-of-candidates\r\na=ice-options:renomination\r\n")
	fmt.Fprintf(b, "a=setup:%s\r\na=rtcp-mux\r\na=rtcp-rsize\r\n", setup)
}

func sdpSessionLines(b *strings.Builder, info *webrtcTransportInfo, fingerprint, mid string) {
	b.WriteString("v=0\r\no=gosfu 10000 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n")
	fmt.Fprintf(b, "a=fingerprint:sha-256 %s\r\n", fingerprint)
	fmt.Fprintf(b, "a=msid-semantic: WMS *\r\na=group:BUNDLE %s\r\n", mid)
}

// localDtls parses the fingerprint and setup role of a local description.
func localDtls(t *testing.T, desc *webrtc.SessionDescription) (fingerprint, setup string) {
	t.Helper()
	var s sdp.SessionDescription
	if err := s.Unmarshal([]byte(desc.SDP)); err != nil {
		t.Fatal(err)
	}
	fp, ok := s.Attribute("fingerprint")
	for _, m := range s.MediaDescriptions {
		if v, ok2 := m.Attribute("fingerprint"); ok2 && !ok {
			fp, ok = v, true
		}
		if v, ok2 := m.Attribute("setup"); ok2 {
			setup = v
		}
	}
	alg, value, _ := strings.Cut(fp, " ")
	if !ok || alg != "sha-256" || setup == "" {
		t.Fatalf("no sha-256 fingerprint/setup in local SDP:\n%s", desc.SDP)
	}
	return value, setup
}

// dtlsRoleFromSetup is mediasoup-client's mapping of a=setup to the local
// DTLS role given to transport.connect.
func dtlsRoleFromSetup(setup string) string {
	switch setup {
	case "active":
		return "client"
	case "passive":
		return "server"
	}
	return "auto"
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timeout waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func transportStats(t *testing.T, w *Worker, id string) map[string]any {
	t.Helper()
	var st []map[string]any
	pionRequestInto(t, w, "transport.getStats", id, nil, &st)
	if len(st) != 1 {
		t.Fatalf("transport.getStats: %v", st)
	}
	return st[0]
}

func waitDtlsConnected(t *testing.T, w *Worker, id string, pc *webrtc.PeerConnection) {
	t.Helper()
	waitFor(t, "DTLS connected on "+id, 10*time.Second, func() bool {
		st := transportStats(t, w, id)
		return st["dtlsState"] == "connected" && pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	st := transportStats(t, w, id)
	if st["iceState"] != "completed" && st["iceState"] != "connected" {
		t.Fatalf("iceState %v", st["iceState"])
	}
	if _, ok := st["iceSelectedTuple"]; !ok {
		t.Fatal("no iceSelectedTuple")
	}
}

// publisher is a pion PeerConnection sending one VP8 track.
type publisher struct {
	pc        *webrtc.PeerConnection
	track     *webrtc.TrackLocalStaticSample
	sender    *webrtc.RTPSender
	keyWanted atomic.Bool
	plis      atomic.Int64
}

// publish negotiates a sending PeerConnection against a gosfu transport and
// creates the producer.
func publish(t *testing.T, w *Worker, api *webrtc.API, transportID string, info *webrtcTransportInfo, c pionCase, producerID string) *publisher {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "pion")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	p := &publisher{pc: pc, track: track, sender: tr.Sender()}
	go func() {
		for {
			pkts, _, err := p.sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, pkt := range pkts {
				switch pkt.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					p.plis.Add(1)
					p.keyWanted.Store(true)
				}
			}
		}
	}()

	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	local := pc.LocalDescription()
	var parsed sdp.SessionDescription
	if err := parsed.Unmarshal([]byte(local.SDP)); err != nil {
		t.Fatal(err)
	}
	if len(parsed.MediaDescriptions) != 1 {
		t.Fatalf("offer has %d m-sections", len(parsed.MediaDescriptions))
	}
	md := parsed.MediaDescriptions[0]
	mid, _ := md.Attribute("mid")
	vp8PT, rtxPT := -1, -1
	var rtcpFb []string
	for _, a := range md.Attributes {
		switch a.Key {
		case "rtpmap":
			pt, enc, _ := strings.Cut(a.Value, " ")
			n, _ := strconv.Atoi(pt)
			if strings.HasPrefix(strings.ToUpper(enc), "VP8/") && vp8PT < 0 {
				vp8PT = n
			}
		}
	}
	for _, a := range md.Attributes {
		if a.Key == "fmtp" && strings.HasSuffix(a.Value, fmt.Sprintf("apt=%d", vp8PT)) {
			pt, _, _ := strings.Cut(a.Value, " ")
			rtxPT, _ = strconv.Atoi(pt)
		}
		if a.Key == "rtcp-fb" && strings.HasPrefix(a.Value, fmt.Sprintf("%d ", vp8PT)) {
			rtcpFb = append(rtcpFb, strings.TrimPrefix(a.Value, fmt.Sprintf("%d ", vp8PT)))
		}
	}
	if vp8PT < 0 || mid == "" {
		t.Fatalf("no VP8 / mid in offer:\n%s", local.SDP)
	}
	// Header extensions gosfu knows that pion offered, with pion's ids.
	type ext struct {
		id  int
		uri string
	}
	var exts []ext
	for _, a := range md.Attributes {
		if a.Key != "extmap" {
			continue
		}
		idStr, uri, _ := strings.Cut(a.Value, " ")
		id, _ := strconv.Atoi(idStr)
		switch uri {
		case "urn:ietf:params:rtp-hdrext:sdes:mid",
			"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
			"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time":
			exts = append(exts, ext{id, uri})
		}
	}

	// gosfu's answer: it receives, so recvonly.
	setup := "passive"
	if c.sfuDtlsC {
		setup = "active"
	}
	var b strings.Builder
	sdpSessionLines(&b, info, info.fingerprint(t), mid)
	pts := strconv.Itoa(vp8PT)
	if rtxPT >= 0 {
		pts += " " + strconv.Itoa(rtxPT)
	}
	proto := "UDP/TLS/RTP/SAVPF"
	if c.tcp {
		proto = "TCP/TLS/RTP/SAVPF"
	}
	fmt.Fprintf(&b, "m=video 7 %s %s\r\nc=IN IP4 127.0.0.1\r\na=rtcp:9 IN IP4 0.0.0.0\r\n", proto, pts)
	fmt.Fprintf(&b, "a=mid:%s\r\na=recvonly\r\n", mid)
	sdpTransportLines(&b, info, setup)
	fmt.Fprintf(&b, "a=rtpmap:%d VP8/90000\r\n", vp8PT)
	for _, fb := range rtcpFb {
		fmt.Fprintf(&b, "a=rtcp-fb:%d %s\r\n", vp8PT, fb)
	}
	if rtxPT >= 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%d\r\n", rtxPT, rtxPT, vp8PT)
	}
	for _, e := range exts {
		fmt.Fprintf(&b, "a=extmap:%d %s\r\n", e.id, e.uri)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: b.String()}); err != nil {
		t.Fatalf("SetRemoteDescription(answer): %v\n%s", err, b.String())
	}

	fp, localSetup := localDtls(t, local)
	role := "client"
	if c.sfuDtlsC {
		// pion offered actpass and gosfu answered active: pion is the server.
		role = "server"
	} else if r := dtlsRoleFromSetup(localSetup); r != "auto" {
		role = r
	}
	var conn map[string]any
	pionRequestInto(t, w, "transport.connect", transportID, map[string]any{
		"dtlsParameters": map[string]any{"role": role, "fingerprints": []any{map[string]any{"algorithm": "sha-256", "value": fp}}},
	}, &conn)
	wantLocal := "server"
	if role == "server" {
		wantLocal = "client"
	}
	if conn["dtlsLocalRole"] != wantLocal {
		t.Fatalf("dtlsLocalRole %v, want %s", conn["dtlsLocalRole"], wantLocal)
	}

	params := p.sender.GetParameters()
	if len(params.Encodings) != 1 || params.Encodings[0].SSRC == 0 {
		t.Fatalf("sender encodings %+v", params.Encodings)
	}
	fbs := []any{}
	for _, fb := range rtcpFb {
		typ, param, _ := strings.Cut(fb, " ")
		fbs = append(fbs, map[string]any{"type": typ, "parameter": param})
	}
	codecList := []any{map[string]any{"mimeType": "video/VP8", "payloadType": vp8PT, "clockRate": 90000, "rtcpFeedback": fbs}}
	enc := map[string]any{"ssrc": uint32(params.Encodings[0].SSRC)}
	if rtxPT >= 0 {
		codecList = append(codecList, map[string]any{"mimeType": "video/rtx", "payloadType": rtxPT, "clockRate": 90000,
			"parameters": map[string]any{"apt": vp8PT}})
		if params.Encodings[0].RTX.SSRC != 0 {
			enc["rtx"] = map[string]any{"ssrc": uint32(params.Encodings[0].RTX.SSRC)}
		}
	}
	hdrExts := []any{}
	for _, e := range exts {
		hdrExts = append(hdrExts, map[string]any{"uri": e.uri, "id": e.id})
	}
	pionRequest(t, w, "transport.produce", transportID, map[string]any{
		"producerId": producerID, "kind": "video",
		"rtpParameters": map[string]any{
			"mid": mid, "codecs": codecList, "headerExtensions": hdrExts,
			"encodings": []any{enc}, "rtcp": map[string]any{"cname": "pioncname", "reducedSize": true},
		},
		"paused": false, "keyFrameRequestDelay": 0,
	})
	waitDtlsConnected(t, w, transportID, pc)
	return p
}

// vp8Frame is a synthetic VP8 frame: a valid frame tag (and for key
// frames the start code and a 640x480 size) padded to size.
func vp8Frame(key bool, n, size int) []byte {
	f := make([]byte, size)
	for i := range f {
		f[i] = byte(n + i)
	}
	first := 100
	tag := uint32(first)<<5 | 1<<4 // show_frame
	if !key {
		tag |= 1
	}
	f[0], f[1], f[2] = byte(tag), byte(tag>>8), byte(tag>>16)
	if key {
		copy(f[3:], []byte{0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01})
	}
	return f
}

// sendFrames writes ~30 fps for d: a key frame first, then delta frames,
// and a key frame whenever gosfu asked for one (PLI/FIR).
func (p *publisher) sendFrames(t *testing.T, d time.Duration) int {
	n := 0
	tick := time.NewTicker(33 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		key := n == 0 || p.keyWanted.Swap(false)
		size := 900
		if key {
			size = 2500 // two or more RTP packets
		}
		if err := p.track.WriteSample(media.Sample{Data: vp8Frame(key, n, size), Duration: 33 * time.Millisecond}); err != nil {
			t.Errorf("WriteSample: %v", err)
			return n
		}
		n++
		<-tick.C
	}
	return n
}

// consumerParams is the consumer's rtpParameters as transport.consume
// returns them.
type consumerParams struct {
	Mid    string `json:"mid"`
	Codecs []struct {
		MimeType     string         `json:"mimeType"`
		PayloadType  int            `json:"payloadType"`
		ClockRate    int            `json:"clockRate"`
		Parameters   map[string]any `json:"parameters"`
		RtcpFeedback []struct {
			Type      string `json:"type"`
			Parameter string `json:"parameter"`
		} `json:"rtcpFeedback"`
	} `json:"codecs"`
	HeaderExtensions []struct {
		URI string `json:"uri"`
		ID  int    `json:"id"`
	} `json:"headerExtensions"`
	Encodings []struct {
		Ssrc uint32 `json:"ssrc"`
		Rtx  *struct {
			Ssrc uint32 `json:"ssrc"`
		} `json:"rtx"`
	} `json:"encodings"`
	Rtcp struct {
		Cname string `json:"cname"`
	} `json:"rtcp"`
}

// subscriber is a pion PeerConnection receiving the consumer's track.
type subscriber struct {
	pc      *webrtc.PeerConnection
	params  consumerParams
	mu      sync.Mutex
	pkts    []*rtp.Packet
	track   *webrtc.TrackRemote
	trackCh chan struct{}
}

func (s *subscriber) received() []*rtp.Packet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*rtp.Packet(nil), s.pkts...)
}

// subscribe creates a consumer of producerID on a gosfu transport and a
// receiving PeerConnection answering gosfu's offer.
func subscribe(t *testing.T, w *Worker, api *webrtc.API, transportID string, info *webrtcTransportInfo, c pionCase,
	caps json.RawMessage, producerID, consumerID string) *subscriber {
	t.Helper()
	var cons struct {
		Kind          string         `json:"kind"`
		RtpParameters consumerParams `json:"rtpParameters"`
		Type          string         `json:"type"`
	}
	pionRequestInto(t, w, "transport.consume", transportID, map[string]any{
		"consumerId": consumerID, "producerId": producerID, "rtpCapabilities": caps, "paused": false,
	}, &cons)
	cp := cons.RtpParameters
	if cons.Kind != "video" || cons.Type != "simple" || cp.Mid == "" || len(cp.Encodings) != 1 || cp.Encodings[0].Ssrc == 0 ||
		len(cp.Codecs) == 0 || !strings.EqualFold(cp.Codecs[0].MimeType, "video/VP8") {
		t.Fatalf("unexpected consumer %+v", cons)
	}

	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	s := &subscriber{pc: pc, params: cp, trackCh: make(chan struct{})}
	pc.OnTrack(func(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		s.mu.Lock()
		s.track = tr
		s.mu.Unlock()
		close(s.trackCh)
		go func() {
			for {
				if _, _, err := recv.ReadRTCP(); err != nil {
					return
				}
			}
		}()
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.pkts = append(s.pkts, p)
			s.mu.Unlock()
		}
	})

	offer := consumerOfferSdp(t, info, cp, consumerID, c.tcp)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatalf("SetRemoteDescription(offer): %v\n%s", err, offer)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	fp, setup := localDtls(t, pc.LocalDescription())
	wantSetup := "active"
	if c.sfuDtlsC {
		wantSetup = "passive"
	}
	if setup != wantSetup {
		t.Fatalf("pion answered a=setup:%s, want %s", setup, wantSetup)
	}
	pionRequest(t, w, "transport.connect", transportID, map[string]any{
		"dtlsParameters": map[string]any{"role": dtlsRoleFromSetup(setup), "fingerprints": []any{map[string]any{"algorithm": "sha-256", "value": fp}}},
	})
	waitDtlsConnected(t, w, transportID, pc)
	return s
}

// pubSub publishes and subscribes one VP8 track and checks what arrives.
// inject, when set, runs once both sides are connected, before media.
func pubSub(t *testing.T, w *Worker, rec *pionEvents, routerID string, caps json.RawMessage, c pionCase, serverID string, d time.Duration,
	inject func(sendInfo, recvInfo *webrtcTransportInfo)) {
	t.Helper()
	api := newPionAPI(t, c, c.sfuDtlsC)
	sendID, sendInfo := createPionTransport(t, w, routerID, c, serverID)
	recvID, recvInfo := createPionTransport(t, w, routerID, c, serverID)
	prodID, consID := "p-"+sendID, "c-"+recvID

	pub := publish(t, w, api, sendID, sendInfo, c, prodID)
	sub := subscribe(t, w, api, recvID, recvInfo, c, caps, prodID, consID)

	if inject != nil {
		inject(sendInfo, recvInfo)
	}
	frames := pub.sendFrames(t, d)
	select {
	case <-sub.trackCh:
	case <-time.After(3 * time.Second):
		t.Fatalf("OnTrack never fired (%d frames sent, %d PLIs)", frames, pub.plis.Load())
	}
	enc := sub.params.Encodings[0]
	pt := uint8(sub.params.Codecs[0].PayloadType)
	minPkts := frames // at least one packet per frame
	waitFor(t, "subscriber packets", 3*time.Second, func() bool { return len(sub.received()) >= minPkts })
	pkts := sub.received()
	sub.mu.Lock()
	tr := sub.track
	sub.mu.Unlock()
	if uint32(tr.SSRC()) != enc.Ssrc || uint8(tr.PayloadType()) != pt {
		t.Fatalf("track ssrc %d pt %d, want %d %d", tr.SSRC(), tr.PayloadType(), enc.Ssrc, pt)
	}
	for i, p := range pkts {
		if p.SSRC != enc.Ssrc || p.PayloadType != pt {
			t.Fatalf("packet %d: ssrc %d pt %d, want %d %d", i, p.SSRC, p.PayloadType, enc.Ssrc, pt)
		}
	}
	if !codecs.VP8IsKeyFrame(pkts[0].Payload) {
		t.Fatalf("first received packet is not a VP8 key frame start: % x", pkts[0].Payload[:min(8, len(pkts[0].Payload))])
	}
	var vp8 codecs.VP8Descriptor
	if err := vp8.Unmarshal(pkts[0].Payload); err != nil || !bytes.HasPrefix(pkts[0].Payload[vp8.HeaderSize+3:], []byte{0x9d, 0x01, 0x2a}) {
		t.Fatalf("first packet does not carry the key frame start code: %v", err)
	}

	var pstats []map[string]any
	pionRequestInto(t, w, "producer.getStats", prodID, nil, &pstats)
	if len(pstats) == 0 || pstats[0]["packetCount"].(float64) < float64(frames) {
		t.Fatalf("producer stats %v (frames %d)", pstats, frames)
	}
	if pstats[0]["type"] != "inbound-rtp" || uint32(pstats[0]["ssrc"].(float64)) != uint32(pub.sender.GetParameters().Encodings[0].SSRC) {
		t.Fatalf("producer stats %v", pstats[0])
	}
	var cstats []map[string]any
	pionRequestInto(t, w, "consumer.getStats", consID, nil, &cstats)
	if len(cstats) == 0 || cstats[0]["packetCount"].(float64) < float64(len(pkts)) {
		t.Fatalf("consumer stats %v (received %d)", cstats, len(pkts))
	}
	for _, id := range []string{sendID, recvID} {
		for _, ev := range []struct{ name, field, value string }{
			{"dtlsstatechange", "dtlsState", "connecting"},
			{"dtlsstatechange", "dtlsState", "connected"},
		} {
			if !rec.has(id, ev.name, ev.field, ev.value) {
				t.Errorf("%s: no %s %s", id, ev.name, ev.value)
			}
		}
		if !rec.has(id, "icestatechange", "iceState", "completed") && !rec.has(id, "icestatechange", "iceState", "connected") {
			t.Errorf("%s: no icestatechange", id)
		}
		var tuple map[string]any
		rec.mu.Lock()
		for _, e := range rec.events {
			if e.target == id && e.name == "iceselectedtuplechange" {
				var m map[string]map[string]any
				_ = json.Unmarshal(e.data, &m)
				tuple = m["iceSelectedTuple"]
			}
		}
		rec.mu.Unlock()
		wantProto := "udp"
		if c.tcp {
			wantProto = "tcp"
		}
		if tuple == nil || tuple["protocol"] != wantProto || tuple["remoteIp"] != "127.0.0.1" {
			t.Errorf("%s: iceselectedtuplechange %v", id, tuple)
		}
	}
	t.Logf("%s: %d frames sent, %d packets received, %d PLIs", c.name, frames, len(pkts), pub.plis.Load())
	_ = pub.pc.Close()
	_ = sub.pc.Close()
	pionRequest(t, w, "router.closeTransport", routerID, map[string]any{"transportId": sendID})
	pionRequest(t, w, "router.closeTransport", routerID, map[string]any{"transportId": recvID})
}

func setupPionRouter(t *testing.T, w *Worker) (string, json.RawMessage) {
	t.Helper()
	var r struct {
		RtpCapabilities json.RawMessage `json:"rtpCapabilities"`
	}
	pionRequestInto(t, w, "worker.createRouter", "", map[string]any{"routerId": "pion-r", "mediaCodecs": []any{
		map[string]any{"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2},
		map[string]any{"kind": "video", "mimeType": "video/VP8", "clockRate": 90000},
	}}, &r)
	return "pion-r", r.RtpCapabilities
}

func createPionServer(t *testing.T, w *Worker, id string) {
	t.Helper()
	pionRequest(t, w, "worker.createWebRtcServer", "", map[string]any{"webRtcServerId": id, "listenInfos": []any{
		map[string]any{"protocol": "udp", "ip": "127.0.0.1"},
		map[string]any{"protocol": "tcp", "ip": "127.0.0.1"},
	}})
}

func TestPionPublishSubscribe(t *testing.T) {
	w, rec := newPionWorker(t)
	routerID, caps := setupPionRouter(t, w)
	createPionServer(t, w, "pion-srv")
	for _, c := range []pionCase{
		{name: "udp"},
		{name: "udp-sfu-dtls-client", sfuDtlsC: true},
		{name: "server-udp", server: true},
		{name: "tcp", tcp: true},
		{name: "server-tcp", server: true, tcp: true, sfuDtlsC: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			pubSub(t, w, rec, routerID, caps, c, "pion-srv", 1500*time.Millisecond, nil)
		})
	}
}

// stunRequest builds a binding request to a gosfu transport.
func stunRequest(t *testing.T, ufrag, pwd string, withIntegrity, withFingerprint, withPriority bool) []byte {
	t.Helper()
	setters := []stun.Setter{stun.TransactionID, stun.BindingRequest, stun.NewUsername(ufrag + ":pion")}
	if withPriority {
		pr := make([]byte, 4)
		binary.BigEndian.PutUint32(pr, 1853824767)
		setters = append(setters, stun.RawAttribute{Type: stun.AttrPriority, Value: pr})
	}
	tb := make([]byte, 8)
	_, _ = rand.Read(tb)
	setters = append(setters, stun.RawAttribute{Type: stun.AttrICEControlling, Value: tb})
	if withIntegrity {
		setters = append(setters, stun.NewShortTermIntegrity(pwd))
	}
	if withFingerprint {
		setters = append(setters, stun.Fingerprint)
	}
	m, err := stun.Build(setters...)
	if err != nil {
		t.Fatal(err)
	}
	return m.Raw
}

// plainVP8 is an unencrypted RTP packet.
func plainVP8(seq uint16) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: 1000, SSRC: 1234},
		Payload: append([]byte{0x10}, vp8Frame(true, 0, 100)...)}
	b, _ := p.Marshal()
	return b
}

// drainReplies reads what the socket received until it is quiet for
// 200 ms and checks each reply with ok.
func drainReplies(t *testing.T, c *net.UDPConn, ok func(*stun.Message) bool) int {
	t.Helper()
	buf := make([]byte, 1500)
	n := 0
	for {
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		k, _, err := c.ReadFromUDP(buf)
		if err != nil {
			return n
		}
		n++
		m := &stun.Message{Raw: append([]byte(nil), buf[:k]...)}
		if err := m.Decode(); err != nil || !ok(m) {
			t.Errorf("unexpected reply % x", buf[:k])
		}
	}
}

// exchange sends b and returns the reply, or nil when none came in time.
func exchange(t *testing.T, c *net.UDPConn, to *net.UDPAddr, b []byte, wait time.Duration) []byte {
	t.Helper()
	if _, err := c.WriteToUDP(b, to); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = c.SetReadDeadline(time.Now().Add(wait))
	n, _, err := c.ReadFromUDP(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func stunErrorCode(t *testing.T, b []byte) int {
	t.Helper()
	m := &stun.Message{Raw: append([]byte(nil), b...)}
	if err := m.Decode(); err != nil {
		t.Fatalf("bad STUN reply: %v", err)
	}
	if m.Type.Class == stun.ClassSuccessResponse {
		return 0
	}
	var ec stun.ErrorCodeAttribute
	if err := ec.GetFrom(m); err != nil {
		t.Fatalf("error response without ERROR-CODE: %v", err)
	}
	return int(ec.Code)
}

func TestPionBadNetworkInput(t *testing.T) {
	w, rec := newPionWorker(t)
	routerID, caps := setupPionRouter(t, w)
	createPionServer(t, w, "pion-srv")

	// A transport attacked from the network, and a second client socket.
	badID, badInfo := createPionTransport(t, w, routerID, pionCase{}, "")
	victim := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: badInfo.IceCandidates[0].Port}
	_, srvInfo := createPionTransport(t, w, routerID, pionCase{server: true}, "pion-srv")
	srvAddr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: srvInfo.IceCandidates[0].Port}
	attacker, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer attacker.Close()
	ufrag, pwd := badInfo.IceParameters.UsernameFragment, badInfo.IceParameters.Password

	// Random bytes with the STUN header and magic cookie, and truncated
	// messages: dropped (no reply), whatever the transport.
	for i := 0; i < 200; i++ {
		b := make([]byte, 20+i%60)
		_, _ = rand.Read(b)
		b[0] &= 0x01
		binary.BigEndian.PutUint32(b[4:], 0x2112A442)
		if i%2 == 0 {
			binary.BigEndian.PutUint16(b[2:], uint16(len(b)-20))
		}
		_, _ = attacker.WriteToUDP(b, victim)
		_, _ = attacker.WriteToUDP(b, srvAddr)
	}
	// Requests of unknown methods may get a 400; nothing else may answer.
	drainReplies(t, attacker, func(m *stun.Message) bool {
		return m.Type.Class == stun.ClassErrorResponse && stunErrorCode(t, m.Raw) == 400
	})
	good := stunRequest(t, ufrag, pwd, true, true, true)
	for cut := 1; cut < len(good); cut += 7 {
		_, _ = attacker.WriteToUDP(good[:cut], victim)
	}
	// A binding request whose header claims more bytes than sent.
	trunc := append([]byte(nil), good...)
	binary.BigEndian.PutUint16(trunc[2:], uint16(len(good)))
	if r := exchange(t, attacker, victim, trunc, 200*time.Millisecond); r != nil {
		t.Fatalf("reply to a truncated STUN message: % x", r)
	}
	drainReplies(t, attacker, func(*stun.Message) bool { return false })

	// Wrong MESSAGE-INTEGRITY → 401; no FINGERPRINT → 400; no PRIORITY →
	// 400; no MESSAGE-INTEGRITY → 401; unknown ufrag on a WebRtcServer →
	// dropped.
	for _, tc := range []struct {
		name string
		b    []byte
		to   *net.UDPAddr
		want int // -1: no reply
	}{
		{"wrong integrity", stunRequest(t, ufrag, "wrongpassword", true, true, true), victim, 401},
		{"no fingerprint", stunRequest(t, ufrag, pwd, true, false, true), victim, 400},
		{"no priority", stunRequest(t, ufrag, pwd, true, true, false), victim, 400},
		{"no integrity", stunRequest(t, ufrag, pwd, false, true, true), victim, 401},
		{"wrong ufrag", stunRequest(t, "nobody", pwd, true, true, true), victim, 401},
		{"unknown ufrag on server", stunRequest(t, "nobody", pwd, true, true, true), srvAddr, -1},
	} {
		r := exchange(t, attacker, tc.to, tc.b, 300*time.Millisecond)
		switch {
		case tc.want < 0 && r != nil:
			t.Errorf("%s: unexpected reply % x", tc.name, r)
		case tc.want >= 0 && r == nil:
			t.Errorf("%s: no reply, want %d", tc.name, tc.want)
		case tc.want >= 0 && stunErrorCode(t, r) != tc.want:
			t.Errorf("%s: code %d, want %d", tc.name, stunErrorCode(t, r), tc.want)
		}
	}

	// DTLS and RTP from a tuple that never passed ICE: dropped.
	clientHello := append([]byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40}, make([]byte, 40)...)
	rtpPkt := plainVP8(1)
	for _, b := range [][]byte{clientHello, rtpPkt} {
		if r := exchange(t, attacker, victim, b, 100*time.Millisecond); r != nil {
			t.Fatalf("reply to a packet from an unknown tuple: % x", r)
		}
		if r := exchange(t, attacker, srvAddr, b, 100*time.Millisecond); r != nil {
			t.Fatalf("WebRtcServer replied to a packet from an unknown tuple: % x", r)
		}
	}
	// Now a valid binding request makes the tuple known (ICE connected),
	// but without transport.connect there is no DTLS: RTP is dropped.
	r := exchange(t, attacker, victim, stunRequest(t, ufrag, pwd, true, true, true), 500*time.Millisecond)
	if r == nil || stunErrorCode(t, r) != 0 {
		t.Fatalf("valid binding request: reply % x", r)
	}
	waitFor(t, "icestatechange connected", 2*time.Second, func() bool { return rec.has(badID, "icestatechange", "iceState", "connected") })
	// Wait until the engine has handled every datagram (counted as
	// dropped) rather than for a fixed time, so the checks below cannot
	// pass merely because the packets had not arrived yet.
	drops := func() map[string]float64 {
		var dump struct {
			PacketsDropped map[string]float64 `json:"packetsDropped"`
		}
		pionRequestInto(t, w, "transport.dump", badID, nil, &dump)
		return dump.PacketsDropped
	}
	before := drops()
	for i := 0; i < 20; i++ {
		_, _ = attacker.WriteToUDP(plainVP8(uint16(i)), victim)
		_, _ = attacker.WriteToUDP(clientHello, victim)
	}
	waitFor(t, "RTP and DTLS before connect() counted as dropped", 10*time.Second, func() bool {
		d := drops()
		return d["srtp"] >= before["srtp"]+20 && d["dtlsQueue"] >= before["dtlsQueue"]+20
	})
	st := transportStats(t, w, badID)
	if st["rtpBytesReceived"].(float64) != 0 || st["dtlsState"] != "new" || st["iceState"] != "connected" {
		t.Fatalf("after RTP before DTLS: %v", st)
	}

	// A wrong remote fingerprint in transport.connect: dtlsState failed.
	for _, sfuClient := range []bool{false, true} {
		c := pionCase{name: "wrong-fingerprint", sfuDtlsC: sfuClient}
		id, info := createPionTransport(t, w, routerID, c, "")
		api := newPionAPI(t, c, false)
		pc, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
		offer, err := pc.CreateOffer(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := pc.SetLocalDescription(offer); err != nil {
			t.Fatal(err)
		}
		var s sdp.SessionDescription
		_ = s.Unmarshal([]byte(offer.SDP))
		mid, _ := s.MediaDescriptions[0].Attribute("mid")
		setup, role := "passive", "client"
		if sfuClient {
			setup, role = "active", "server"
		}
		var b strings.Builder
		sdpSessionLines(&b, info, info.fingerprint(t), mid)
		fmt.Fprintf(&b, "m=video 7 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 127.0.0.1\r\na=mid:%s\r\na=recvonly\r\n", mid)
		sdpTransportLines(&b, info, setup)
		b.WriteString("a=rtpmap:96 VP8/90000\r\n")
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: b.String()}); err != nil {
			t.Fatal(err)
		}
		wrong := strings.Repeat("AB:", 31) + "AB"
		pionRequest(t, w, "transport.connect", id, map[string]any{
			"dtlsParameters": map[string]any{"role": role, "fingerprints": []any{map[string]any{"algorithm": "sha-256", "value": wrong}}},
		})
		deadline := time.Now().Add(10 * time.Second)
		for !rec.has(id, "dtlsstatechange", "dtlsState", "failed") {
			if time.Now().After(deadline) {
				rec.mu.Lock()
				for _, e := range rec.events {
					if e.target == id {
						t.Logf("event %s %s", e.name, e.data)
					}
				}
				rec.mu.Unlock()
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				for _, g := range strings.Split(string(buf[:n]), "\n\n") {
					if strings.Contains(g, "runDtls") {
						t.Log(g)
					}
				}
				t.Fatalf("no dtlsstatechange failed (gosfu DTLS client %v): %v, pion %v", sfuClient, transportStats(t, w, id), pc.ConnectionState())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if st := transportStats(t, w, id); st["dtlsState"] != "failed" {
			t.Fatalf("dtlsState %v", st["dtlsState"])
		}
		if rec.has(id, "dtlsstatechange", "dtlsState", "connected") {
			t.Fatal("DTLS connected with a wrong fingerprint")
		}
		_ = pc.Close()
	}

	// The worker still serves: a normal publish/subscribe, on own sockets
	// and through the WebRtcServer that received the garbage.
	// While they run, DTLS, RTP, RTCP and STUN from a foreign tuple hit
	// both connected transports: dropped without disturbing them.
	inject := func(sendInfo, recvInfo *webrtcTransportInfo) {
		for _, info := range []*webrtcTransportInfo{sendInfo, recvInfo} {
			to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: info.IceCandidates[0].Port}
			rtcpPkt := []byte{0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
			for i := 0; i < 50; i++ {
				for _, b := range [][]byte{clientHello, plainVP8(uint16(i)), rtcpPkt, {23, 0xfe, 0xfd, 0, 1}, stunRequest(t, info.IceParameters.UsernameFragment, "bad", true, true, true)} {
					_, _ = attacker.WriteToUDP(b, to)
				}
			}
		}
		drainReplies(t, attacker, func(m *stun.Message) bool {
			return m.Type.Class == stun.ClassErrorResponse && stunErrorCode(t, m.Raw) == 401
		})
	}
	pubSub(t, w, rec, routerID, caps, pionCase{name: "after-bad-input"}, "", time.Second, inject)
	pubSub(t, w, rec, routerID, caps, pionCase{name: "after-bad-input-server", server: true}, "pion-srv", time.Second, inject)
	if st := transportStats(t, w, badID); st["iceState"] != "connected" {
		t.Fatalf("attacked transport: %v", st)
	}
}

// consumerOfferSdp is the SFU's offer for one consumer, as
// mediasoup-client builds it: it sends, so sendonly; setup actpass.
func consumerOfferSdp(t *testing.T, info *webrtcTransportInfo, cp consumerParams, consumerID string, tcp bool) string {
	var b strings.Builder
	sdpSessionLines(&b, info, info.fingerprint(t), cp.Mid)
	var pts []string
	for _, cd := range cp.Codecs {
		pts = append(pts, strconv.Itoa(cd.PayloadType))
	}
	proto := "UDP/TLS/RTP/SAVPF"
	if tcp {
		proto = "TCP/TLS/RTP/SAVPF"
	}
	fmt.Fprintf(&b, "m=video 7 %s %s\r\nc=IN IP4 127.0.0.1\r\na=rtcp:9 IN IP4 0.0.0.0\r\n", proto, strings.Join(pts, " "))
	fmt.Fprintf(&b, "a=mid:%s\r\na=sendonly\r\na=msid:gosfu-stream %s\r\n", cp.Mid, consumerID)
	sdpTransportLines(&b, info, "actpass")
	for _, cd := range cp.Codecs {
		_, sub, _ := strings.Cut(cd.MimeType, "/")
		fmt.Fprintf(&b, "a=rtpmap:%d %s/%d\r\n", cd.PayloadType, sub, cd.ClockRate)
		if len(cd.Parameters) > 0 {
			var kv []string
			for k, v := range cd.Parameters {
				kv = append(kv, fmt.Sprintf("%s=%v", k, v))
			}
			fmt.Fprintf(&b, "a=fmtp:%d %s\r\n", cd.PayloadType, strings.Join(kv, ";"))
		}
		for _, fb := range cd.RtcpFeedback {
			fmt.Fprintf(&b, "a=rtcp-fb:%d %s", cd.PayloadType, fb.Type)
			if fb.Parameter != "" {
				fmt.Fprintf(&b, " %s", fb.Parameter)
			}
			b.WriteString("\r\n")
		}
	}
	for _, e := range cp.HeaderExtensions {
		fmt.Fprintf(&b, "a=extmap:%d %s\r\n", e.ID, e.URI)
	}
	enc := cp.Encodings[0]
	if enc.Rtx != nil {
		fmt.Fprintf(&b, "a=ssrc-group:FID %d %d\r\n", enc.Ssrc, enc.Rtx.Ssrc)
	}
	fmt.Fprintf(&b, "a=ssrc:%d cname:%s\r\na=ssrc:%d msid:gosfu-stream %s\r\n", enc.Ssrc, cp.Rtcp.Cname, enc.Ssrc, consumerID)
	if enc.Rtx != nil {
		fmt.Fprintf(&b, "a=ssrc:%d cname:%s\r\na=ssrc:%d msid:gosfu-stream %s\r\n", enc.Rtx.Ssrc, cp.Rtcp.Cname, enc.Rtx.Ssrc, consumerID)
	}
	return b.String()
}
