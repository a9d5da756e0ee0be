package netio

import (
	"errors"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Why a UDP socket that Go reads gets a second socket to send on: Go
// registers every socket with its network poller for reading and writing
// (edge-triggered EPOLLIN|EPOLLOUT). Each datagram sent raises an EPOLLOUT
// edge when the kernel frees its buffer, and whenever a thread sleeps in
// the poller that edge wakes it up for nothing (golang/go#17249). An SFU
// sends far more than it receives, mostly while the other cores are idle
// and sleeping there: measured on this machine, one read fanned out to 100
// sockets cost 5.2 µs CPU per datagram sent through Go's sockets and
// 3.5 µs through sockets outside the poller.
//
// The send socket is bound to the reading socket's address with
// SO_REUSEPORT, so datagrams leave from the same port. A reuseport group
// hands each incoming datagram to one member; a classic BPF program
// attached to the group sends them all to member 0, the reading socket,
// which joined first. The send socket is never read and is not in Go's
// poller, so its sends wake nobody.

// soAttachReusePortCBPF is SO_ATTACH_REUSEPORT_CBPF (asm-generic).
const soAttachReusePortCBPF = 51

// steerToFirst is the group's program: "return 0", member 0 takes all.
var steerToFirst = []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}

// UseSendSocket makes s send on a socket of its own bound to conn's
// address (conn being the socket s was made on, read by the caller), as
// explained above. On error s keeps sending on conn. Not for a socket
// that shares its port on purpose (a WebRtcServer's readers, the
// udpReusePort flag): the program would take its share of the datagrams
// from the others. Close releases the send socket.
func (s *UDPSender) UseSendSocket(conn *net.UDPConn) error {
	if s.family != unix.AF_INET && s.family != unix.AF_INET6 {
		return errors.New("netio: send socket needs an IP socket")
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var (
		local  unix.Sockaddr
		v6only int
		serr   error
	)
	if err := rc.Control(func(fd uintptr) {
		if local, serr = unix.Getsockname(int(fd)); serr != nil {
			return
		}
		if s.family == unix.AF_INET6 {
			if v6only, serr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); serr != nil {
				return
			}
		}
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	if serr != nil {
		return os.NewSyscallError("setsockopt", serr)
	}
	fd, err := unix.Socket(s.family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		s.undoReusePort(rc)
		return os.NewSyscallError("socket", err)
	}
	fail := func(call string, err error) error {
		unix.Close(fd)
		s.undoReusePort(rc)
		return os.NewSyscallError(call, err)
	}
	if s.family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only); err != nil {
			return fail("setsockopt", err)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return fail("setsockopt", err)
	}
	// Its send buffer is the one sends fill now; the reading socket's
	// size was set from the listen options.
	if sz, err := sockoptOf(rc, unix.SO_SNDBUF); err == nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sz/2) // the kernel doubles it
	}
	if err := unix.Bind(fd, local); err != nil {
		return fail("bind", err)
	}
	prog := unix.SockFprog{Len: uint16(len(steerToFirst)), Filter: &steerToFirst[0]}
	if err := rc.Control(func(cfd uintptr) {
		_, _, errno := unix.Syscall6(unix.SYS_SETSOCKOPT, cfd, unix.SOL_SOCKET, soAttachReusePortCBPF,
			uintptr(unsafe.Pointer(&prog)), unsafe.Sizeof(prog), 0)
		if errno != 0 {
			serr = errno
		}
	}); err != nil {
		serr = err
	}
	if serr != nil {
		return fail("setsockopt", serr)
	}
	s.mu.Lock()
	s.sendFd = fd
	s.mu.Unlock()
	return nil
}

// undoReusePort makes the reading socket's port private again.
func (s *UDPSender) undoReusePort(rc syscall.RawConn) {
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 0)
	})
}

func sockoptOf(rc syscall.RawConn, opt int) (int, error) {
	var v int
	var serr error
	if err := rc.Control(func(fd uintptr) { v, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, opt) }); err != nil {
		return 0, err
	}
	return v, serr
}

// Close releases the send socket of UseSendSocket, if any; later sends go
// through the socket s was made on (whose owner closes it).
func (s *UDPSender) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sendFd >= 0 {
		unix.Close(s.sendFd)
		s.sendFd = -1
	}
}
