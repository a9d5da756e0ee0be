package netio

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ListenTCP binds a TCP listener as ListenUDP binds a UDP socket.
func ListenTCP(info ListenInfo, minPort, maxPort int) (*net.TCPListener, error) {
	ip, err := netip.ParseAddr(info.IP)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid IP '%s'", ErrInvalid, info.IP)
	}
	network := "tcp4"
	if ip.Is6() {
		network = "tcp6"
	}
	return withPort(info, minPort, maxPort, func(port int) (*net.TCPListener, error) {
		return net.ListenTCP(network, net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
	})
}

// MaxFrameSize is the largest RFC 4571 frame.
const MaxFrameSize = 65535

// Defaults of FramedConfig.
const (
	// DefaultMaxQueueBytes bounds what waits for the socket on top of the
	// kernel's send buffer: about a second of a high quality video.
	DefaultMaxQueueBytes = 512 << 10
	// DefaultMaxQueueFrames bounds the frames waiting (small ones cost
	// more per byte).
	DefaultMaxQueueFrames = 1024
	// DefaultWriteTimeout is how long the writer waits for the peer to
	// accept any byte before closing the connection.
	DefaultWriteTimeout = 5 * time.Second
)

// ErrSendQueueFull is returned by WriteFrame when the frame was dropped
// because the peer does not read fast enough.
var ErrSendQueueFull = errors.New("TCP send queue full")

// FramedConfig tunes a FramedConn; zero fields take the defaults.
type FramedConfig struct {
	MaxQueueBytes  int
	MaxQueueFrames int
	// WriteTimeout closes the connection when the peer accepts nothing
	// for that long while frames wait.
	WriteTimeout time.Duration
	// Go starts the writer goroutine (the engine passes its Worker.Go so
	// that a panic there is reported as an engine fault); nil: a plain
	// goroutine.
	Go func(func())
}

// FramedConn carries packets over a stream with RFC 4571 framing: each
// packet is preceded by its length as a 16 bit big-endian integer.
//
// Writes never block: WriteFrame copies the packet into a bounded queue
// that one writer goroutine drains, so a peer that reads slowly (or not at
// all) only loses its own packets. WriteFrame is called on the packet path
// with the sending transport's, consumer's and producer's locks held;
// blocking there would stall every consumer of the producer and the Node
// thread closing it.
type FramedConn struct {
	conn   net.Conn
	Local  netip.AddrPort
	Remote netip.AddrPort

	maxBytes, maxFrames int
	timeout             time.Duration

	mu     sync.Mutex // guards the fields below; held for no syscall
	queue  []*frame   // waiting for the writer
	queued int        // bytes queued or being written
	frames int        // frames queued or being written
	closed bool

	iov net.Buffers // the writer's; a field so that writev allocates nothing

	wake    chan struct{} // capacity 1: frames were queued
	done    chan struct{} // closed by Close
	exited  chan struct{} // closed when the writer returns
	once    sync.Once
	dropped atomic.Uint64
}

// frame is one framed packet; pooled so that steady state sending
// allocates nothing.
type frame struct{ b []byte }

// pooledFrameSize covers every usual packet (MTU-sized SRTP, DTLS, STUN);
// larger frames are allocated and left to the garbage collector.
const pooledFrameSize = 2048

var framePool = sync.Pool{New: func() any { return &frame{b: make([]byte, 0, pooledFrameSize)} }}

// NewFramedConn wraps a TCP connection with the default configuration.
func NewFramedConn(c net.Conn) *FramedConn { return NewFramedConnConfig(c, FramedConfig{}) }

// NewFramedConnConfig wraps a TCP connection and starts its writer.
func NewFramedConnConfig(c net.Conn, cfg FramedConfig) *FramedConn {
	f := &FramedConn{
		conn:      c,
		maxBytes:  cfg.MaxQueueBytes,
		maxFrames: cfg.MaxQueueFrames,
		timeout:   cfg.WriteTimeout,
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		exited:    make(chan struct{}),
	}
	if f.maxBytes <= 0 {
		f.maxBytes = DefaultMaxQueueBytes
	}
	if f.maxFrames <= 0 {
		f.maxFrames = DefaultMaxQueueFrames
	}
	if f.timeout <= 0 {
		f.timeout = DefaultWriteTimeout
	}
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		ap := a.AddrPort()
		f.Local = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ap := a.AddrPort()
		f.Remote = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	run := cfg.Go
	if run == nil {
		run = func(fn func()) { go fn() }
	}
	run(f.writeLoop)
	return f
}

// SetReadDeadline sets the deadline of the connection's reads.
func (f *FramedConn) SetReadDeadline(t time.Time) error { return f.conn.SetReadDeadline(t) }

