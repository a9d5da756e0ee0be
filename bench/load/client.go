package main

// pion/webrtc clients: publishers (the client offers, the SFU answers, as
// mediasoup-client's send transport) and subscribers (the SFU offers one
// m-section per consumer, the client answers, as its receive transport).
// The SFU's SDP is built from the transport's iceParameters,
// iceCandidates and dtlsParameters, with a=ice-lite.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	pionice "github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/logging"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// transportInfo is createWebRtcTransport's answer.
type transportInfo struct {
	ID            string `json:"id"`
	IceParameters struct {
		UsernameFragment string `json:"usernameFragment"`
		Password         string `json:"password"`
	} `json:"iceParameters"`
	IceCandidates []struct {
		Foundation string `json:"foundation"`
		Priority   uint32 `json:"priority"`
		Address    string `json:"address"`
		IP         string `json:"ip"`
		Protocol   string `json:"protocol"`
		Port       int    `json:"port"`
		Type       string `json:"type"`
	} `json:"iceCandidates"`
	DtlsParameters struct {
		Fingerprints []struct {
			Algorithm string `json:"algorithm"`
			Value     string `json:"value"`
		} `json:"fingerprints"`
	} `json:"dtlsParameters"`
}

func (t *transportInfo) sha256() (string, error) {
	for _, f := range t.DtlsParameters.Fingerprints {
		if f.Algorithm == "sha-256" {
			return f.Value, nil
		}
	}
	return "", fmt.Errorf("transport %s has no sha-256 fingerprint", t.ID)
}

// writeSession writes the session-level lines of the SFU's description.
func (t *transportInfo) writeSession(b *strings.Builder, mids []string) error {
	fp, err := t.sha256()
	if err != nil {
		return err
	}
	b.WriteString("v=0\r\no=gosfu-load 10000 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n")
	fmt.Fprintf(b, "a=fingerprint:sha-256 %s\r\na=msid-semantic: WMS *\r\na=group:BUNDLE %s\r\n", fp, strings.Join(mids, " "))
	return nil
}

