package engine

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// dumpDrops is the packetsDropped of a transport or WebRtcServer dump.
func dumpDrops(t *testing.T, w *Worker, method, id string) map[string]float64 {
	t.Helper()
	var d struct {
		PacketsDropped map[string]float64 `json:"packetsDropped"`
	}
	pionRequestInto(t, w, method, id, nil, &d)
	return d.PacketsDropped
}

// waitDrops waits until packetsDropped[key] of the dump reaches want and
// checks that no other counter of keys moved.
func waitDrops(t *testing.T, w *Worker, method, id string, want map[string]float64) {
	t.Helper()
	var got map[string]float64
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = dumpDrops(t, w, method, id)
		match := true
		for k, v := range want {
			match = match && got[k] == v
		}
		if match {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s: packetsDropped %v, want %v", method, id, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// frame is b with its RFC 4571 length prefix.
func frame(b []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}

// TestWebRtcServerDropCounters: packets a WebRtcServer cannot route to a
// transport are counted per cause in webRtcServer.dump()'s packetsDropped,
// next to mediasoup's fields, which keep their values.
func TestWebRtcServerDropCounters(t *testing.T) {
	w, _ := newPionWorker(t)
	routerID, _ := setupPionRouter(t, w)
	createPionServer(t, w, "srv")
	id, info := createPionTransport(t, w, routerID, pionCase{server: true}, "srv")

	var dump map[string]any
	pionRequestInto(t, w, "webRtcServer.dump", "srv", nil, &dump)
	keys := []string{}
	for k := range dump {
		keys = append(keys, k)
	}
	for _, k := range []string{"id", "udpSockets", "tcpServers", "webRtcTransportIds", "localIceUsernameFragments", "tupleHashes", "packetsDropped"} {
		if _, ok := dump[k]; !ok {
			t.Errorf("webRtcServer.dump has no %q (keys %v)", k, keys)
		}
	}
	if !reflect.DeepEqual(dump["webRtcTransportIds"], []any{id}) {
		t.Errorf("webRtcTransportIds %v", dump["webRtcTransportIds"])
	}
	want := map[string]float64{"unknownUfrag": 0, "unknownTuple": 0, "stunInvalid": 0, "tcpFraming": 0}
	if got := dumpDrops(t, w, "webRtcServer.dump", "srv"); !reflect.DeepEqual(got, want) {
		t.Fatalf("packetsDropped %v, want %v", got, want)
	}

	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: info.IceCandidates[0].Port}
	noUsername, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		pkt  []byte
		key  string
	}{
		{"STUN for an unknown ufrag", stunRequest(t, "nosuchufrag", "x", true, true, true), "unknownUfrag"},
		{"RTP from an unknown tuple", plainVP8(1), "unknownTuple"},
		{"STUN without USERNAME", noUsername.Raw, "stunInvalid"},
		{"truncated STUN", stunRequest(t, info.IceParameters.UsernameFragment, "x", true, true, true)[:30], "stunInvalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.WriteToUDP(tc.pkt, to); err != nil {
				t.Fatal(err)
			}
			want[tc.key]++
			waitDrops(t, w, "webRtcServer.dump", "srv", want)
		})
	}
	// The transport's own counters did not see these packets.
	if d := dumpDrops(t, w, "transport.dump", id); d["unknownTuple"] != 0 || d["stunInvalid"] != 0 {
		t.Errorf("transport counted the server's drops: %v", d)
	}
}

// TestIceTcpFramingCounted: ICE-TCP streams that break RFC 4571 framing
// (ending inside a frame's header or payload) or whose first frame is not
// STUN are counted as packetsDropped.tcpFraming of the listener's owner:
// the transport (own listener) or the WebRtcServer. A connection closed
// between frames is not.
func TestIceTcpFramingCounted(t *testing.T) {
	for _, server := range []bool{false, true} {
		t.Run(fmt.Sprintf("server=%t", server), func(t *testing.T) {
			w, _ := newPionWorker(t)
			routerID, _ := setupPionRouter(t, w)
			if server {
				createPionServer(t, w, "srv")
			}
			id, info := createPionTransport(t, w, routerID, pionCase{server: server, tcp: true}, "srv")
			method, owner := "transport.dump", id
			if server {
				method, owner = "webRtcServer.dump", "srv"
			}
			addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: info.IceCandidates[0].Port}
			stunReq := stunRequest(t, info.IceParameters.UsernameFragment, info.IceParameters.Password, true, true, true)
			want := map[string]float64{"tcpFraming": 0}
			for _, tc := range []struct {
				name    string
				send    []byte
				counted bool
			}{
				{"ends inside the length", []byte{0x00}, true},
				{"ends after the length", []byte{0x00, 0x64}, true},
				{"ends inside the payload", append([]byte{0x00, 0x64}, make([]byte, 10)...), true},
				{"first frame not STUN", frame(plainVP8(1)), true},
				{"HTTP request", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), true},
				{"STUN, closed between frames", frame(stunReq), false},
				{"nothing", nil, false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					c, err := net.DialTCP("tcp4", nil, addr)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := c.Write(tc.send); err != nil {
						t.Fatal(err)
					}
					if err := c.CloseWrite(); err != nil {
						t.Fatal(err)
					}
					// The server closes its side once it has read to the end,
					// after counting: then the counter can be checked.
					_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
					if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
						t.Logf("read: %v", err)
					}
					c.Close()
					if tc.counted {
						want["tcpFraming"]++
					}
					waitDrops(t, w, method, owner, want)
				})
			}
			if server {
				// The transport does not count its server's connections.
				if d := dumpDrops(t, w, "transport.dump", id); d["tcpFraming"] != 0 {
					t.Errorf("transport counted the server's framing errors: %v", d)
				}
			}
		})
	}
}

