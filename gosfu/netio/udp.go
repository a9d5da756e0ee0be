package netio

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrSendBufferFull is returned by UDPSender.TrySendTo when the socket's
// send buffer has no room for the datagram now: the datagram is dropped,
// as mediasoup's uv_udp_try_send drops it, rather than waited for.
var ErrSendBufferFull = errors.New("socket send buffer full")

// UDPSender sends datagrams on a UDP socket without ever waiting for it
// to become writable. Go's WriteTo parks the calling goroutine on EAGAIN
// (send buffer full, e.g. packets held by a shaping qdisc); on the packet
// path that goroutine holds locks other consumers' packets wait on, so a
// datagram the kernel cannot take at once is dropped instead (NACK/RTX,
// DTLS and SCTP retransmission repair it). Safe for concurrent use; no
// allocation per datagram.
type UDPSender struct {
	raw syscall.RawConn
	// family is the socket's address family (AF_INET, AF_INET6 or, in
	// tests, AF_UNIX for a connected datagram socket).
	family int

	// mu guards the fields below, the arguments of write, which is bound
	// once so that passing it to RawConn.Write allocates nothing. It is
	// held only around a non-blocking sendto: the socket's own write lock
	// serializes senders at that point anyway.
	mu       sync.Mutex
	b        []byte
	to       unix.Sockaddr
	err      error
	sa4      unix.SockaddrInet4
	sa6      unix.SockaddrInet6
	zone     string // last IPv6 zone resolved into zoneID
	zoneID   uint32
	write    func(fd uintptr) bool
	sa4Iface unix.Sockaddr // &sa4 as an interface, converted once
	sa6Iface unix.Sockaddr // &sa6 as an interface, converted once
	// sendFd is the send socket of UseSendSocket, -1 without one.
	sendFd int
}

// NewUDPSender returns a sender on conn, which stays owned (and closed)
// by the caller. conn is a *net.UDPConn or, to let tests fill a send
// buffer (loopback UDP never does), a connected unix datagram socket,
// which sends to its peer whatever address TrySendTo is given.
func NewUDPSender(conn syscall.Conn) (*UDPSender, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	var (
		sa   unix.Sockaddr
		typ  int
		nerr error
		terr error
	)
	if err := raw.Control(func(fd uintptr) {
		sa, nerr = unix.Getsockname(int(fd))
		typ, terr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TYPE)
	}); err != nil {
		return nil, err
	}
	if nerr != nil {
		return nil, os.NewSyscallError("getsockname", nerr)
	}
	if terr != nil {
		return nil, os.NewSyscallError("getsockopt", terr)
	}
	if typ != unix.SOCK_DGRAM {
		return nil, errors.New("netio: not a datagram socket")
	}
	s := &UDPSender{raw: raw, sendFd: -1}
	switch sa.(type) {
	case *unix.SockaddrInet4:
		s.family = unix.AF_INET
	case *unix.SockaddrInet6:
		s.family = unix.AF_INET6
	case *unix.SockaddrUnix:
		s.family = unix.AF_UNIX
	default:
		return nil, errors.New("netio: unsupported socket family")
	}
	s.sa4Iface, s.sa6Iface = &s.sa4, &s.sa6
	s.write = func(fd uintptr) bool {
		s.err = sendNow(int(fd), s.b, s.to)
		// Never wait for the poller: a datagram that does not fit now is
		// dropped.
		return true
	}
	return s, nil
}

// TrySendTo sends b to to at once, or returns ErrSendBufferFull without
// sending it when the socket's send buffer is full. Other errors are
// returned as *os.SyscallError (or the socket's close error).
func (s *UDPSender) TrySendTo(b []byte, to netip.AddrPort) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.family {
	case unix.AF_INET:
		a := to.Addr()
		if !a.Is4() && !a.Is4In6() {
			return &net.AddrError{Err: "non-IPv4 address", Addr: a.String()}
		}
		s.sa4.Addr = a.As4()
		s.sa4.Port = int(to.Port())
		s.to = s.sa4Iface
	case unix.AF_INET6:
		a := to.Addr()
		s.sa6.Addr = a.As16()
		s.sa6.Port = int(to.Port())
		s.sa6.ZoneId = s.zoneIndex(a.Zone())
		s.to = s.sa6Iface
	default:
		s.to = nil
	}
	return s.sendLocked(b)
}

// sendLocked sends b to s.to (nil: the connected peer) under s.mu.
func (s *UDPSender) sendLocked(b []byte) error {
	if s.sendFd >= 0 {
		return sendNow(s.sendFd, b, s.to)
	}
	s.b = b
	err := s.raw.Write(s.write)
	s.b = nil
	if err == nil {
		err = s.err
	}
	s.err = nil
	return err
}

// zoneIndex is the interface index of an IPv6 zone, the last one cached:
// link-local remotes are rare and all come through the same interface.
func (s *UDPSender) zoneIndex(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if zone == s.zone {
		return s.zoneID
	}
	var id uint32
	if ifi, err := net.InterfaceByName(zone); err == nil {
		id = uint32(ifi.Index)
	} else if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		id = uint32(n)
	}
	s.zone, s.zoneID = zone, id
	return id
}

// sendNow sends one datagram on fd with MSG_DONTWAIT, mapping "would
// block" and "no buffer space" to ErrSendBufferFull.
func sendNow(fd int, b []byte, to unix.Sockaddr) error {
	for {
		var err error
		if to == nil {
			err = unix.Send(fd, b, unix.MSG_DONTWAIT)
		} else {
			err = unix.Sendto(fd, b, unix.MSG_DONTWAIT, to)
		}
		switch err {
		case nil:
			return nil
		case unix.EINTR:
			continue
		case unix.EAGAIN, unix.ENOBUFS:
			// EWOULDBLOCK is EAGAIN on Linux.
			return ErrSendBufferFull
		default:
			return os.NewSyscallError("sendto", err)
		}
	}
}
