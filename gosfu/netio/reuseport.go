package netio

import (
	"net"
	"net/netip"
	"os"
	"syscall"
)

// ListenUDPReaders binds a UDP socket as ListenUDP does and then up to n-1
// more on the same address with SO_REUSEPORT, so that n goroutines can
// read one port: the kernel hashes each remote address to one socket of
// the group, so a flow's datagrams all arrive, in order, on one socket
// (as long as the group does not change). Any socket of the group sends
// with the port's address.
//
// The first socket is bound as ListenUDP binds it, without SO_REUSEPORT
// unless info.Flags.UDPReusePort asks for it: a port some other socket
// holds, even a SO_REUSEPORT one (another group of this process), is
// refused and the next one of the range tried, so two groups never share
// a port by accident. SO_REUSEPORT is set on it only once it is bound;
// Linux then makes a group of it with the next socket bound there.
//
// Caveat: once the group exists, any socket with SO_REUSEPORT of the same
// user, in this process (a transport's udpReusePort) or another one, can
// bind the port too and then takes a share of the remote addresses, as it
// could with a user-asked udpReusePort socket; the port is only as private
// as the user's other processes are trusted.
//
// Failing to bind an extra socket is not an error: the sockets bound so
// far are returned, with that failure as extraErr for the caller to log.
// On err, nothing stays bound.
func ListenUDPReaders(info ListenInfo, minPort, maxPort, n int) (conns []*net.UDPConn, extraErr, err error) {
	first, err := ListenUDP(info, minPort, maxPort)
	if err != nil {
		return nil, nil, err
	}
	conns = []*net.UDPConn{first}
	if n <= 1 {
		return conns, nil, nil
	}
	if err := setReusePort(first, 1); err != nil {
		return conns, err, nil
	}
	// The same network and address as ListenUDP's (validated by it).
	ip, _ := netip.ParseAddr(info.IP)
	network := "udp4"
	if ip.Is6() {
		network = "udp6"
	}
	port := first.LocalAddr().(*net.UDPAddr).Port
	extra := info
	flags := Flags{}
	if info.Flags != nil {
		flags = *info.Flags
	}
	flags.UDPReusePort = true
	extra.Flags = &flags
	for len(conns) < n {
		c, err := bind(network, ip, port, extra)
		if err != nil {
			extraErr = err
			break
		}
		conns = append(conns, c)
	}
	if len(conns) == 1 && (info.Flags == nil || !info.Flags.UDPReusePort) {
		// Alone after all: keep the port private again.
		_ = setReusePort(first, 0)
	}
	return conns, extraErr, nil
}

// setReusePort sets SO_REUSEPORT on a socket (bound or not).
func setReusePort(c *net.UDPConn, on int) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, on)
	}); err != nil {
		return err
	}
	if serr != nil {
		return os.NewSyscallError("setsockopt", serr)
	}
	return nil
}

// UDPReaders is how many sockets ListenUDPReaders should bind per port for
// procs usable CPUs (runtime.GOMAXPROCS): one per CPU, at most
// MaxUDPReaders; one when there is one CPU, where more readers would only
// add goroutines.
func UDPReaders(procs int) int {
	return max(1, min(procs, MaxUDPReaders))
}

// MaxUDPReaders caps the readers per port: beyond it the packet path of a
// port is rarely the bottleneck, and each socket has its own receive
// buffer.
const MaxUDPReaders = 8
