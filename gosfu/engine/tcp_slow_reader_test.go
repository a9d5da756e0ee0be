package engine

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/rtp"
	"github.com/pion/stun/v4"
)

// slowReaderEvents counts the 'rtp' events of each (direct) consumer and
// keeps the other events.
type slowReaderEvents struct {
	mu     sync.Mutex
	rtp    map[string]int
	events []pionEvent
}

func (e *slowReaderEvents) Emit(target, ev string, data []byte, binary bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ev == "rtp" {
		e.rtp[target]++
		return
	}
	e.events = append(e.events, pionEvent{target, ev, append([]byte(nil), data...)})
}

func (e *slowReaderEvents) count(target string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rtp[target]
}

func (e *slowReaderEvents) has(target, ev, field, value string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, x := range e.events {
		var m map[string]any
		if x.target == target && x.name == ev && json.Unmarshal(x.data, &m) == nil && m[field] == value {
			return true
		}
	}
	return false
}

// framedClient is an ICE-TCP client's socket as a net.PacketConn for
// pion/dtls (RFC 4571 framing). Once paused it reads nothing more from the
// socket, like a subscriber whose application stopped reading.
type framedClient struct {
	conn   *net.TCPConn
	wmu    sync.Mutex
	paused atomic.Bool
	closed chan struct{}
	once   sync.Once
}

func (c *framedClient) ReadFrom(p []byte) (int, net.Addr, error) {
	if c.paused.Load() {
		<-c.closed
		return 0, nil, net.ErrClosed
	}
	var hdr [2]byte
	if _, err := io.ReadFull(c.conn, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n > len(p) {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	if _, err := io.ReadFull(c.conn, p[:n]); err != nil {
		return 0, nil, err
	}
	return n, c.conn.RemoteAddr(), nil
}

func (c *framedClient) WriteTo(p []byte, _ net.Addr) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(p)), uint16(len(p)))
	if _, err := c.conn.Write(append(b, p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *framedClient) Close() error {
	c.once.Do(func() { close(c.closed) })
	// No linger: a reset, so a server write blocked on this peer fails.
	_ = c.conn.SetLinger(0)
	return c.conn.Close()
}

func (c *framedClient) LocalAddr() net.Addr                { return c.conn.LocalAddr() }
func (c *framedClient) SetDeadline(t time.Time) error      { return c.conn.SetDeadline(t) }
func (c *framedClient) SetReadDeadline(t time.Time) error  { return c.conn.SetReadDeadline(t) }
func (c *framedClient) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

// connectStuckTcpClient makes an ICE-TCP client of transport id complete
// ICE and DTLS (as DTLS client), then stop reading its socket, whose
// receive buffer is as small as the kernel allows.
func connectStuckTcpClient(t *testing.T, w *Worker, id string, info *webrtcTransportInfo) *framedClient {
	t.Helper()
	certOpt, fp := selfSigned(t)
	pionRequest(t, w, "transport.connect", id, map[string]any{
		"dtlsParameters": map[string]any{"role": "client", "fingerprints": []any{map[string]any{"algorithm": "sha-256", "value": fp}}},
	})

	var tcpCand *IceCandidate
	for i := range info.IceCandidates {
		if info.IceCandidates[i].Protocol == "tcp" {
			tcpCand = &info.IceCandidates[i]
		}
	}
	if tcpCand == nil {
		t.Fatalf("no TCP candidate in %+v", info.IceCandidates)
	}
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1)
		})
	}}
	nc, err := d.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", tcpCand.Port))
	if err != nil {
		t.Fatal(err)
	}
	c := &framedClient{conn: nc.(*net.TCPConn), closed: make(chan struct{})}
	t.Cleanup(func() { _ = c.Close() })

	// ICE: one nominating binding request.
	tid := make([]byte, 8)
	m, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.NewUsername(info.IceParameters.UsernameFragment+":stuck"),
		stun.RawAttribute{Type: stun.AttrPriority, Value: []byte{0x6e, 0x7f, 0x1e, 0xff}},
		stun.RawAttribute{Type: stun.AttrICEControlling, Value: tid},
		stun.RawAttribute{Type: stun.AttrUseCandidate},
		stun.NewShortTermIntegrity(info.IceParameters.Password), stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteTo(m.Raw, nil); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := c.ReadFrom(buf); err != nil {
		t.Fatalf("no STUN response: %v", err)
	}
	_ = c.conn.SetReadDeadline(time.Time{})

	dc, err := dtls.ClientWithOptions(c, c.conn.RemoteAddr(),
		certOpt,
		dtls.WithSRTPProtectionProfiles(dtls.SRTP_AES128_CM_HMAC_SHA1_80),
		dtls.WithInsecureSkipVerify(true),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := dc.HandshakeContext(ctx); err != nil {
		t.Fatalf("DTLS handshake: %v", err)
	}
	waitFor(t, "dtlsState connected on "+id, 10*time.Second, func() bool {
		return transportStats(t, w, id)["dtlsState"] == "connected"
	})
	c.paused.Store(true)
	return c
}

// slowReaderPacket is a VP8 key frame packet of about a thousand bytes.
func slowReaderPacket(seq uint16) []byte {
	payload := make([]byte, 1000)
	payload[0] = 0x10 // S=1, PID=0; the frame's first byte 0: a key frame
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: seq, Timestamp: 3000 * uint32(seq), SSRC: 1111}, Payload: payload}
	b, _ := p.Marshal()
	return b
}

