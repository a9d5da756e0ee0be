package netio

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
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

// FramedConn carries packets over a stream with RFC 4571 framing: each
// packet is preceded by its length as a 16 bit big-endian integer.
type FramedConn struct {
	conn   net.Conn
	wmu    sync.Mutex
	wbuf   []byte
	Local  netip.AddrPort
	Remote netip.AddrPort
}

// NewFramedConn wraps a TCP connection.
func NewFramedConn(c net.Conn) *FramedConn {
	f := &FramedConn{conn: c, wbuf: make([]byte, 0, 1600)}
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		ap := a.AddrPort()
		f.Local = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ap := a.AddrPort()
		f.Remote = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return f
}

// SetReadDeadline sets the deadline of the connection's reads.
func (f *FramedConn) SetReadDeadline(t time.Time) error { return f.conn.SetReadDeadline(t) }

// ReadFrame reads the next packet into buf and returns it.
func (f *FramedConn) ReadFrame(buf []byte) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(f.conn, hdr[:]); err != nil {
		return nil, err
	}
	n := int(hdr[0])<<8 | int(hdr[1])
	if n > len(buf) {
		return nil, fmt.Errorf("frame of %d bytes too large", n)
	}
	if _, err := io.ReadFull(f.conn, buf[:n]); err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// WriteFrame writes one packet. Safe for concurrent use.
func (f *FramedConn) WriteFrame(b []byte) error {
	if len(b) > MaxFrameSize {
		return fmt.Errorf("packet of %d bytes too large", len(b))
	}
	f.wmu.Lock()
	defer f.wmu.Unlock()
	f.wbuf = append(f.wbuf[:0], byte(len(b)>>8), byte(len(b)))
	f.wbuf = append(f.wbuf, b...)
	_, err := f.conn.Write(f.wbuf)
	return err
}

// Close closes the connection.
func (f *FramedConn) Close() error { return f.conn.Close() }
