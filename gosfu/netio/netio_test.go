package netio

import (
	"errors"
	"net"
	"testing"
	"time"
)

func TestListenUDPRange(t *testing.T) {
	var conns []*net.UDPConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// A range of 3 ports gives exactly 3 sockets, then ErrNoPort.
	base := 40000 + int(net.IPv4len)*100
	for i := 0; i < 3; i++ {
		c, err := ListenUDP(ListenInfo{IP: "127.0.0.1"}, base, base+2)
		if err != nil {
			t.Fatalf("bind %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	if _, err := ListenUDP(ListenInfo{IP: "127.0.0.1"}, base, base+2); !errors.Is(err, ErrNoPort) {
		t.Fatalf("want ErrNoPort, got %v", err)
	}
}

func TestListenUDPFixedPortAndBadIP(t *testing.T) {
	c, err := ListenUDP(ListenInfo{IP: "127.0.0.1", PortRange: &PortRange{Min: 41000, Max: 41010}}, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	if port < 41000 || port > 41010 {
		t.Fatalf("port %d outside portRange", port)
	}
	if _, err := ListenUDP(ListenInfo{IP: "127.0.0.1", Port: port}, 1, 2); err == nil {
		t.Fatal("binding a taken fixed port succeeded")
	}
	c.Close()
	if _, err := ListenUDP(ListenInfo{IP: "not-an-ip"}, 1000, 2000); err == nil {
		t.Fatal("bad ip accepted")
	}
}

func TestFramedConn(t *testing.T) {
	l, err := ListenTCP(ListenInfo{IP: "127.0.0.1"}, 42000, 42100)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan [][]byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- nil
			return
		}
		f := NewFramedConn(c)
		defer f.Close()
		_ = f.SetReadDeadline(time.Now().Add(10 * time.Second))
		var got [][]byte
		buf := make([]byte, MaxFrameSize)
		for len(got) < 4 {
			b, err := f.ReadFrame(buf)
			if err != nil {
				break
			}
			got = append(got, append([]byte(nil), b...))
		}
		done <- got
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	f := NewFramedConn(c)
	want := [][]byte{{1}, {}, make([]byte, 1500), {4, 5, 6}}
	for _, w := range want {
		if err := f.WriteFrame(w); err != nil {
			t.Fatal(err)
		}
	}
	// Close drops what is still queued: read everything first.
	got := <-done
	f.Close()
	if len(got) != len(want) {
		t.Fatalf("got %d frames want %d", len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("frame %d: %d bytes want %d", i, len(got[i]), len(want[i]))
		}
	}
}

func TestListenRefusesOutOfRangePorts(t *testing.T) {
	for _, port := range []int{-1, 65536, 70000} {
		info := ListenInfo{Protocol: "udp", IP: "127.0.0.1", Port: port}
		if c, err := ListenUDP(info, 10000, 59999); !errors.Is(err, ErrInvalid) {
			if c != nil {
				c.Close()
			}
			t.Errorf("UDP port %d: got %v, want ErrInvalid", port, err)
		}
		info.Protocol = "tcp"
		if ln, err := ListenTCP(info, 10000, 59999); !errors.Is(err, ErrInvalid) {
			if ln != nil {
				ln.Close()
			}
			t.Errorf("TCP port %d: got %v, want ErrInvalid", port, err)
		}
	}
}
