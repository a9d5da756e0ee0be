package engine

import (
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// fuzzSetup builds a producer on a DirectTransport consumed on another one,
// so arbitrary bytes can be pushed through the RTP and RTCP paths.
func fuzzSetup(f *testing.F) (*Worker, *Transport, *Producer, *Transport) {
	rec := &recorder{}
	w, err := NewWorker([]byte(`{"logLevel":"none"}`), rec)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { w.Close(); w.Wait() })
	req := func(method, handler string, data any) map[string]any {
		return mustRequestTB(f, w, method, handler, data)
	}
	router := req("worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})
	req("router.createDirectTransport", "r", map[string]any{"transportId": "in"})
	req("router.createDirectTransport", "r", map[string]any{"transportId": "out"})
	req("transport.produce", "in", map[string]any{
		"producerId": "p", "kind": "video",
		"rtpParameters": map[string]any{
			"mid": "0",
			"codecs": []any{
				map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
					"rtcpFeedback": []any{map[string]any{"type": "nack"}, map[string]any{"type": "nack", "parameter": "pli"}}},
				map[string]any{"mimeType": "video/rtx", "payloadType": 102, "clockRate": 90000, "parameters": map[string]any{"apt": 101}},
			},
			"headerExtensions": []any{
				map[string]any{"uri": uriMid, "id": 1},
				map[string]any{"uri": uriRid, "id": 2},
				map[string]any{"uri": uriVideoOrientation, "id": 3},
			},
			"encodings": []any{map[string]any{"ssrc": 1111, "rtx": map[string]any{"ssrc": 2222}}},
		},
	})
	req("transport.consume", "out", map[string]any{"consumerId": "c", "producerId": "p", "rtpCapabilities": router["rtpCapabilities"]})
	in := w.handlers["in"].(*Transport)
	out := w.handlers["out"].(*Transport)
	return w, in, w.handlers["p"].(*Producer), out
}

func mustRequestTB(tb testing.TB, w *Worker, method, handler string, data any) map[string]any {
	tb.Helper()
	return mustRequest(tb, w, method, handler, data)
}

// FuzzReceiveRtp feeds arbitrary packets to a producer: malformed RTP must be
// dropped, never crash.
func FuzzReceiveRtp(f *testing.F) {
	_, in, p, _ := fuzzSetup(f)
	f.Add(vp8Packet(1, 1000, 1111, true))
	f.Add(vp8Packet(2, 4000, 1111, false))
	rtx := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 102, SequenceNumber: 9, SSRC: 2222}, Payload: []byte{0, 1, 0x10, 0}}
	b, _ := rtx.Marshal()
	f.Add(b)
	ext := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SSRC: 5, Extension: true, ExtensionProfile: 0xBEDE}, Payload: []byte{0x10, 0}}
	_ = ext.Header.SetExtension(1, []byte("0"))
	_ = ext.Header.SetExtension(3, []byte{0x0f})
	b, _ = ext.Marshal()
	f.Add(b)
	var hdr rtp.Header
	f.Fuzz(func(t *testing.T, data []byte) {
		in.ReceiveRtpFor(p, append([]byte(nil), data...), &hdr, nowMs())
		in.ReceiveRtp(append([]byte(nil), data...), &hdr, nowMs())
	})
}

// FuzzReceiveRtcp feeds arbitrary RTCP to both transports.
func FuzzReceiveRtcp(f *testing.F) {
	w, in, _, out := fuzzSetup(f)
	c := w.handlers["c"].(*Consumer).ssrc
	for _, pkt := range []rtcp.Packet{
		&rtcp.TransportLayerNack{MediaSSRC: c, Nacks: []rtcp.NackPair{{PacketID: 1, LostPackets: 0xffff}}},
		&rtcp.PictureLossIndication{MediaSSRC: c},
		&rtcp.FullIntraRequest{FIR: []rtcp.FIREntry{{SSRC: c}}},
		&rtcp.ReceiverReport{Reports: []rtcp.ReceptionReport{{SSRC: c, LastSenderReport: 5, Delay: 7}}},
		&rtcp.SenderReport{SSRC: 1111, NTPTime: 1 << 40, RTPTime: 5},
	} {
		b, _ := pkt.Marshal()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in.ReceiveRtcp(append([]byte(nil), data...), nowMs())
		out.ReceiveRtcp(append([]byte(nil), data...), nowMs())
	})
}
