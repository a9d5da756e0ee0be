package netio

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func listenUDPTest(t *testing.T, network, addr string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Skipf("cannot listen on %s %s: %v", network, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestUDPSenderTrySendTo(t *testing.T) {
	tests := []struct {
		name     string
		network  string
		local    string
		sink     string // sink socket address ("" for none)
		sinkNet  string
		to       func(sink netip.AddrPort) netip.AddrPort
		wantAddr bool // expect a *net.AddrError
	}{
		{name: "ipv4", network: "udp4", local: "127.0.0.1:0", sinkNet: "udp4", sink: "127.0.0.1:0",
			to: func(s netip.AddrPort) netip.AddrPort { return s }},
		{name: "ipv4-mapped to ipv4 socket", network: "udp4", local: "127.0.0.1:0", sinkNet: "udp4", sink: "127.0.0.1:0",
			to: func(s netip.AddrPort) netip.AddrPort {
				return netip.AddrPortFrom(netip.AddrFrom16(s.Addr().As16()), s.Port())
			}},
		{name: "ipv6", network: "udp6", local: "[::1]:0", sinkNet: "udp6", sink: "[::1]:0",
			to: func(s netip.AddrPort) netip.AddrPort { return s }},
		{name: "ipv6 to ipv4 socket", network: "udp4", local: "127.0.0.1:0",
			to:       func(netip.AddrPort) netip.AddrPort { return netip.MustParseAddrPort("[::1]:9") },
			wantAddr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn := listenUDPTest(t, tc.network, tc.local)
			s, err := NewUDPSender(conn)
			if err != nil {
				t.Fatal(err)
			}
			var sink *net.UDPConn
			var sinkAddr netip.AddrPort
			if tc.sink != "" {
				sink = listenUDPTest(t, tc.sinkNet, tc.sink)
				sinkAddr = sink.LocalAddr().(*net.UDPAddr).AddrPort()
			}
			msg := []byte("hello " + tc.name)
			err = s.TrySendTo(msg, tc.to(sinkAddr))
			if tc.wantAddr {
				var ae *net.AddrError
				if !errors.As(err, &ae) {
					t.Fatalf("TrySendTo = %v, want *net.AddrError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("TrySendTo: %v", err)
			}
			_ = sink.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 100)
			n, from, err := sink.ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf[:n], msg) {
				t.Fatalf("received %q, want %q", buf[:n], msg)
			}
			if want := conn.LocalAddr().(*net.UDPAddr).AddrPort(); from.Port() != want.Port() {
				t.Fatalf("received from %v, want port %d", from, want.Port())
			}
		})
	}
}

// TestUDPSenderNoAllocs checks that a datagram costs no allocation, the
// address conversion included.
func TestUDPSenderNoAllocs(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{
		{"udp4", "127.0.0.1:0"},
		{"udp6", "[::1]:0"},
	} {
		t.Run(tc.network, func(t *testing.T) {
			conn := listenUDPTest(t, tc.network, tc.addr)
			sink := listenUDPTest(t, tc.network, tc.addr)
			s, err := NewUDPSender(conn)
			if err != nil {
				t.Fatal(err)
			}
			dst := sink.LocalAddr().(*net.UDPAddr).AddrPort()
			b := make([]byte, 1200)
			// Nobody reads the sink: the kernel drops what overflows its
			// receive buffer, which TrySendTo does not see.
			allocs := testing.AllocsPerRun(1000, func() {
				if err := s.TrySendTo(b, dst); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Fatalf("TrySendTo allocates %v times per datagram, want 0", allocs)
			}
		})
	}
}

// unixgramPair returns the two ends of a connected datagram socket pair.
// Unlike loopback UDP, whose datagrams leave the sender's buffer at once
// (dropped at a full receiver), a unix datagram socket's sender runs out
// of room when its peer does not read: the "would block" case.
func unixgramPair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
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
	return conns[0], conns[1]
}

func TestUDPSenderBufferFull(t *testing.T) {
	a, b := unixgramPair(t)
	s, err := NewUDPSender(a)
	if err != nil {
		t.Fatal(err)
	}
	send := func(p []byte) error {
		return s.TrySendTo(p, netip.AddrPort{})
	}
	p := make([]byte, 1000)
	// With nobody reading b, a's buffer (or b's queue) fills: the send
	// that does not fit must return at once with ErrSendBufferFull.
	sent := 0
	for ; sent < 1_000_000; sent++ {
		if err = send(p); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrSendBufferFull) {
		t.Fatalf("after %d datagrams: error %v, want ErrSendBufferFull", sent, err)
	}
	if sent == 0 {
		t.Fatal("the first datagram was refused")
	}
	// Room again once the peer reads.
	buf := make([]byte, 2000)
	for i := 0; i < sent; i++ {
		if _, err := b.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := send(p); err != nil {
		t.Fatalf("send after draining: %v", err)
	}
}

func TestUDPSenderClosed(t *testing.T) {
	conn := listenUDPTest(t, "udp4", "127.0.0.1:0")
	s, err := NewUDPSender(conn)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if err := s.TrySendTo([]byte{1}, netip.MustParseAddrPort("127.0.0.1:9")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("TrySendTo on a closed socket = %v, want net.ErrClosed", err)
	}
}

// BenchmarkUDPSend compares a datagram sent with Go's WriteTo (which
// waits when the buffer is full) and with TrySendTo, to an unread sink.
func BenchmarkUDPSend(b *testing.B) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	dst := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	s, err := NewUDPSender(conn)
	if err != nil {
		b.Fatal(err)
	}
	p := make([]byte, 1100)
	b.Run("WriteToUDPAddrPort", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := conn.WriteToUDPAddrPort(p, dst); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("TrySendTo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.TrySendTo(p, dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}
