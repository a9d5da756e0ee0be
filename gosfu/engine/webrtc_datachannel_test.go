package engine

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// messages returns the 'message' events of a direct DataConsumer.
func (r *pionEvents) messages(target string) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out [][]byte
	for _, e := range r.events {
		if e.target == target && e.name == "message" {
			out = append(out, e.data)
		}
	}
	return out
}

// TestPionDataChannels connects a pion/webrtc PeerConnection with two
// pre-negotiated DataChannels (as mediasoup-client creates them) to a
// WebRtcTransport with SCTP, in both DTLS roles: messages of the peer reach
// a DirectTransport DataConsumer in order, and a DirectTransport
// DataProducer reaches the peer.
func TestPionDataChannels(t *testing.T) {
	for _, sfuDtlsClient := range []bool{false, true} {
		t.Run(fmt.Sprintf("sfuDtlsClient=%v", sfuDtlsClient), func(t *testing.T) {
			testPionDataChannels(t, pionCase{sfuDtlsC: sfuDtlsClient})
		})
	}
}

func testPionDataChannels(t *testing.T, c pionCase) {
	w, rec := newPionWorker(t)
	routerID, _ := setupPionRouter(t, w)
	var info webrtcTransportInfo
	pionRequestInto(t, w, "router.createWebRtcTransport", routerID, map[string]any{
		"transportId": "wt", "listenInfos": []any{map[string]any{"protocol": "udp", "ip": "127.0.0.1"}}, "enableSctp": true,
	}, &info)
	pionRequest(t, w, "router.createDirectTransport", routerID, map[string]any{"transportId": "d"})
	pionRequest(t, w, "transport.produceData", "wt", map[string]any{"dataProducerId": "up", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 1, "ordered": true}, "label": "up"})
	pionRequest(t, w, "transport.consumeData", "d", map[string]any{"dataConsumerId": "sink", "dataProducerId": "up", "type": "direct", "label": "up"})
	pionRequest(t, w, "transport.produceData", "d", map[string]any{"dataProducerId": "bot", "type": "direct", "label": "bot"})
	pionRequest(t, w, "transport.consumeData", "wt", map[string]any{"dataConsumerId": "down", "dataProducerId": "bot", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 2, "ordered": true}, "label": "bot"})

	chans := connectPionDataChannels(t, w, &info, "wt", c, 1, 2)
	up, down := chans[0], chans[1]
	var mu sync.Mutex
	var got []webrtc.DataChannelMessage
	down.OnMessage(func(m webrtc.DataChannelMessage) {
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	})
	waitFor(t, "sctpState connected", 10*time.Second, func() bool { return rec.has("wt", "sctpstatechange", "sctpState", "connected") })

	const n = 500
	for i := 0; i < n; i++ {
		if err := up.SendText(fmt.Sprintf("up %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := up.Send([]byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "messages at the sink", 10*time.Second, func() bool { return len(rec.messages("sink")) == n+1 })
	for i, m := range rec.messages("sink") {
		ppid := binary.BigEndian.Uint32(m)
		if i == n {
			if ppid != 53 || string(m[4:]) != "\x00\x01\x02" {
				t.Fatalf("binary message: ppid %d %v", ppid, m[4:])
			}
			continue
		}
		if ppid != 51 || string(m[4:]) != fmt.Sprintf("up %d", i) {
			t.Fatalf("message %d: ppid %d %q", i, ppid, m[4:])
		}
	}

	for i := 0; i < 20; i++ {
		if _, err := w.Request("dataProducer.send", "bot", sendPayload(51, []byte(fmt.Sprintf("bot %d", i)), nil, nil, nil)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "messages at the peer", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 20
	})
	mu.Lock()
	for i, m := range got {
		if !m.IsString || string(m.Data) != fmt.Sprintf("bot %d", i) {
			t.Fatalf("peer message %d: %q", i, m.Data)
		}
	}
	mu.Unlock()

	// Closing the DataConsumer resets its stream: the peer's channel closes.
	closed := make(chan struct{})
	down.OnClose(func() { close(closed) })
	pionRequest(t, w, "transport.closeDataConsumer", "wt", map[string]any{"dataConsumerId": "down"})
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("peer DataChannel not closed after the DataConsumer closed")
	}
}

// connectPionDataChannels negotiates a pion PeerConnection with one
// pre-negotiated DataChannel per stream id (as mediasoup-client creates
// them) against a WebRtcTransport with SCTP, connects the transport and
// waits until every channel is open.
func connectPionDataChannels(t *testing.T, w *Worker, info *webrtcTransportInfo, transportID string, c pionCase, ids ...uint16) []*webrtc.DataChannel {
	t.Helper()
	api := newPionAPI(t, c, false)
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	negotiated := true
	var chans []*webrtc.DataChannel
	var opened []chan struct{}
	for _, id := range ids {
		id := id
		dc, err := pc.CreateDataChannel(fmt.Sprintf("dc%d", id), &webrtc.DataChannelInit{Negotiated: &negotiated, ID: &id})
		if err != nil {
			t.Fatal(err)
		}
		open := make(chan struct{})
		dc.OnOpen(func() { close(open) })
		chans = append(chans, dc)
		opened = append(opened, open)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	local := pc.LocalDescription()
	mid := "0"
	for _, line := range strings.Split(local.SDP, "\r\n") {
		if v, ok := strings.CutPrefix(line, "a=mid:"); ok {
			mid = v
		}
	}
	setup := "passive"
	if c.sfuDtlsC {
		setup = "active"
	}
	var b strings.Builder
	sdpSessionLines(&b, info, info.fingerprint(t), mid)
	b.WriteString("m=application 7 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 127.0.0.1\r\n")
	fmt.Fprintf(&b, "a=mid:%s\r\n", mid)
	sdpTransportLines(&b, info, setup)
	b.WriteString("a=sctp-port:5000\r\na=max-message-size:262144\r\n")
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: b.String()}); err != nil {
		t.Fatalf("SetRemoteDescription(answer): %v\n%s", err, b.String())
	}
	fp, localSetup := localDtls(t, local)
	role := "client"
	if c.sfuDtlsC {
		role = "server"
	} else if r := dtlsRoleFromSetup(localSetup); r != "auto" {
		role = r
	}
	pionRequest(t, w, "transport.connect", transportID, map[string]any{
		"dtlsParameters": map[string]any{"role": role, "fingerprints": []any{map[string]any{"algorithm": "sha-256", "value": fp}}},
	})
	for i, open := range opened {
		select {
		case <-open:
		case <-time.After(15 * time.Second):
			t.Fatalf("DataChannel %d did not open", ids[i])
		}
	}
	return chans
}