// within runs f and reports whether it returned within d.
func within(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// TestTcpSlowReaderStallsNoOne: one producer, healthy direct consumers and
// a consumer on an ICE-TCP WebRtcTransport whose client stopped reading.
// The healthy consumers get every packet, the stuck one loses packets
// (counted as packetsDropped.tcpSendQueueFull), closing the producer and the
// transport return at once, and a peer that reads nothing for
// tcpWriteStallTimeout loses its connection (the transport its tuple).
func TestTcpSlowReaderStallsNoOne(t *testing.T) {
	cases := []struct {
		name   string
		server bool // through a WebRtcServer
		// stall: wait for the stuck connection to be closed by the write
		// timeout; otherwise close everything while the write is stuck.
		stall bool
	}{
		{name: "own listener, close while stuck"},
		{name: "own listener, write timeout", stall: true},
		{name: "WebRtcServer, close while stuck", server: true},
		{name: "WebRtcServer, write timeout", server: true, stall: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := tcpWriteStallTimeout
			tcpWriteStallTimeout = time.Minute
			if tc.stall {
				tcpWriteStallTimeout = time.Second
			}
			t.Cleanup(func() { tcpWriteStallTimeout = old })

			ev := &slowReaderEvents{rtp: map[string]int{}}
			w, err := NewWorker([]byte(`{"logLevel":"error","rtcMinPort":40000,"rtcMaxPort":49999}`), ev)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close(); w.Wait() })
			routerID, caps := setupPionRouter(t, w)
			serverID := ""
			if tc.server {
				serverID = "srv"
				createPionServer(t, w, serverID)
			}

			pionRequest(t, w, "router.createDirectTransport", routerID, map[string]any{"transportId": "in"})
			pionRequest(t, w, "transport.produce", "in", map[string]any{
				"producerId": "p", "kind": "video",
				"rtpParameters": map[string]any{
					"codecs": []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
						"rtcpFeedback": []any{map[string]any{"type": "nack"}, map[string]any{"type": "nack", "parameter": "pli"}}}},
					"encodings": []any{map[string]any{"ssrc": 1111}},
				},
			})
			const healthy = 3
			for i := 0; i < healthy; i++ {
				id := fmt.Sprintf("d%d", i)
				pionRequest(t, w, "router.createDirectTransport", routerID, map[string]any{"transportId": id})
				pionRequest(t, w, "transport.consume", id, map[string]any{"consumerId": fmt.Sprintf("c%d", i), "producerId": "p", "rtpCapabilities": caps})
			}
			wtID, info := createPionTransport(t, w, routerID, pionCase{tcp: true, server: tc.server}, serverID)
			pionRequest(t, w, "transport.consume", wtID, map[string]any{"consumerId": "stuck", "producerId": "p", "rtpCapabilities": caps, "paused": false})
			client := connectStuckTcpClient(t, w, wtID, info)

			// About 3 MB: far more than the client's receive buffer, the
			// server's send buffer and the send queue hold together.
			const n = 3000
			sent := make(chan struct{})
			go func() {
				defer close(sent)
				for i := 0; i < n; i++ {
					if _, err := w.Request("producer.send", "p", slowReaderPacket(uint16(i))); err != nil {
						t.Errorf("producer.send: %v", err)
						return
					}
				}
			}()
			// A failing run must end: resetting the client's connection
			// unblocks a write stuck on it.
			unblock := func() { _ = client.Close(); <-sent }
			select {
			case <-sent:
			case <-time.After(30 * time.Second):
				got := []int{}
				for i := 0; i < healthy; i++ {
					got = append(got, ev.count(fmt.Sprintf("c%d", i)))
				}
				closed := within(3*time.Second, func() {
					_, _ = w.Request("transport.closeProducer", "in", []byte(`{"producerId":"p"}`))
				})
				unblock()
				t.Fatalf("producer.send stalled behind the stuck TCP consumer: healthy consumers got %v of %d packets; closeProducer returned within 3 s: %v",
					got, n, closed)
			}
			for i := 0; i < healthy; i++ {
				if got := ev.count(fmt.Sprintf("c%d", i)); got != n {
					t.Errorf("healthy consumer c%d got %d of %d packets", i, got, n)
				}
			}
			var dump struct {
				PacketsDropped map[string]float64 `json:"packetsDropped"`
			}
			pionRequestInto(t, w, "transport.dump", wtID, nil, &dump)
			if dump.PacketsDropped["tcpSendQueueFull"] == 0 {
				t.Errorf("no tcpSendQueueFull drops counted: %v", dump.PacketsDropped)
			}
			t.Logf("stuck consumer: %v packets dropped at the TCP send queue", dump.PacketsDropped["tcpSendQueueFull"])

			if tc.stall {
				// Keep media flowing: the kernel's socket buffers (autotuned)
				// may have taken all of the burst, and only a write that
				// cannot progress starts the timeout.
				feed := make(chan struct{})
				fed := make(chan struct{})
				go func() {
					defer close(fed)
					for i := n; ; i++ {
						select {
						case <-feed:
							return
						case <-time.After(2 * time.Millisecond):
						}
						_, _ = w.Request("producer.send", "p", slowReaderPacket(uint16(i)))
					}
				}()
				waitFor(t, "the stuck connection's tuple to go", 15*time.Second, func() bool {
					return ev.has(wtID, "icestatechange", "iceState", "disconnected")
				})
				close(feed)
				<-fed
			}
			if !within(5*time.Second, func() {
				pionRequest(t, w, "transport.closeProducer", "in", map[string]any{"producerId": "p"})
			}) {
				unblock()
				t.Fatal("closeProducer hung")
			}
			if !within(5*time.Second, func() {
				pionRequest(t, w, "router.closeTransport", routerID, map[string]any{"transportId": wtID})
			}) {
				unblock()
				t.Fatal("closing the transport hung")
			}
			// The server closed the connection: the client reads what was
			// sent, then the end.
			_ = client.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.Copy(io.Discard, client.conn); err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("the stuck connection is still open after the transport closed")
			}
		})
	}
}