// writeTransport writes the media-level transport lines.
func (t *transportInfo) writeTransport(b *strings.Builder, setup string) {
	fmt.Fprintf(b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", t.IceParameters.UsernameFragment, t.IceParameters.Password)
	for _, c := range t.IceCandidates {
		addr := c.Address
		if addr == "" {
			addr = c.IP
		}
		fmt.Fprintf(b, "a=candidate:%s 1 %s %d %s %d typ %s\r\n", c.Foundation, c.Protocol, c.Priority, addr, c.Port, c.Type)
	}
	b.WriteString("a=end-of-candidates\r\na=ice-options:renomination\r\n")
	fmt.Fprintf(b, "a=setup:%s\r\na=rtcp-mux\r\na=rtcp-rsize\r\n", setup)
}

// rtcpSet is which RTCP features the subscribers run (pion interceptors)
// and offer to the SFU in their rtpCapabilities.
type rtcpSet struct{ nack, reports, twcc bool }

func parseRtcpSet(s string) (rtcpSet, error) {
	var r rtcpSet
	for _, f := range strings.Split(s, ",") {
		switch strings.TrimSpace(f) {
		case "":
		case "nack":
			r.nack = true
		case "reports":
			r.reports = true
		case "twcc":
			r.twcc = true
		default:
			return r, fmt.Errorf("unknown -rtcp feature %q (nack, reports, twcc)", f)
		}
	}
	return r, nil
}

func (r rtcpSet) String() string {
	var f []string
	if r.nack {
		f = append(f, "nack")
	}
	if r.reports {
		f = append(f, "reports")
	}
	if r.twcc {
		f = append(f, "twcc")
	}
	if len(f) == 0 {
		return "none"
	}
	return strings.Join(f, ",")
}

var srtpProfiles = map[string]dtls.SRTPProtectionProfile{
	"aes128gcm": dtls.SRTP_AEAD_AES_128_GCM,
	"aes256gcm": dtls.SRTP_AEAD_AES_256_GCM,
	"aescm80":   dtls.SRTP_AES128_CM_HMAC_SHA1_80,
}

// srtpCipherName is how pion's stats name each profile.
var srtpCipherName = map[string]string{
	"aes128gcm": "SRTP_AEAD_AES_128_GCM",
	"aes256gcm": "SRTP_AEAD_AES_256_GCM",
	"aescm80":   "SRTP_AES128_CM_HMAC_SHA1_80",
}

// newAPI builds a pion API for loopback: only lo, IPv4 UDP, no mDNS, one
// SRTP profile offered, and the DTLS client role when answering (as
// browsers answer an ICE-lite SFU).
func newAPI(profile dtls.SRTPProtectionProfile, rtcpFeatures rtcpSet, publisher bool) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	ir := &interceptor.Registry{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: "urn:ietf:params:rtp-hdrext:sdes:mid"},
		webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	if publisher {
		// Answer NACKs and send sender reports, as any real sender does.
		rtcpFeatures = rtcpSet{nack: true, reports: true}
	}
	lf := pionLogger()
	if rtcpFeatures.nack {
		if err := webrtc.ConfigureNackWithOptions(me, ir, []nack.GeneratorOption{nack.WithGeneratorLoggerFactory(lf)},
			nack.WithResponderLoggerFactory(lf)); err != nil {
			return nil, err
		}
	}
	if rtcpFeatures.reports {
		if err := webrtc.ConfigureRTCPReportsWithOptions(ir, []report.ReceiverOption{report.WithReceiverLoggerFactory(lf)},
			report.WithSenderLoggerFactory(lf)); err != nil {
			return nil, err
		}
	}
	if rtcpFeatures.twcc && !publisher {
		if err := webrtc.ConfigureTWCCSenderWithOptions(me, ir, twcc.WithLoggerFactory(lf)); err != nil {
			return nil, err
		}
	}
	se := webrtc.SettingEngine{LoggerFactory: lf}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetICEMulticastDNSMode(pionice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetSRTPProtectionProfiles(profile)
	if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleClient); err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// dropClosedPipe drops pion's log lines about writes on closed
// transports: interceptors' timers keep writing RTCP for a moment after
// a PeerConnection closes.
type dropClosedPipe struct{ w io.Writer }

func (d dropClosedPipe) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte("closed pipe")) {
		return len(b), nil
	}
	return d.w.Write(b)
}

// pionLogger is pion's default logger factory (errors only unless
// PION_LOG_* say otherwise) without the teardown noise.
func pionLogger() logging.LoggerFactory {
	lf := logging.NewDefaultLoggerFactory()
	lf.Writer = dropClosedPipe{os.Stderr}
	return lf
}

// localDtls returns the sha-256 fingerprint and a=setup of a local
// description.
func localDtls(desc *webrtc.SessionDescription) (fingerprint, setup string, err error) {
	var s sdp.SessionDescription
	if err := s.Unmarshal([]byte(desc.SDP)); err != nil {
		return "", "", err
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
		return "", "", errors.New("no sha-256 fingerprint or a=setup in the local description")
	}
	return value, setup, nil
}

// dtlsRole is mediasoup-client's mapping of the local a=setup to the role
// given to transport.connect.
func dtlsRole(setup string) string {
	switch setup {
	case "active":
		return "client"
	case "passive":
		return "server"
	}
	return "auto"
}

// connectParams is transport.connect's request for the local description;
// role, when set, overrides the role its a=setup implies (an offer's
// actpass: the answer decided).
func connectParams(transportID string, desc *webrtc.SessionDescription, role string) (map[string]any, error) {
	fp, setup, err := localDtls(desc)
	if err != nil {
		return nil, err
	}
	if role == "" {
		role = dtlsRole(setup)
	}
	return map[string]any{"transportId": transportID, "dtlsParameters": map[string]any{
		"role": role, "fingerprints": []any{map[string]any{"algorithm": "sha-256", "value": fp}},
	}}, nil
}

