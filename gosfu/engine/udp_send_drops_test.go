package engine

import (
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/pion/rtp"
	"golang.org/x/sys/unix"

	"github.com/gosfu/gosfu/gosfu/netio"
)

// TestDumpUdpSendBufferFull: the dumps of transports sending on UDP have
// packetsDropped.udpSendBufferFull, starting at zero; a DirectTransport's
// has none.
func TestDumpUdpSendBufferFull(t *testing.T) {
	w, _ := newTestWorker(t)
	mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})
	listen := map[string]any{"protocol": "udp", "ip": "127.0.0.1"}
	for i, tc := range []struct {
		method  string
		data    map[string]any
		present bool
	}{
		{"router.createWebRtcTransport", map[string]any{"listenInfos": []any{listen}}, true},
		{"router.createPlainTransport", map[string]any{"listenInfo": listen}, true},
		{"router.createPlainTransport", map[string]any{"listenInfo": listen, "rtcpMux": false}, true},
		{"router.createPipeTransport", map[string]any{"listenInfo": listen}, true},
		{"router.createDirectTransport", map[string]any{}, false},
	} {
		id := fmt.Sprintf("%s/%d", tc.method, i)
		t.Run(id, func(t *testing.T) {
			tc.data["transportId"] = id
			mustRequest(t, w, tc.method, "r", tc.data)
			v, ok := dropped(t, w, id)["udpSendBufferFull"]
			if ok != tc.present || v != 0 {
				t.Fatalf("packetsDropped.udpSendBufferFull = %v (present %v), want 0 present %v", v, ok, tc.present)
			}
		})
	}
}

// TestUdpSendBufferFullDropped: a consumer's transport whose socket has
// no room left drops (and counts) what it forwards instead of making the
// producer's receive path wait. Loopback UDP never runs out of send
// buffer, so the transport sends on a unix datagram socket whose peer
// does not read.
func TestUdpSendBufferFullDropped(t *testing.T) {
	w, _ := newTestWorker(t)
	router := mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r1", "mediaCodecs": testCodecs})
	listen := map[string]any{"protocol": "udp", "ip": "127.0.0.1"}
	mustRequest(t, w, "router.createPlainTransport", "r1", map[string]any{"transportId": "t1", "listenInfo": listen})
	mustRequest(t, w, "transport.produce", "t1", map[string]any{
		"producerId": "p1", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs":    []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000}},
			"encodings": []any{map[string]any{"ssrc": 1111}},
		},
	})
	mustRequest(t, w, "router.createPlainTransport", "r1", map[string]any{"transportId": "t2", "listenInfo": listen})

	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]*net.UnixConn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "unixgram")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c.(*net.UnixConn)
		t.Cleanup(func() { c.Close() })
	}
	sender, err := netio.NewUDPSender(conns[0])
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	prodT := w.handlers["t1"].(*Transport)
	// Swapped before connect: nothing sends on t2 yet.
	w.handlers["t2"].(*Transport).link.(*plainLink).sender = sender
	w.mu.Unlock()

	mustRequest(t, w, "transport.connect", "t2", map[string]any{"ip": "127.0.0.1", "port": 9})
	mustRequest(t, w, "transport.consume", "t2", map[string]any{
		"consumerId": "c1", "producerId": "p1", "rtpCapabilities": router["rtpCapabilities"],
	})

	var hdr rtp.Header
	seq := uint16(0)
	inject := func(n int) {
		for i := 0; i < n; i++ {
			seq++
			prodT.ReceiveRtp(vp8Packet(seq, 90000+uint32(seq/8)*3000, 1111, seq == 1), &hdr, w.nowMs())
		}
	}
	// read drains the peer and returns how many datagrams it held.
	read := func() int {
		buf := make([]byte, 2000)
		n := 0
		for {
			raw, err := conns[1].SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var rerr error
			if err := raw.Read(func(fd uintptr) bool {
				_, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
				return true
			}); err != nil {
				t.Fatal(err)
			}
			if rerr != nil {
				return n
			}
			n++
		}
	}

	// Far more than the peer's queue holds: the call must return (not
	// wait for a reader) and count the overflow.
	const packets = 500
	inject(packets)
	drops := dropped(t, w, "t2")["udpSendBufferFull"]
	delivered := read()
	if drops == 0 || delivered == 0 {
		t.Fatalf("%d packets: %d delivered, packetsDropped.udpSendBufferFull = %v; want both > 0", packets, delivered, drops)
	}
	if float64(delivered)+drops < packets {
		t.Fatalf("%d packets: %d delivered + %v dropped", packets, delivered, drops)
	}
	// Room again: the next packet goes through.
	inject(1)
	if n := read(); n == 0 {
		t.Fatal("nothing delivered after the peer read")
	}
}
