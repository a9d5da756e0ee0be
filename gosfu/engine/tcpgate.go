package engine

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosfu/gosfu/gosfu/netio"
)

// ICE-TCP connections that have not yet carried a valid STUN binding
// request are pending: each listener keeps at most tcpMaxPending of them
// and closes one that stays pending for tcpPendingTimeout, so half-open
// connections cannot pile up file descriptors and memory.
const tcpMaxPending = 256

// tcpPendingTimeout is a variable so tests can shorten it.
var tcpPendingTimeout = 5 * time.Second

// tcpWriteStallTimeout closes an ICE-TCP connection whose peer accepts no
// byte for that long: its send queue has been dropping packets meanwhile.
// A variable so tests can change it.
var tcpWriteStallTimeout = 5 * time.Second

// Accept errors (EMFILE at the fd limit…) back off up to a second instead
// of retrying at once in a loop that burns a core.
const (
	tcpAcceptBackoffMin = 5 * time.Millisecond
	tcpAcceptBackoffMax = time.Second
)

// tcpGate counts the pending connections of one listener.
type tcpGate struct {
	pending atomic.Int32
	refused atomic.Uint64
}

// pendingConn is one accepted connection until admit (a valid ICE tuple)
// or done (closed).
type pendingConn struct {
	gate *tcpGate
	fc   *netio.FramedConn
	// waiting is read on every frame until admitted: an atomic keeps that
	// check free of locks.
	waiting atomic.Bool
	once    sync.Once
	// sawFrame: a non-empty frame was read (by the one reader goroutine).
	sawFrame bool
}

// notIce reports whether b, the next frame read, shows that the peer does
// not speak ICE-TCP: the first frame on an RFC 6544 connection is a STUN
// binding request. Such a frame is dropped and counted as a framing error.
func (p *pendingConn) notIce(b []byte) bool {
	if p.sawFrame || len(b) == 0 {
		return false
	}
	p.sawFrame = true
	return classifyPacket(b) != packetStun
}

// tcpFramingError tells whether err, which ended an ICE-TCP connection's
// reads, breaks RFC 4571 framing (the stream ended inside a frame, or a
// frame is longer than any packet) rather than being an ordinary close.
func tcpFramingError(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, netio.ErrFrameTooLarge)
}

func (p *pendingConn) pending() bool { return p.waiting.Load() }

// admit ends the pending state: the read deadline is lifted.
func (p *pendingConn) admit() {
	p.release()
	_ = p.fc.SetReadDeadline(time.Time{})
}

// done releases the connection's place when it closes.
func (p *pendingConn) done() { p.release() }

func (p *pendingConn) release() {
	p.once.Do(func() {
		p.waiting.Store(false)
		p.gate.pending.Add(-1)
	})
}

// acceptFramed accepts TCP connections until ln is closed and hands each
// one, RFC 4571 framed and pending, to onConn (which must not block).
// spawn starts each connection's writer goroutine.
func acceptFramed(ln *net.TCPListener, gate *tcpGate, spawn func(func()), onConn func(*netio.FramedConn, *pendingConn)) {
	backoff := time.Duration(0)
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(2*backoff, tcpAcceptBackoffMin), tcpAcceptBackoffMax)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if gate.pending.Add(1) > tcpMaxPending {
			gate.pending.Add(-1)
			gate.refused.Add(1)
			c.Close()
			continue
		}
		fc := netio.NewFramedConnConfig(c, netio.FramedConfig{WriteTimeout: tcpWriteStallTimeout, Go: spawn})
		_ = fc.SetReadDeadline(time.Now().Add(tcpPendingTimeout))
		pc := &pendingConn{gate: gate, fc: fc}
		pc.waiting.Store(true)
		onConn(fc, pc)
	}
}