// waitConnected waits for the PeerConnection's ICE and DTLS.
func waitConnected(ctx context.Context, connected <-chan webrtc.PeerConnectionState) error {
	for {
		select {
		case st := <-connected:
			switch st {
			case webrtc.PeerConnectionStateConnected:
				return nil
			case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
				return fmt.Errorf("PeerConnection %s", st)
			}
		case <-ctx.Done():
			return fmt.Errorf("PeerConnection not connected: %w", ctx.Err())
		}
	}
}

func watchState(pc *webrtc.PeerConnection) <-chan webrtc.PeerConnectionState {
	ch := make(chan webrtc.PeerConnectionState, 8)
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		select {
		case ch <- st:
		default:
		}
	})
	return ch
}

// srtpCipher is the SRTP profile pion negotiated on pc.
func srtpCipher(pc *webrtc.PeerConnection) string {
	for _, st := range pc.GetStats() {
		if ts, ok := st.(webrtc.TransportStats); ok && ts.SRTPCipher != "" {
			return ts.SRTPCipher
		}
	}
	return ""
}

// publisher sends one paced VP8-like RTP stream.
type publisher struct {
	pc        *webrtc.PeerConnection
	track     *webrtc.TrackLocalStaticRTP
	producer  string
	cipher    string
	keyWanted atomic.Bool
	keyFrames atomic.Int64
	plis      atomic.Int64
	sent      atomic.Int64
}

