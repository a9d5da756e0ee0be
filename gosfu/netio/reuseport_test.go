package netio

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

func closeAll(conns []*net.UDPConn) {
	for _, c := range conns {
		c.Close()
	}
}

func listenReaders(t *testing.T, info ListenInfo, n int) []*net.UDPConn {
	t.Helper()
	conns, extraErr, err := ListenUDPReaders(info, 40000, 49999, n)
	if err != nil {
		t.Fatal(err)
	}
	if extraErr != nil || len(conns) != n {
		t.Fatalf("%d sockets of %d: %v", len(conns), n, extraErr)
	}
	t.Cleanup(func() { closeAll(conns) })
	return conns
}

func port(c *net.UDPConn) int { return c.LocalAddr().(*net.UDPAddr).Port }

// Every client's datagrams reach one socket of the group, the group shares
// the clients out, and a reply sent on the socket a client's datagrams
// arrive on comes from the port the client sent to.
func TestListenUDPReadersSpread(t *testing.T) {
	const readers, clients, perClient = 4, 32, 5
	conns := listenReaders(t, ListenInfo{Protocol: "udp", IP: "127.0.0.1"}, readers)
	p := port(conns[0])
	for _, c := range conns {
		if port(c) != p {
			t.Fatalf("ports %d and %d", p, port(c))
		}
	}
	type arrival struct {
		reader int
		from   string
	}
	got := make(chan arrival, clients*perClient)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64)
			for {
				n, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				got <- arrival{i, from.String()}
				// Answer on the socket it arrived on.
				if _, err := c.WriteToUDPAddrPort(buf[:n], from); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p}
	var cls []*net.UDPConn
	for i := 0; i < clients; i++ {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cls = append(cls, c)
		for k := 0; k < perClient; k++ {
			if _, err := c.WriteToUDP([]byte(fmt.Sprint(i, k)), to); err != nil {
				t.Fatal(err)
			}
		}
	}
	readerOf := map[string]int{}
	used := map[int]bool{}
	deadline := time.After(10 * time.Second)
	for n := 0; n < clients*perClient; n++ {
		select {
		case a := <-got:
			if r, ok := readerOf[a.from]; ok && r != a.reader {
				t.Fatalf("%s read by sockets %d and %d", a.from, r, a.reader)
			}
			readerOf[a.from] = a.reader
			used[a.reader] = true
		case <-deadline:
			t.Fatalf("%d datagrams of %d arrived", n, clients*perClient)
		}
	}
	if len(readerOf) != clients || len(used) < 2 {
		t.Fatalf("%d clients over %d sockets", len(readerOf), len(used))
	}
	buf := make([]byte, 64)
	for _, c := range cls {
		for k := 0; k < perClient; k++ {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatal(err)
			}
			if int(from.Port()) != p {
				t.Fatalf("reply from port %d, want %d", from.Port(), p)
			}
		}
	}
	closeAll(conns)
	wg.Wait()
}

// A port held by a group is not handed to anyone else, not even to
// another group (of the same process and user) searching a range; once
// the group is closed it is free again.
func TestListenUDPReadersExclusive(t *testing.T) {
	info := ListenInfo{Protocol: "udp", IP: "127.0.0.1"}
	conns, _, err := ListenUDPReaders(info, 40000, 49999, 3)
	if err != nil {
		t.Fatal(err)
	}
	p := port(conns[0])
	only := info
	only.PortRange = &PortRange{Min: p, Max: p}
	if c, _, err := ListenUDPReaders(only, 0, 0, 3); !errors.Is(err, ErrNoPort) {
		closeAll(c)
		t.Fatalf("second group on the port: %v", err)
	}
	if c, err := ListenUDP(only, 0, 0); !errors.Is(err, ErrNoPort) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("plain socket on the port: %v", err)
	}
	fixed := info
	fixed.Port = p
	if _, err := ListenUDP(fixed, 0, 0); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("fixed port: %v", err)
	}
	closeAll(conns)
	again := listenReaders(t, fixed, 3)
	if port(again[0]) != p {
		t.Fatalf("port %d, want %d", port(again[0]), p)
	}
}

// One reader: a socket as ListenUDP binds it, without SO_REUSEPORT.
func TestListenUDPReadersOne(t *testing.T) {
	conns := listenReaders(t, ListenInfo{Protocol: "udp", IP: "127.0.0.1"}, 1)
	shared := ListenInfo{Protocol: "udp", IP: "127.0.0.1", Port: port(conns[0]), Flags: &Flags{UDPReusePort: true}}
	if c, err := ListenUDP(shared, 0, 0); err == nil {
		c.Close()
		t.Fatal("a SO_REUSEPORT socket joined a single reader")
	}
}

// udpReusePort still shares a fixed port between groups, as the user
// asked.
func TestListenUDPReadersUserReusePort(t *testing.T) {
	a := listenReaders(t, ListenInfo{Protocol: "udp", IP: "127.0.0.1", Flags: &Flags{UDPReusePort: true}}, 2)
	b := listenReaders(t, ListenInfo{Protocol: "udp", IP: "127.0.0.1", Port: port(a[0]), Flags: &Flags{UDPReusePort: true}}, 2)
	if port(b[0]) != port(a[0]) {
		t.Fatal("different ports")
	}
}

func TestListenUDPReadersIPv6(t *testing.T) {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6: %v", err)
	}
	c.Close()
	conns := listenReaders(t, ListenInfo{Protocol: "udp", IP: "::1"}, 2)
	if port(conns[1]) != port(conns[0]) {
		t.Fatal("different ports")
	}
}

func TestUDPReaders(t *testing.T) {
	for _, tc := range []struct{ procs, want int }{{0, 1}, {1, 1}, {2, 2}, {8, 8}, {64, MaxUDPReaders}} {
		if got := UDPReaders(tc.procs); got != tc.want {
			t.Errorf("UDPReaders(%d) = %d, want %d", tc.procs, got, tc.want)
		}
	}
}
