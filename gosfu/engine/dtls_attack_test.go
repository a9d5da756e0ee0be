package engine

import (
	"bytes"
	"testing"
	"time"
)

// TestDtlsUnauthenticatedRecordIgnored: after the handshake, a DTLS record
// from the client's address that does not authenticate (a ChangeCipherSpec
// with epoch 1 and 40 zero bytes) must be dropped (RFC 6347 §4.1.2.7), not
// end the session: DataChannel messages keep flowing afterwards.
func TestDtlsUnauthenticatedRecordIgnored(t *testing.T) {
	w, rec := newPionWorker(t)
	routerID, _ := setupPionRouter(t, w)
	var info webrtcTransportInfo
	pionRequestInto(t, w, "router.createWebRtcTransport", routerID, map[string]any{
		"transportId": "wt", "listenInfos": []any{map[string]any{"protocol": "udp", "ip": "127.0.0.1"}}, "enableSctp": true,
	}, &info)
	pionRequest(t, w, "router.createDirectTransport", routerID, map[string]any{"transportId": "d"})
	pionRequest(t, w, "transport.produceData", "wt", map[string]any{"dataProducerId": "up", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 1, "ordered": true}})
	pionRequest(t, w, "transport.consumeData", "d", map[string]any{"dataConsumerId": "sink", "dataProducerId": "up", "type": "direct"})
	up := connectPionDataChannels(t, w, &info, "wt", pionCase{}, 1)[0]
	waitFor(t, "sctpState connected", 10*time.Second, func() bool { return rec.has("wt", "sctpstatechange", "sctpState", "connected") })

	l := w.handlers["wt"].(*Transport).link.(*webrtcLink)
	sel := l.selected.Load()
	if sel == nil {
		t.Fatal("no selected tuple")
	}
	record := append([]byte{0x14, 0xfe, 0xfd, 0x00, 0x01, 0, 0, 0, 0, 0x10, 0x00, 0x00, 0x28}, bytes.Repeat([]byte{0}, 40)...)
	l.handlePacket(record, *sel, nil, nowMs())

	if err := up.SendText("after the forged record"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(rec.messages("sink")) != 1 {
		if time.Now().After(deadline) {
			st := transportStats(t, w, "wt")
			t.Fatalf("no message after the forged record (dtlsState %v, sctpState %v)", st["dtlsState"], st["sctpState"])
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := transportStats(t, w, "wt")["dtlsState"]; st != "connected" {
		t.Fatalf("dtlsState %v after an unauthenticated record", st)
	}
	var dump struct {
		PacketsDropped map[string]float64 `json:"packetsDropped"`
	}
	pionRequestInto(t, w, "transport.dump", "wt", nil, &dump)
	if dump.PacketsDropped["dtlsInvalid"] != 1 {
		t.Fatalf("forged record not counted: %v", dump.PacketsDropped)
	}
}
