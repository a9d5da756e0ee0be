package engine

import (
	"runtime"
	"testing"
	"time"
)

// TestCloseReleasesGoroutines opens one of everything and checks that
// closing the worker leaves no goroutine behind.
func TestCloseReleasesGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	for round := 0; round < 3; round++ {
		rec := &recorder{}
		w, err := NewWorker([]byte(`{"logLevel":"warn","rtcMinPort":30000,"rtcMaxPort":39999}`), rec)
		if err != nil {
			t.Fatal(err)
		}
		mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})
		mustRequest(t, w, "worker.createWebRtcServer", "", map[string]any{"webRtcServerId": "s", "listenInfos": []any{
			map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, map[string]any{"protocol": "tcp", "ip": "127.0.0.1"},
		}})
		mustRequest(t, w, "router.createWebRtcTransport", "r", map[string]any{"transportId": "w1", "listenInfos": []any{
			map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, map[string]any{"protocol": "tcp", "ip": "127.0.0.1"},
		}})
		mustRequest(t, w, "router.createWebRtcTransport", "r", map[string]any{"transportId": "w2", "webRtcServerId": "s"})
		mustRequest(t, w, "router.createPlainTransport", "r", map[string]any{
			"transportId": "p1", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, "rtcpMux": false, "comedia": true,
		})
		mustRequest(t, w, "router.createDirectTransport", "r", map[string]any{"transportId": "d1"})
		mustRequest(t, w, "transport.produce", "p1", map[string]any{
			"producerId": "prod", "kind": "audio",
			"rtpParameters": map[string]any{
				"codecs":    []any{map[string]any{"mimeType": "audio/opus", "payloadType": 111, "clockRate": 48000, "channels": 2}},
				"encodings": []any{map[string]any{"ssrc": 1234}},
			},
		})
		caps := mustRequest(t, w, "router.dump", "r", nil)
		_ = caps
		w.Close()
		w.Wait()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left (base %d):\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}
