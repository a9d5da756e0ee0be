package netio

import (
	"errors"
	"net"
	"testing"
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
