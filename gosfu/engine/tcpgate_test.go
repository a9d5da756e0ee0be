package engine

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestTcpPendingConnections: ICE-TCP connections that send nothing valid
// are closed after tcpPendingTimeout, at most tcpMaxPending wait at once,
// and a connection that carried a valid STUN binding request stays open.
func TestTcpPendingConnections(t *testing.T) {
	old := tcpPendingTimeout
	tcpPendingTimeout = 300 * time.Millisecond
	t.Cleanup(func() { tcpPendingTimeout = old })

	w, _ := newPionWorker(t)
	routerID, _ := setupPionRouter(t, w)
	_, info := createPionTransport(t, w, routerID, pionCase{tcp: true}, "")
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: info.IceCandidates[0].Port}

	// closedWithin reports whether the server closed c within d.
	closedWithin := func(c *net.TCPConn, d time.Duration) bool {
		_ = c.SetReadDeadline(time.Now().Add(d))
		var b [64]byte
		for {
			_, err := c.Read(b[:])
			if err == nil {
				continue
			}
			return !errors.Is(err, os.ErrDeadlineExceeded)
		}
	}

	// A connection that becomes a valid ICE tuple.
	good, err := net.DialTCP("tcp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	req := stunRequest(t, info.IceParameters.UsernameFragment, info.IceParameters.Password, true, true, true)
	if _, err := good.Write(append([]byte{byte(len(req) >> 8), byte(len(req))}, req...)); err != nil {
		t.Fatal(err)
	}
	var hdr [2]byte
	_ = good.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(good, hdr[:]); err != nil {
		t.Fatalf("no STUN response: %v", err)
	}
	resp := make([]byte, int(hdr[0])<<8|int(hdr[1]))
	if _, err := io.ReadFull(good, resp); err != nil {
		t.Fatal(err)
	}

	// More silent connections than may wait at once.
	const n = tcpMaxPending + 44
	conns := make([]*net.TCPConn, 0, n)
	for i := 0; i < n; i++ {
		c, err := net.DialTCP("tcp", nil, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	// Every silent one is closed by the server (those over the cap at once,
	// the others after the timeout).
	for i, c := range conns {
		if !closedWithin(c, 10*time.Second) {
			t.Fatalf("silent connection %d still open", i)
		}
	}
	// The admitted one outlived the timeout many times over.
	if closedWithin(good, 5*tcpPendingTimeout) {
		t.Fatal("the connection with a valid STUN request was closed")
	}
}