// TestIceConsentExpiryClosesTcp: when ICE consent expires for an ICE-TCP
// tuple the transport forgets the tuple and, as mediasoup, closes its TCP
// connection: the client reads EOF. A WebRtcServer forgets the expired
// tuple's route (UDP included). Time is a Fake clock: no waiting for the
// consent timeout.
func TestIceConsentExpiryClosesTcp(t *testing.T) {
	for _, tc := range []struct{ server, udp bool }{{false, false}, {true, false}, {true, true}} {
		server := tc.server
		t.Run(fmt.Sprintf("server=%t,udp=%t", tc.server, tc.udp), func(t *testing.T) {
			w, rec, fc := newFakeWorker(t, `{"logLevel":"error","rtcMinPort":40000,"rtcMaxPort":49999}`)
			routerID, _ := setupPionRouter(t, w)
			req := map[string]any{"transportId": "wt", "iceConsentTimeout": 10}
			if server {
				createPionServer(t, w, "srv")
				req["webRtcServerId"] = "srv"
				req["enableUdp"] = tc.udp
				req["enableTcp"] = !tc.udp
			} else {
				req["listenInfos"] = []any{map[string]any{"protocol": "tcp", "ip": "127.0.0.1"}}
			}
			var info webrtcTransportInfo
			pionRequestInto(t, w, "router.createWebRtcTransport", routerID, req, &info)
			waitTimers(t, fc, 1) // the transport's rtcp timer

			stunReq := stunRequest(t, info.IceParameters.UsernameFragment, info.IceParameters.Password, true, true, true)
			var c *net.TCPConn
			if tc.udp {
				u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					t.Fatal(err)
				}
				defer u.Close()
				if r := exchange(t, u, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: info.IceCandidates[0].Port}, stunReq, 5*time.Second); r == nil {
					t.Fatal("no STUN response")
				}
			} else {
				var err error
				c, err = net.DialTCP("tcp4", nil, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: info.IceCandidates[0].Port})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if _, err := c.Write(frame(stunReq)); err != nil {
					t.Fatal(err)
				}
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				var hdr [2]byte
				if _, err := io.ReadFull(c, hdr[:]); err != nil {
					t.Fatalf("no STUN response: %v", err)
				}
				if _, err := io.ReadFull(c, make([]byte, binary.BigEndian.Uint16(hdr[:]))); err != nil {
					t.Fatal(err)
				}
			}
			if server {
				// The route is added just after the response is sent.
				waitFor(t, "the server's tuple", 10*time.Second, func() bool { return len(serverTuples(t, w)) == 1 })
			}
			if st := transportStats(t, w, "wt"); st["iceState"] != "connected" {
				t.Fatalf("iceState %v", st["iceState"])
			}

			// Within the consent timeout the connection stays.
			fc.Advance(9 * time.Second)
			if st := transportStats(t, w, "wt"); st["iceState"] != "connected" {
				t.Fatalf("iceState %v before the consent timeout", st["iceState"])
			}
			// Advance returns once the ticks that fell due were handled.
			fc.Advance(3 * time.Second)
			if st := transportStats(t, w, "wt"); st["iceState"] != "disconnected" {
				t.Fatalf("iceState %v after the consent timeout", st["iceState"])
			}
			if !recHas(rec, "wt", "icestatechange", "iceState", "disconnected") {
				t.Error("no icestatechange to disconnected")
			}
			if c != nil {
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				n, err := c.Read(make([]byte, 1))
				if n != 0 || !errors.Is(err, io.EOF) {
					t.Fatalf("client read %d bytes, %v; want EOF", n, err)
				}
			}
			if server {
				// For TCP the server's reader forgets the route once the
				// connection is closed: wait for it.
				waitFor(t, "the server to forget the tuple", 10*time.Second, func() bool { return len(serverTuples(t, w)) == 0 })
			}
		})
	}
}

// serverTuples is the tupleHashes of WebRtcServer "srv".
func serverTuples(t *testing.T, w *Worker) []any {
	t.Helper()
	var dump struct {
		TupleHashes []any `json:"tupleHashes"`
	}
	pionRequestInto(t, w, "webRtcServer.dump", "srv", nil, &dump)
	return dump.TupleHashes
}

// recHas reports whether target emitted ev with a payload field equal to
// value.
func recHas(rec *recorder, target, ev, field, value string) bool {
	for _, e := range rec.all(target, ev) {
		var m map[string]any
		if json.Unmarshal(e.data, &m) == nil && m[field] == value {
			return true
		}
	}
	return false
}
