package netio

import (
	"net"
	"testing"
	"time"
)

// TestUseSendSocket checks that a sender with its own send socket sends
// from the reading socket's port, and that every datagram to that port
// still reaches the reading socket.
func TestUseSendSocket(t *testing.T) {
	for _, ip := range []string{"127.0.0.1", "::1"} {
		t.Run(ip, func(t *testing.T) {
			conn, err := ListenUDP(ListenInfo{IP: ip}, 20000, 59999)
			if err != nil {
				t.Skipf("no %s: %v", ip, err)
			}
			defer conn.Close()
			s, err := NewUDPSender(conn)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.UseSendSocket(conn); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.sendFd < 0 {
				t.Fatal("no send socket")
			}
			peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
			peerAddr := peer.LocalAddr().(*net.UDPAddr).AddrPort()

			// Sent from the reading socket's port.
			if err := s.TrySendTo([]byte("hello"), peerAddr); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 100)
			_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, from, err := peer.ReadFromUDPAddrPort(buf)
			if err != nil || string(buf[:n]) != "hello" {
				t.Fatalf("peer got %q, %v", buf[:n], err)
			}
			if from.Port() != local.Port() {
				t.Fatalf("sent from port %d, want %d", from.Port(), local.Port())
			}
			// Every datagram to the port is read from conn, none is left
			// to the send socket (peer source ports vary the hash).
			for i := 0; i < 50; i++ {
				c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(local))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Write([]byte{byte(i)}); err != nil {
					t.Fatal(err)
				}
				c.Close()
			}
			got := map[byte]bool{}
			for len(got) < 50 {
				_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				n, _, err := conn.ReadFromUDPAddrPort(buf)
				if err != nil {
					t.Fatalf("read %d of 50 datagrams: %v", len(got), err)
				}
				got[buf[n-1]] = true
			}
			// After Close, conn sends.
			s.Close()
			if err := s.TrySendTo([]byte("again"), peerAddr); err != nil {
				t.Fatal(err)
			}
			n, from, err = peer.ReadFromUDPAddrPort(buf)
			if err != nil || string(buf[:n]) != "again" || from.Port() != local.Port() {
				t.Fatalf("after Close: %q from %v, %v", buf[:n], from, err)
			}
		})
	}
}