func newPublisher(ctx context.Context, s *sfu, api *webrtc.API) (*publisher, error) {
	var info transportInfo
	if err := s.call("createWebRtcTransport", nil, &info); err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	p := &publisher{pc: pc}
	ok := false
	defer func() {
		if !ok {
			_ = pc.Close()
		}
	}()
	state := watchState(pc)
	if p.track, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		"video", "load"); err != nil {
		return nil, err
	}
	tr, err := pc.AddTransceiverFromTrack(p.track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return nil, err
	}
	sender := tr.Sender()
	go func() {
		for {
			pkts, _, err := sender.ReadRTCP()
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
		return nil, err
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return nil, err
	}
	local := pc.LocalDescription()
	var parsed sdp.SessionDescription
	if err := parsed.Unmarshal([]byte(local.SDP)); err != nil {
		return nil, err
	}
	if len(parsed.MediaDescriptions) != 1 {
		return nil, fmt.Errorf("publisher offer has %d m-sections", len(parsed.MediaDescriptions))
	}
	md := parsed.MediaDescriptions[0]
	mid, _ := md.Attribute("mid")
	vp8PT, rtxPT, midExt := -1, -1, -1
	var fbs []string
	for _, a := range md.Attributes {
		if a.Key == "rtpmap" {
			pt, enc, _ := strings.Cut(a.Value, " ")
			if n, _ := strconv.Atoi(pt); strings.HasPrefix(strings.ToUpper(enc), "VP8/") && vp8PT < 0 {
				vp8PT = n
			}
		}
		if a.Key == "extmap" {
			id, uri, _ := strings.Cut(a.Value, " ")
			if uri == "urn:ietf:params:rtp-hdrext:sdes:mid" {
				midExt, _ = strconv.Atoi(id)
			}
		}
	}
	for _, a := range md.Attributes {
		if a.Key == "fmtp" && strings.HasSuffix(a.Value, fmt.Sprintf("apt=%d", vp8PT)) {
			pt, _, _ := strings.Cut(a.Value, " ")
			rtxPT, _ = strconv.Atoi(pt)
		}
		if a.Key == "rtcp-fb" && strings.HasPrefix(a.Value, fmt.Sprintf("%d ", vp8PT)) {
			fb := strings.TrimPrefix(a.Value, fmt.Sprintf("%d ", vp8PT))
			// The SFU only gets what the publisher answers: NACK and key frame requests.
			if fb == "nack" || fb == "nack pli" || fb == "ccm fir" {
				fbs = append(fbs, fb)
			}
		}
	}
	if vp8PT < 0 || mid == "" {
		return nil, fmt.Errorf("no VP8 or mid in the publisher's offer:\n%s", local.SDP)
	}

	// The SFU's answer: it receives, so recvonly; a=setup:passive makes
	// pion the DTLS client.
	var b strings.Builder
	if err := info.writeSession(&b, []string{mid}); err != nil {
		return nil, err
	}
	pts := strconv.Itoa(vp8PT)
	if rtxPT >= 0 {
		pts += " " + strconv.Itoa(rtxPT)
	}
	fmt.Fprintf(&b, "m=video 7 UDP/TLS/RTP/SAVPF %s\r\nc=IN IP4 127.0.0.1\r\na=rtcp:9 IN IP4 0.0.0.0\r\n", pts)
	fmt.Fprintf(&b, "a=mid:%s\r\na=recvonly\r\n", mid)
	info.writeTransport(&b, "passive")
	fmt.Fprintf(&b, "a=rtpmap:%d VP8/90000\r\n", vp8PT)
	for _, fb := range fbs {
		fmt.Fprintf(&b, "a=rtcp-fb:%d %s\r\n", vp8PT, fb)
	}
	if rtxPT >= 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%d\r\n", rtxPT, rtxPT, vp8PT)
	}
	if midExt > 0 {
		fmt.Fprintf(&b, "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:mid\r\n", midExt)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: b.String()}); err != nil {
		return nil, fmt.Errorf("publisher SetRemoteDescription: %w", err)
	}
	cp, err := connectParams(info.ID, local, "client") // the SFU answered passive
	if err != nil {
		return nil, err
	}
	if err := s.call("connect", cp, nil); err != nil {
		return nil, err
	}

	params := sender.GetParameters()
	if len(params.Encodings) != 1 || params.Encodings[0].SSRC == 0 {
		return nil, fmt.Errorf("publisher encodings %+v", params.Encodings)
	}
	fbList := []any{}
	for _, fb := range fbs {
		typ, param, _ := strings.Cut(fb, " ")
		fbList = append(fbList, map[string]any{"type": typ, "parameter": param})
	}
	codecs := []any{map[string]any{"mimeType": "video/VP8", "payloadType": vp8PT, "clockRate": 90000, "rtcpFeedback": fbList}}
	enc := map[string]any{"ssrc": uint32(params.Encodings[0].SSRC)}
	if rtxPT >= 0 {
		codecs = append(codecs, map[string]any{"mimeType": "video/rtx", "payloadType": rtxPT, "clockRate": 90000,
			"parameters": map[string]any{"apt": vp8PT}})
		if params.Encodings[0].RTX.SSRC != 0 {
			enc["rtx"] = map[string]any{"ssrc": uint32(params.Encodings[0].RTX.SSRC)}
		}
	}
	exts := []any{}
	if midExt > 0 {
		exts = append(exts, map[string]any{"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": midExt})
	}
	var prod struct {
		ID string `json:"id"`
	}
	if err := s.call("produce", map[string]any{"transportId": info.ID, "kind": "video", "rtpParameters": map[string]any{
		"mid": mid, "codecs": codecs, "headerExtensions": exts, "encodings": []any{enc},
		"rtcp": map[string]any{"cname": "load-" + info.ID[:min(8, len(info.ID))], "reducedSize": true},
	}}, &prod); err != nil {
		return nil, err
	}
	p.producer = prod.ID
	if err := waitConnected(ctx, state); err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	p.cipher = srtpCipher(pc)
	ok = true
	return p, nil
}

