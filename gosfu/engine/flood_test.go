package engine

import (
	"crypto/rand"
	"encoding/binary"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/stun/v4"
)

// heapRetained is the Go heap in use after a collection: what the engine
// keeps. (RSS would also count the garbage the flood's packets themselves
// leave, which the race detector's shadow memory multiplies.)
func heapRetained() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// transportByUfrag finds the WebRtcTransport with that local ICE ufrag.
func transportByUfrag(w *Worker, ufrag string) *Transport {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range w.handlers {
		if t, ok := h.(*Transport); ok {
			if l, ok := t.link.(*webrtcLink); ok {
				if u, _ := l.ice.Credentials(); u == ufrag {
					return t
				}
			}
		}
	}
	return nil
}

// floodKind is one kind of bad packet and the counter it must raise.
type floodKind struct {
	name    string
	counter string
	build   func(i int) []byte
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// validPathFlood are packets that come from the tuple ICE validated (the
// peer, or someone spoofing its address) after DTLS is up.
var validPathFlood = []floodKind{
	{"SRTP that does not authenticate", "srtp", func(i int) []byte {
		b := randomBytes(100 + i%1000)
		b[0], b[1] = 0x80, 96
		return b
	}},
	{"SRTCP that does not authenticate", "srtp", func(i int) []byte {
		b := randomBytes(40 + i%200)
		b[0], b[1], b[2], b[3] = 0x81, 200, 0, 6
		return b
	}},
	{"RTP shorter than its fixed header", "unknownType", func(i int) []byte {
		return []byte{0x80, 96, byte(i), 0, 0, 0, 0}[:1+i%7]
	}},
	{"a forged ChangeCipherSpec", "dtlsInvalid", func(int) []byte {
		return append([]byte{0x14, 0xfe, 0xfd, 0x00, 0x01, 0, 0, 0, 0, 0x10, 0x00, 0x00, 0x28}, make([]byte, 40)...)
	}},
	{"DTLS larger than pion reads", "oversized", func(i int) []byte {
		b := randomBytes(maxPionDatagram + 1 + i%4000)
		b[0] = 23
		return b
	}},
	{"STUN-like garbage", "stunInvalid", func(i int) []byte {
		b := randomBytes(20 + 4*(i%40))
		b[0] &= 0x01
		binary.BigEndian.PutUint32(b[4:], 0x2112A442)
		return b
	}},
	{"a TURN channel / unknown first byte", "unknownType", func(i int) []byte {
		b := randomBytes(30 + i%300)
		b[0] = 64 + byte(i%16)
		return b
	}},
}

// TestFloodWebRtcTransport: a connected WebRtcTransport (pion publisher,
// own sockets or a WebRtcServer) takes a flood of malformed packets on its
// validated tuple and from a foreign one; every kind is dropped and
// counted in dump().packetsDropped, the engine's retained memory stays bounded,
// and media published afterwards still reaches the subscriber.
func TestFloodWebRtcTransport(t *testing.T) {
	if testing.Short() {
		t.Skip("flood")
	}
	w, rec := newPionWorker(t)
	routerID, caps := setupPionRouter(t, w)
	createPionServer(t, w, "pion-srv")
	attacker, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer attacker.Close()
	const perKind = 50000 / 7
	const foreign = 10000
	for _, c := range []pionCase{{name: "udp"}, {name: "server-udp", server: true}} {
		t.Run(c.name, func(t *testing.T) {
			inject := func(sendInfo, _ *webrtcTransportInfo) {
				tr := transportByUfrag(w, sendInfo.IceParameters.UsernameFragment)
				if tr == nil {
					t.Fatal("send transport not found")
				}
				l := tr.link.(*webrtcLink)
				sel := l.selected.Load()
				if sel == nil {
					t.Fatal("no selected tuple")
				}
				heap0 := heapRetained()
				before := dropped(t, w, tr.id)
				want := map[string]float64{}
				var hdr rtp.Header
				for _, k := range validPathFlood {
					for i := 0; i < perKind; i++ {
						l.handlePacket(k.build(i), *sel, &hdr, nowMs())
					}
					want[k.counter] += perKind
				}
				// Counted before the foreign packets are sent: the engine may
				// count all of them before the test looks again.
				after := dropped(t, w, tr.id)
				for k, n := range want {
					if after[k]-before[k] < n {
						t.Errorf("%s rose by %v, want >= %v", k, after[k]-before[k], n)
					}
				}
				// From a tuple that never passed ICE: DTLS, RTP and STUN
				// with the transport's ufrag and a wrong password.
				to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sendInfo.IceCandidates[0].Port}
				stunBad := stunRequest(t, sendInfo.IceParameters.UsernameFragment, "wrong", true, true, true)
				for i := 0; i < foreign; i++ {
					var b []byte
					switch i % 3 {
					case 0:
						b = plainVP8(uint16(i))
					case 1:
						b = append([]byte{22, 0xfe, 0xfd}, randomBytes(60)...)
					default:
						b = stunBad
					}
					_, _ = attacker.WriteToUDP(b, to)
				}
				// The kernel may drop some of the foreign datagrams: wait
				// until some of each kind are counted.
				waitFor(t, "foreign packets counted", 5*time.Second, func() bool {
					d := dropped(t, w, tr.id)
					ok := d["stunInvalid"] > after["stunInvalid"]
					if !c.server {
						// Non-STUN packets from an unknown tuple reach
						// the transport only on its own sockets.
						ok = ok && d["unknownTuple"] > after["unknownTuple"]
					}
					return ok
				})
				drainReplies(t, attacker, func(m *stun.Message) bool { return stunErrorCode(t, m.Raw) == 401 })
				grown := heapRetained() - heap0
				if grown > 100<<20 {
					t.Errorf("the retained heap grew by %d MiB during the flood", grown>>20)
				}
				t.Logf("%s: retained heap %+.1f MiB, packetsDropped %v", c.name, float64(grown)/(1<<20), dropped(t, w, tr.id))
				if st := transportStats(t, w, tr.id); st["dtlsState"] != "connected" || (st["iceState"] != "completed" && st["iceState"] != "connected") {
					t.Fatalf("after the flood: %v", st)
				}
			}
			pubSub(t, w, rec, routerID, caps, c, "pion-srv", time.Second, inject)
		})
	}
}