// ErrFrameTooLarge is returned by ReadFrame for a frame longer than the
// buffer it was given.
var ErrFrameTooLarge = errors.New("RFC 4571 frame too large")

// ReadFrame reads the next packet into buf and returns it. A stream that
// ends between frames gives io.EOF; one that ends inside a frame (its
// length or its payload) io.ErrUnexpectedEOF.
func (f *FramedConn) ReadFrame(buf []byte) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(f.conn, hdr[:]); err != nil {
		return nil, err
	}
	n := int(hdr[0])<<8 | int(hdr[1])
	if n > len(buf) {
		return nil, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	if _, err := io.ReadFull(f.conn, buf[:n]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf[:n], nil
}

// WriteFrame queues one packet for sending and returns at once: with
// ErrSendQueueFull (the packet is dropped and counted) when the queue is
// full, with net.ErrClosed once the connection is closed. b is copied.
// Safe for concurrent use.
func (f *FramedConn) WriteFrame(b []byte) error {
	if len(b) > MaxFrameSize {
		return fmt.Errorf("packet of %d bytes too large", len(b))
	}
	size := 2 + len(b)
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return net.ErrClosed
	}
	if f.frames >= f.maxFrames || f.queued+size > f.maxBytes {
		f.mu.Unlock()
		f.dropped.Add(1)
		return ErrSendQueueFull
	}
	// Copied under the lock (no syscall; contended only by this
	// connection's writer taking the queue) so that order and bounds hold.
	var fr *frame
	if size <= pooledFrameSize {
		fr = framePool.Get().(*frame)
	} else {
		fr = &frame{b: make([]byte, 0, size)}
	}
	fr.b = append(fr.b[:0], byte(len(b)>>8), byte(len(b)))
	fr.b = append(fr.b, b...)
	f.queue = append(f.queue, fr)
	f.queued += size
	f.frames++
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
	return nil
}

func putFrame(fr *frame) {
	if cap(fr.b) == pooledFrameSize {
		framePool.Put(fr)
	}
}

// Dropped is the number of packets WriteFrame dropped on a full queue.
func (f *FramedConn) Dropped() uint64 { return f.dropped.Load() }

// writeLoop writes the queued frames, all that wait at once (writev),
// until the connection is closed or fails.
func (f *FramedConn) writeLoop() {
	defer close(f.exited)
	var batch []*frame
	for {
		select {
		case <-f.wake:
		case <-f.done:
			return
		}
		f.mu.Lock()
		batch, f.queue = f.queue, batch[:0]
		f.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		size := 0
		bufs := f.iov[:0]
		for _, fr := range batch {
			bufs = append(bufs, fr.b)
			size += len(fr.b)
		}
		err := f.writeAll(bufs)
		clear(bufs)
		f.iov = bufs[:0]
		for i, fr := range batch {
			putFrame(fr)
			batch[i] = nil
		}
		f.mu.Lock()
		f.queued -= size
		f.frames -= len(batch)
		f.mu.Unlock()
		if err != nil {
			// The reader sees the connection fail, and its owner forgets
			// the tuple as on any TCP close.
			f.shutdown()
			return
		}
	}
}

// writeAll writes bufs, failing when the peer accepts nothing for the
// write timeout. A slow peer that still reads gets a fresh timeout after
// every write that made progress.
func (f *FramedConn) writeAll(bufs net.Buffers) error {
	// WriteTo consumes the slice it is given as it writes: give it f.iov
	// (no escaping local), the caller's bufs keeps the full capacity.
	f.iov = bufs
	for len(f.iov) > 0 {
		if err := f.conn.SetWriteDeadline(time.Now().Add(f.timeout)); err != nil {
			return err
		}
		n, err := f.iov.WriteTo(f.conn)
		if err == nil {
			return nil
		}
		if n == 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
	}
	return nil
}

// shutdown closes the connection and drops what waits, without waiting
// for the writer.
func (f *FramedConn) shutdown() error {
	var err error
	f.once.Do(func() {
		f.mu.Lock()
		f.closed = true
		for i, fr := range f.queue {
			putFrame(fr)
			f.queue[i] = nil
		}
		f.queue = f.queue[:0]
		f.mu.Unlock()
		close(f.done)
		// Also ends a write in progress.
		err = f.conn.Close()
	})
	return err
}

// Close closes the connection, drops the packets that wait and returns
// once the writer goroutine has ended (at once: closing the socket ends a
// write in progress).
func (f *FramedConn) Close() error {
	err := f.shutdown()
	<-f.exited
	return err
}
