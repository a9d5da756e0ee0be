package engine

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestTransportRequestErrors checks the answers of the transport requests
// to bad arguments, per transport type: the error class mediasoup gives
// (or success), never a crash or a half-created transport.
func TestTransportRequestErrors(t *testing.T) {
	w, _ := requestWorker(t)
	mustRequest(t, w, "router.createPlainTransport", "r", map[string]any{"transportId": "ps", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"},
		"rtcpMux": false, "enableSrtp": true, "srtpCryptoSuite": "AEAD_AES_128_GCM"})
	mustRequest(t, w, "router.createPlainTransport", "r", map[string]any{"transportId": "pn", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}})
	mustRequest(t, w, "router.createWebRtcTransport", "r", map[string]any{"transportId": "wo", "listenInfos": []any{
		map[string]any{"protocol": "udp", "ip": "127.0.0.1", "announcedAddress": "sfu.example.com", "exposeInternalIp": true},
		map[string]any{"protocol": "tcp", "ip": "127.0.0.1"},
	}})
	key16 := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // 30 bytes: AES_CM_128 key and salt
	udp := `{"protocol":"udp","ip":"127.0.0.1"}`
	const (
		ok       = ""
		typeErr  = ErrNameType
		plainErr = ErrNameError
		notFound = "NotFoundError"
		unsupp   = ErrNameUnsupported
	)
	cases := []struct {
		method, handler, data, want string
	}{
		// Creation.
		{"router.createPlainTransport", "r", `{"transportId":"x"}`, typeErr},
		{"router.createPlainTransport", "r", `{"transportId":"x","listenInfo":{"protocol":"tcp","ip":"127.0.0.1"}}`, typeErr},
		{"router.createPlainTransport", "r", `{"transportId":"x","listenInfo":` + udp + `,"rtcpListenInfo":{"protocol":"tcp","ip":"127.0.0.1"}}`, typeErr},
		{"router.createPlainTransport", "r", `{"transportId":"x","listenInfo":` + udp + `,"enableSrtp":true}`, typeErr},
		{"router.createPlainTransport", "r", `{"transportId":"x","listenInfo":` + udp + `,"enableSrtp":true,"srtpCryptoSuite":"NULL"}`, typeErr},
		{"router.createPlainTransport", "r", `{"transportId":"x","listenInfo":{"protocol":"udp","ip":"bad"}}`, typeErr},
		{"router.createPlainTransport", "r", `{"transportId":"x","listenInfo":` + udp + `,"rtcpMux":false,"rtcpListenInfo":{"ip":"bad"}}`, typeErr},
		{"router.createPlainTransport", "r", `{"transportId":"x","listenInfo":{"protocol":"udp","ip":"192.0.2.1","port":40000}}`, plainErr},
		{"router.createPlainTransport", "r", `{"transportId":"x","listenInfo":` + udp + `,"enableSctp":true,"maxSendMessageSize":-1}`, typeErr},
		{"router.createPlainTransport", "r", `{"transportId":"x","listenInfo":7}`, typeErr},
		{"router.createPipeTransport", "r", `{"transportId":"x"}`, typeErr},
		{"router.createPipeTransport", "r", `{"transportId":"x","listenInfo":{"protocol":"tcp","ip":"127.0.0.1"}}`, typeErr},
		{"router.createPipeTransport", "r", `{"transportId":"x","listenInfo":{"ip":"bad"}}`, typeErr},
		{"router.createPipeTransport", "r", `[]`, typeErr},
		{"router.createWebRtcTransport", "r", `{"transportId":"x"}`, typeErr},
		{"router.createWebRtcTransport", "r", `{"transportId":"x","listenInfos":[{"protocol":"sctp","ip":"127.0.0.1"}]}`, typeErr},
		{"router.createWebRtcTransport", "r", `{"transportId":"x","listenInfos":[{"protocol":"udp","ip":"bad"}]}`, typeErr},
		{"router.createWebRtcTransport", "r", `{"transportId":"x","listenInfos":[{"protocol":"tcp","ip":"bad"}]}`, typeErr},
		{"router.createWebRtcTransport", "r", `{"transportId":"x","webRtcServerId":"none"}`, notFound},
		{"router.createWebRtcTransport", "r", `{"transportId":"x","webRtcServerId":"srv","enableUdp":false,"enableTcp":false}`, typeErr},
		{"router.createWebRtcTransport", "r", `{"transportId":"wt","listenInfos":[` + udp + `]}`, plainErr},
		{"router.createWebRtcTransport", "r", `{"transportId":"x","listenInfos":[` + udp + `],"enableSctp":true,"sctpSendBufferSize":1.5}`, typeErr},
		{"router.createWebRtcTransport", "r", `{`, typeErr},
		{"router.createDirectTransport", "r", `{"transportId":"x","maxSendMessageSize":-1}`, typeErr},
		{"router.createDirectTransport", "r", `{"transportId":"x","maxSendMessageSize":1.5}`, typeErr},
		{"router.createDirectTransport", "r", `{"transportId":"x","maxReceiveMessageSize":-2}`, typeErr},
		{"router.createDirectTransport", "r", `{"transportId":"d"}`, plainErr},
		{"router.createDirectTransport", "r", `"x"`, typeErr},
		{"worker.createWebRtcServer", "", `{"webRtcServerId":"x","listenInfos":[{"protocol":"quic","ip":"127.0.0.1"}]}`, plainErr},
		{"worker.createWebRtcServer", "", `{"webRtcServerId":"x","listenInfos":[{"protocol":"tcp","ip":"bad"}]}`, typeErr},
		{"worker.createWebRtcServer", "", `{"webRtcServerId":"x","listenInfos":[{"protocol":"udp","ip":"bad"}]}`, typeErr},
		{"worker.createWebRtcServer", "", `{"webRtcServerId":"x","listenInfos":[]}`, typeErr},
		{"worker.createWebRtcServer", "", `{"webRtcServerId":"srv","listenInfos":[` + udp + `]}`, plainErr},
		{"worker.createWebRtcServer", "", `{`, typeErr},
		{"webRtcServer.dump", "srv", ``, ok},
		{"webRtcServer.nothing", "srv", ``, plainErr},

		// Plain connect.
		{"transport.connect", "pn", `{"port":5000}`, typeErr},
		{"transport.connect", "pn", `{"ip":"127.0.0.1"}`, typeErr},
		{"transport.connect", "pn", `{"ip":"::x","port":5000}`, plainErr},
		{"transport.connect", "pn", `{"ip":"127.0.0.1","port":5000,"rtcpPort":5001}`, typeErr},
		{"transport.connect", "pn", `{"ip":"127.0.0.1","port":0}`, typeErr},
		{"transport.connect", "pn", `{"ip":"127.0.0.1","port":1.5}`, typeErr},
		{"transport.connect", "pn", `{"ip":"127.0.0.1","port":70000}`, typeErr},
		{"transport.connect", "pn", `{"ip":"127.0.0.1","port":5000,"srtpParameters":{"cryptoSuite":"AEAD_AES_128_GCM","keyBase64":""}}`, typeErr},
		{"transport.connect", "pn", `{"ip":7}`, typeErr},
		{"transport.connect", "ps", `{"ip":"127.0.0.1","port":5000,"rtcpPort":5001}`, typeErr},
		{"transport.connect", "ps", `{"ip":"127.0.0.1","port":5000,"rtcpPort":5001,"srtpParameters":{"cryptoSuite":"NULL","keyBase64":""}}`, typeErr},
		{"transport.connect", "ps", `{"ip":"127.0.0.1","port":5000,"rtcpPort":5001,"srtpParameters":{"cryptoSuite":"AES_CM_128_HMAC_SHA1_80","keyBase64":"!"}}`, typeErr},
		{"transport.connect", "ps", `{"ip":"127.0.0.1","port":5000,"srtpParameters":{"cryptoSuite":"AES_CM_128_HMAC_SHA1_80","keyBase64":"` + key16 + `"}}`, typeErr},
		{"transport.connect", "ps", `{"ip":"127.0.0.1","port":5000,"rtcpPort":0,"srtpParameters":{"cryptoSuite":"AES_CM_128_HMAC_SHA1_80","keyBase64":"` + key16 + `"}}`, typeErr},
		{"transport.connect", "ps", `{"ip":"127.0.0.1","port":5000,"rtcpPort":5001,"srtpParameters":{"cryptoSuite":"AES_CM_128_HMAC_SHA1_80","keyBase64":"` + key16 + `"}}`, ok},
		{"transport.connect", "ps", `{"ip":"127.0.0.1","port":5000,"rtcpPort":5001}`, plainErr},
		{"transport.connect", "pn", `{"ip":"127.0.0.1","port":5000}`, ok},
		{"transport.connect", "pn", `{"ip":"127.0.0.1","port":5000}`, plainErr},

		// Pipe connect.
		{"transport.connect", "pp", `{"ip":"127.0.0.1","port":5000,"srtpParameters":{"cryptoSuite":"AEAD_AES_256_GCM","keyBase64":""}}`, typeErr},
		{"transport.connect", "pp", `{"ip":true}`, typeErr},
		{"transport.connect", "pp", `{"ip":"127.0.0.1","port":5000}`, ok},
		{"transport.connect", "pp", `{"ip":"127.0.0.1","port":5000}`, plainErr},

		// WebRTC connect and ICE restart.
		{"transport.connect", "wo", `{}`, typeErr},
		{"transport.connect", "wo", `{"dtlsParameters":{"role":"client","fingerprints":[]}}`, typeErr},
		{"transport.connect", "wo", `{"dtlsParameters":{"role":"boss","fingerprints":[{"algorithm":"sha-256","value":"AB"}]}}`, typeErr},
		{"transport.connect", "wo", `{"dtlsParameters":7}`, typeErr},
		{"transport.connect", "wo", `{"dtlsParameters":{"role":"auto","fingerprints":[{"algorithm":"sha-256","value":"AB"}]}}`, ok},
		{"transport.connect", "wo", `{"dtlsParameters":{"role":"auto","fingerprints":[{"algorithm":"sha-256","value":"AB"}]}}`, plainErr},
		{"transport.restartIce", "wo", ``, ok},
		{"transport.restartIce", "wt", ``, ok},

		// Direct transport.
		{"transport.connect", "d", `{}`, ok},
		{"transport.sendRtcp", "d", strings.Repeat("\x80", maxDirectRtcpSize+1), ok},
		{"transport.setMaxIncomingBitrate", "d", `{"bitrate":100000}`, unsupp},
		{"transport.setMaxOutgoingBitrate", "d", `{"bitrate":100000}`, unsupp},
		{"transport.setMinOutgoingBitrate", "d", `{"bitrate":100000}`, unsupp},

		// Common requests.
		{"transport.setMaxIncomingBitrate", "pn", `{"bitrate":-1}`, typeErr},
		{"transport.setMaxIncomingBitrate", "pn", `{"bitrate":1e20}`, typeErr},
		{"transport.setMaxIncomingBitrate", "pn", `{"bitrate":"fast"}`, typeErr},
		{"transport.setMaxIncomingBitrate", "pn", `{"bitrate":300000}`, ok},
		{"transport.setMaxOutgoingBitrate", "pn", `{"bitrate":1}`, typeErr},
		{"transport.setMinOutgoingBitrate", "pn", `{"bitrate":200000}`, ok},
		{"transport.setMaxOutgoingBitrate", "pn", `{"bitrate":100000}`, typeErr},
		{"transport.setMaxOutgoingBitrate", "pn", `{"bitrate":400000}`, ok},
		{"transport.setMinOutgoingBitrate", "pn", `{"bitrate":500000}`, typeErr},
		{"transport.setMinOutgoingBitrate", "pn", `{"bitrate":-5}`, typeErr},
		{"transport.enableTraceEvent", "pn", `{"types":["probation","bwe","unknown"]}`, ok},
		{"transport.enableTraceEvent", "pn", `{"types":"bwe"}`, typeErr},
		{"transport.closeProducer", "pn", `{"producerId":"none"}`, notFound},
		{"transport.closeConsumer", "pn", `{"consumerId":"none"}`, notFound},
		{"transport.closeDataProducer", "pn", `{"dataProducerId":"none"}`, plainErr},
		{"transport.closeDataConsumer", "pn", `{"dataConsumerId":"none"}`, plainErr},
		{"transport.closeDataProducer", "pp", `{"dataProducerId":"none"}`, notFound},
		{"transport.closeDataConsumer", "d", `{"dataConsumerId":"none"}`, notFound},
		{"transport.nothing", "pn", `{}`, plainErr},
	}
	for _, c := range cases {
		_, err := w.Request(c.method, c.handler, []byte(c.data))
		got := ""
		if err != nil {
			got = err.(*Error).Name
		}
		if got != c.want {
			t.Errorf("%s(%s, %.80s): %v, want %q", c.method, c.handler, c.data, err, c.want)
		}
	}
	for _, id := range []string{"x"} {
		if _, ok := w.handlers[id]; ok {
			t.Errorf("a failed creation registered %q", id)
		}
	}

	// Stats and dumps of every transport type and of the server.
	for _, id := range []string{"d", "pn", "ps", "pp", "wt", "wo"} {
		var stats []map[string]any
		out, err := w.Request("transport.getStats", id, nil)
		if err != nil || json.Unmarshal(out, &stats) != nil || len(stats) != 1 || !strings.HasSuffix(stats[0]["type"].(string), "-transport") {
			t.Errorf("getStats(%s): %s %v", id, out, err)
		}
		if _, err := w.Request("transport.dump", id, nil); err != nil {
			t.Errorf("dump(%s): %v", id, err)
		}
	}
	var dump struct {
		IceCandidates []IceCandidate `json:"iceCandidates"`
	}
	out, _ := w.Request("transport.dump", "wo", nil)
	if err := json.Unmarshal(out, &dump); err != nil || len(dump.IceCandidates) != 3 ||
		dump.IceCandidates[0].Address != "sfu.example.com" || dump.IceCandidates[1].Address != "127.0.0.1" ||
		dump.IceCandidates[1].Priority != dump.IceCandidates[0].Priority-1000 || dump.IceCandidates[2].TcpType != "passive" {
		t.Errorf("candidates with announcedAddress, exposeInternalIp and TCP: %s", out)
	}
	var srv struct {
		UdpSockets []any `json:"udpSockets"`
		Ufrags     []any `json:"localIceUsernameFragments"`
		Ids        []any `json:"webRtcTransportIds"`
	}
	out, _ = w.Request("webRtcServer.dump", "srv", nil)
	// One transport, its first ufrag and the one of the ICE restart.
	if err := json.Unmarshal(out, &srv); err != nil || len(srv.UdpSockets) != 1 || len(srv.Ids) != 1 || len(srv.Ufrags) != 2 {
		t.Errorf("webRtcServer.dump: %s", out)
	}
}
