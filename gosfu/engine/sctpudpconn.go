package engine

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosfu/gosfu/gosfu/netio"
)

// isSctp tells an SCTP packet on a plain UDP tuple: a 12-byte common
// header and a length padded to 4 bytes (mediasoup's test), checked after
// RTP and RTCP (whose first byte has version 2, unlike SCTP's port 5000).
func isSctp(b []byte) bool {
	return len(b) >= 12 && len(b)%4 == 0 && b[0]>>6 != 2
}

// receiveSctp hands an SCTP packet from the network to the association.
// Under comedia an SCTP packet may reveal the remote tuple, as RTP does.
func (l *plainLink) receiveSctp(b []byte, from netip.AddrPort) {
	if !l.learnTuple(from, false) {
		return
	}
	l.t.recvStats.add(len(b), trafficOther, l.t.w.nowMs())
	if len(b) > maxPionDatagram {
		l.t.drops.oversized.Add(1)
		return
	}
	l.sctpConn.push(b)
}

// sctpQueueDrops counts SCTP packets dropped because the association's
// reader was behind.
func (l *plainLink) sctpQueueDrops() uint64 {
	if l.sctpConn == nil {
		return 0
	}
	return l.sctpConn.dropped.Load()
}

// fillSctpInfo adds sctpParameters and sctpState to a transport's info.
func (t *Transport) fillSctpInfo(m map[string]any) {
	if t == nil || t.sctp == nil {
		return
	}
	m["sctpParameters"] = t.sctp.cfg.parameters()
	m["sctpState"] = t.sctp.State()
}

// udpSctpConn is the net.Conn pion/sctp runs over on a Plain or Pipe
// transport: packets the socket goroutine classified as SCTP come in
// through a bounded queue (dropped when it is full: SCTP retransmits),
// and packets go out unencrypted to the remote tuple, as mediasoup sends
// SCTP over a PlainTransport.
type udpSctpConn struct {
	l    *plainLink
	in   chan []byte
	free chan []byte // buffers Read has finished with
	done chan struct{}
	once sync.Once

	dropped atomic.Uint64
}

// udpSctpQueue bounds the packets waiting for the association's reader.
const udpSctpQueue = 512

func newUdpSctpConn(l *plainLink) *udpSctpConn {
	return &udpSctpConn{l: l, in: make(chan []byte, udpSctpQueue), free: make(chan []byte, udpSctpQueue), done: make(chan struct{})}
}

// push copies a packet into a recycled buffer (no allocation in steady
// state) and queues it.
func (c *udpSctpConn) push(b []byte) {
	var buf []byte
	select {
	case buf = <-c.free:
	default:
	}
	if cap(buf) < len(b) {
		buf = make([]byte, len(b), max(len(b), 1500))
	}
	buf = buf[:len(b)]
	copy(buf, b)
	select {
	case c.in <- buf:
	default:
		c.dropped.Add(1)
	}
}

func (c *udpSctpConn) Read(p []byte) (int, error) {
	select {
	case b := <-c.in:
		n := copy(p, b)
		select {
		case c.free <- b:
		default:
		}
		return n, nil
	case <-c.done:
		return 0, net.ErrClosed
	}
}

func (c *udpSctpConn) Write(p []byte) (int, error) {
	select {
	case <-c.done:
		return 0, net.ErrClosed
	default:
	}
	dst := c.l.remote.Load()
	if dst == nil {
		return 0, os.ErrDeadlineExceeded
	}
	switch err := c.l.sendUDP(c.l.sender, p, *dst); err {
	case nil:
	case netio.ErrSendBufferFull:
		// Lost like a datagram (SCTP retransmits): an error would end
		// pion's write loop, and with it the association.
		return len(p), nil
	default:
		return 0, err
	}
	c.l.t.sendStats.add(len(p), trafficOther, c.l.t.w.nowMs())
	return len(p), nil
}

func (c *udpSctpConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

func (c *udpSctpConn) LocalAddr() net.Addr { return c.l.conn.LocalAddr() }

func (c *udpSctpConn) RemoteAddr() net.Addr {
	if r := c.l.remote.Load(); r != nil {
		return net.UDPAddrFromAddrPort(*r)
	}
	return &net.UDPAddr{}
}

func (c *udpSctpConn) SetDeadline(time.Time) error      { return nil }
func (c *udpSctpConn) SetReadDeadline(time.Time) error  { return nil }
func (c *udpSctpConn) SetWriteDeadline(time.Time) error { return nil }