// run sends pps packets per second, evenly spaced, until ctx ends. A
// frame is pps/fps packets (at least one) sharing a timestamp, the last
// with the marker bit; the first packet of a frame starts the VP8
// payload descriptor (S bit) and carries the frame tag. A key frame
// follows each PLI/FIR.
func (p *publisher) run(ctx context.Context, pps, fps, size int) {
	perFrame := max(1, pps/fps)
	interval := time.Second / time.Duration(pps)
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2}, Payload: payload}
	seq := uint16(time.Now().UnixNano())
	ts := uint32(time.Now().UnixNano() >> 8)
	next := time.Now()
	key := true
	for i := 0; ; i++ {
		if d := time.Until(next); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		} else if d < -100*time.Millisecond {
			next = time.Now() // stalled: resume the pace rather than burst
		} else if ctx.Err() != nil {
			return
		}
		next = next.Add(interval)

		n := i % perFrame
		if n == 0 {
			if i > 0 {
				ts += uint32(90000 / fps)
			}
			key = key || p.keyWanted.Swap(false)
			vp8Start(payload, key)
			if key {
				p.keyFrames.Add(1)
			}
			key = false
		} else {
			payload[0] = 0 // VP8 descriptor: continuation, no extensions
		}
		pkt.SequenceNumber = seq
		pkt.Timestamp = ts
		pkt.Marker = n == perFrame-1
		seq++
		if err := p.track.WriteRTP(pkt); err == nil {
			p.sent.Add(1)
		}
	}
}

// vp8Start writes the VP8 payload descriptor with the S bit and the frame
// tag (and for a key frame the start code and a 640x480 size) at the
// start of payload.
func vp8Start(payload []byte, key bool) {
	payload[0] = 0x10
	if len(payload) < 11 {
		return
	}
	tag := uint32(100)<<5 | 1<<4 // first partition size, show_frame
	if !key {
		tag |= 1
	}
	payload[1], payload[2], payload[3] = byte(tag), byte(tag>>8), byte(tag>>16)
	copy(payload[4:], []byte{0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01})
}

// trackStats counts one consumer's packets at the subscriber.
type trackStats struct {
	ssrc uint32
	pt   uint8

	mu       sync.Mutex
	started  bool
	first    time.Time
	highest  int64 // extended sequence number
	base     int64
	received int64 // media packets, retransmissions included
	late     int64 // not above the highest (repairs, reordering, duplicates)
	other    int64 // other SSRCs or payload types (probation, RTX not repaired)
}

func (t *trackStats) packet(hdr *rtp.Header, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if hdr.SSRC != t.ssrc || hdr.PayloadType != t.pt {
		t.other++
		return
	}
	if !t.started {
		t.started, t.first = true, now
		t.highest = int64(hdr.SequenceNumber)
		t.base = t.highest
		t.received = 1
		return
	}
	t.received++
	if d := int64(int16(hdr.SequenceNumber - uint16(t.highest))); d > 0 {
		t.highest += d
	} else {
		t.late++
	}
}

// trackSnap is a trackStats reading.
type trackSnap struct {
	started  bool
	received int64
	expected int64 // highest - base + 1
}

func (t *trackStats) snap() trackSnap {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.started {
		return trackSnap{}
	}
	return trackSnap{started: true, received: t.received, expected: t.highest - t.base + 1}
}

// consumerParams is the part of a consumer's rtpParameters the offer
// needs.
type consumerParams struct {
	Mid    string `json:"mid"`
	Codecs []struct {
		MimeType     string         `json:"mimeType"`
		PayloadType  int            `json:"payloadType"`
		ClockRate    int            `json:"clockRate"`
		Channels     int            `json:"channels"`
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

type consumerInfo struct {
	ID            string         `json:"id"`
	Kind          string         `json:"kind"`
	Type          string         `json:"type"`
	RtpParameters consumerParams `json:"rtpParameters"`
}

// subscriber is one PeerConnection on its own WebRtcTransport, consuming
// one or more producers.
type subscriber struct {
	pc          *webrtc.PeerConnection
	transportID string
	consumers   []string
	tracks      []*trackStats
	cipher      string
	start       time.Time // subscribe() called
	connected   time.Time // ICE+DTLS up (client side)
	resumed     time.Time // consumers resumed
}

// consumerOffer writes one m-section of the SFU's offer (mediasoup-client's
// receive transport: sendonly, setup actpass).
func consumerOffer(b *strings.Builder, info *transportInfo, c *consumerInfo) error {
	cp := &c.RtpParameters
	if len(cp.Encodings) != 1 || len(cp.Codecs) == 0 || cp.Mid == "" {
		return fmt.Errorf("unexpected consumer parameters %+v", cp)
	}
	var pts []string
	for _, cd := range cp.Codecs {
		pts = append(pts, strconv.Itoa(cd.PayloadType))
	}
	fmt.Fprintf(b, "m=%s 7 UDP/TLS/RTP/SAVPF %s\r\nc=IN IP4 127.0.0.1\r\na=rtcp:9 IN IP4 0.0.0.0\r\n", c.Kind, strings.Join(pts, " "))
	fmt.Fprintf(b, "a=mid:%s\r\na=sendonly\r\na=msid:load %s\r\n", cp.Mid, c.ID)
	info.writeTransport(b, "actpass")
	for _, cd := range cp.Codecs {
		_, name, _ := strings.Cut(cd.MimeType, "/")
		fmt.Fprintf(b, "a=rtpmap:%d %s/%d", cd.PayloadType, name, cd.ClockRate)
		if cd.Channels > 1 {
			fmt.Fprintf(b, "/%d", cd.Channels)
		}
		b.WriteString("\r\n")
		if len(cd.Parameters) > 0 {
			keys := make([]string, 0, len(cd.Parameters))
			for k := range cd.Parameters {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			kv := make([]string, 0, len(keys))
			for _, k := range keys {
				kv = append(kv, fmt.Sprintf("%s=%v", k, cd.Parameters[k]))
			}
			fmt.Fprintf(b, "a=fmtp:%d %s\r\n", cd.PayloadType, strings.Join(kv, ";"))
		}
		for _, fb := range cd.RtcpFeedback {
			fmt.Fprintf(b, "a=rtcp-fb:%d %s", cd.PayloadType, fb.Type)
			if fb.Parameter != "" {
				fmt.Fprintf(b, " %s", fb.Parameter)
			}
			b.WriteString("\r\n")
		}
	}
	for _, e := range cp.HeaderExtensions {
		fmt.Fprintf(b, "a=extmap:%d %s\r\n", e.ID, e.URI)
	}
	enc := cp.Encodings[0]
	if enc.Rtx != nil {
		fmt.Fprintf(b, "a=ssrc-group:FID %d %d\r\n", enc.Ssrc, enc.Rtx.Ssrc)
	}
	fmt.Fprintf(b, "a=ssrc:%d cname:%s\r\na=ssrc:%d msid:load %s\r\n", enc.Ssrc, cp.Rtcp.Cname, enc.Ssrc, c.ID)
	if enc.Rtx != nil {
		fmt.Fprintf(b, "a=ssrc:%d cname:%s\r\na=ssrc:%d msid:load %s\r\n", enc.Rtx.Ssrc, cp.Rtcp.Cname, enc.Rtx.Ssrc, c.ID)
	}
	return nil
}

// newSubscriber subscribes to producers the way a mediasoup app does:
// consumers created paused, the PeerConnection negotiated and connected,
// then the consumers resumed (which asks the publishers for a key frame).
func newSubscriber(ctx context.Context, s *sfu, api *webrtc.API, caps json.RawMessage, producers []string,
	readRTCP bool) (*subscriber, error) {
	sub := &subscriber{start: time.Now()}
	var info transportInfo
	if err := s.call("createWebRtcTransport", nil, &info); err != nil {
		return nil, err
	}
	sub.transportID = info.ID
	ok := false
	defer func() {
		if !ok {
			if sub.pc != nil {
				_ = sub.pc.Close()
			}
			_ = s.call("closeTransport", map[string]any{"transportId": info.ID}, nil)
		}
	}()
	cons := make([]consumerInfo, len(producers))
	mids := make([]string, len(producers))
	byssrc := map[uint32]*trackStats{}
	for i, prod := range producers {
		if err := s.call("consume", map[string]any{"transportId": info.ID, "producerId": prod, "rtpCapabilities": caps,
			"paused": true}, &cons[i]); err != nil {
			return nil, err
		}
		c := &cons[i]
		if len(c.RtpParameters.Encodings) != 1 || len(c.RtpParameters.Codecs) == 0 {
			return nil, fmt.Errorf("unexpected consumer %+v", c)
		}
		mids[i] = c.RtpParameters.Mid
		ts := &trackStats{ssrc: c.RtpParameters.Encodings[0].Ssrc, pt: uint8(c.RtpParameters.Codecs[0].PayloadType)}
		sub.tracks = append(sub.tracks, ts)
		sub.consumers = append(sub.consumers, c.ID)
		byssrc[ts.ssrc] = ts
	}

	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	sub.pc = pc
	state := watchState(pc)
	pc.OnTrack(func(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		ts := byssrc[uint32(tr.SSRC())]
		if ts == nil {
			return
		}
		if readRTCP {
			// Incoming sender reports reach the report interceptor only
			// when read.
			go func() {
				for {
					if _, _, err := recv.ReadRTCP(); err != nil {
						return
					}
				}
			}()
		}
		buf := make([]byte, 1600)
		var hdr rtp.Header
		for {
			n, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			if _, err := hdr.Unmarshal(buf[:n]); err != nil {
				continue
			}
			ts.packet(&hdr, time.Now())
		}
	})

	var b strings.Builder
	if err := info.writeSession(&b, mids); err != nil {
		return nil, err
	}
	for i := range cons {
		if err := consumerOffer(&b, &info, &cons[i]); err != nil {
			return nil, err
		}
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: b.String()}); err != nil {
		return nil, fmt.Errorf("subscriber SetRemoteDescription: %w", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return nil, err
	}
	if err := pc.SetLocalDescription(answer); err != nil {
		return nil, err
	}
	cp, err := connectParams(info.ID, pc.LocalDescription(), "")
	if err != nil {
		return nil, err
	}
	if err := s.call("connect", cp, nil); err != nil {
		return nil, err
	}
	if err := waitConnected(ctx, state); err != nil {
		return nil, fmt.Errorf("subscriber: %w", err)
	}
	sub.connected = time.Now()
	sub.cipher = srtpCipher(pc)
	if err := s.call("resume", map[string]any{"consumerIds": sub.consumers}, nil); err != nil {
		return nil, err
	}
	sub.resumed = time.Now()
	ok = true
	return sub, nil
}

// close ends the subscriber's PeerConnection and its SFU transport.
func (sub *subscriber) close(s *sfu) {
	_ = sub.pc.Close()
	_ = s.call("closeTransport", map[string]any{"transportId": sub.transportID}, nil)
}

// subscriberCaps is the router's rtpCapabilities cut to what the
// subscribers do: no REMB (pion sends none, and the SFU would then pace at
// its initial estimate), no transport-cc without the TWCC interceptor, no
// generic NACK without the NACK interceptor.
func subscriberCaps(routerCaps json.RawMessage, r rtcpSet) (json.RawMessage, error) {
	var m map[string]any
	if err := json.Unmarshal(routerCaps, &m); err != nil {
		return nil, err
	}
	dropFb := func(fb map[string]any) bool {
		typ, _ := fb["type"].(string)
		param, _ := fb["parameter"].(string)
		switch {
		case typ == "goog-remb":
			return true
		case typ == "transport-cc":
			return !r.twcc
		case typ == "nack" && param == "":
			return !r.nack
		}
		return false
	}
	codecs, _ := m["codecs"].([]any)
	for _, c := range codecs {
		cm, _ := c.(map[string]any)
		fbs, _ := cm["rtcpFeedback"].([]any)
		kept := []any{}
		for _, fb := range fbs {
			if fbm, ok := fb.(map[string]any); ok && !dropFb(fbm) {
				kept = append(kept, fb)
			}
		}
		if cm != nil {
			cm["rtcpFeedback"] = kept
		}
	}
	exts, _ := m["headerExtensions"].([]any)
	keptExts := []any{}
	for _, e := range exts {
		em, _ := e.(map[string]any)
		uri, _ := em["uri"].(string)
		if strings.Contains(uri, "abs-send-time") || (!r.twcc && strings.Contains(uri, "transport-wide-cc")) {
			continue
		}
		keptExts = append(keptExts, e)
	}
	m["headerExtensions"] = keptExts
	return json.Marshal(m)
}
