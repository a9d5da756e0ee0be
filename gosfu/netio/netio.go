// Package netio opens the sockets transports listen on: UDP sockets and TCP
// listeners bound within a port range, as mediasoup's listenInfo describes,
// and sends on them without ever waiting: RFC 4571 framed packets over TCP
// through a bounded queue (FramedConn), UDP datagrams with MSG_DONTWAIT
// (UDPSender); what the kernel cannot take is dropped for the caller to
// count.
package netio

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"syscall"
)

// ListenInfo is mediasoup's TransportListenInfo.
type ListenInfo struct {
	Protocol         string     `json:"protocol"`
	IP               string     `json:"ip"`
	AnnouncedAddress string     `json:"announcedAddress,omitempty"`
	ExposeInternalIP bool       `json:"exposeInternalIp,omitempty"`
	Port             int        `json:"port,omitempty"`
	PortRange        *PortRange `json:"portRange,omitempty"`
	Flags            *Flags     `json:"flags,omitempty"`
	SendBufferSize   int        `json:"sendBufferSize,omitempty"`
	RecvBufferSize   int        `json:"recvBufferSize,omitempty"`
}

// PortRange bounds the ports a socket may take.
type PortRange struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Flags are socket flags.
type Flags struct {
	IPv6Only     bool `json:"ipv6Only,omitempty"`
	UDPReusePort bool `json:"udpReusePort,omitempty"`
}

// ErrNoPort is returned when every port of the range is taken.
var ErrNoPort = errors.New("no more available ports")

// ErrInvalid is wrapped by errors about invalid listen information (bad
// IP, bad port range): the caller's fault rather than the system's.
var ErrInvalid = errors.New("invalid listen info")

// ListenUDP binds a UDP socket on info.IP: on info.Port when set, else on a
// random free port of info.PortRange, else of [minPort, maxPort].
func ListenUDP(info ListenInfo, minPort, maxPort int) (*net.UDPConn, error) {
	ip, err := netip.ParseAddr(info.IP)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid IP '%s'", ErrInvalid, info.IP)
	}
	network := "udp4"
	if ip.Is6() {
		network = "udp6"
	}
	return withPort(info, minPort, maxPort, func(port int) (*net.UDPConn, error) {
		return bind(network, ip, port, info)
	})
}

// withPort calls bind with info.Port when set, else with ports of
// info.PortRange (or [minPort, maxPort]) from a random start until one is
// free, as mediasoup's port manager picks randomly among the free ones.
func withPort[C any](info ListenInfo, minPort, maxPort int, bind func(port int) (C, error)) (C, error) {
	var zero C
	// Out-of-range numbers are refused, never wrapped (70000 would bind 4464).
	if info.Port < 0 || info.Port > 65535 {
		return zero, fmt.Errorf("%w: port must be an integer in [0, 65535] (got %d)", ErrInvalid, info.Port)
	}
	if info.Port != 0 {
		return bind(info.Port)
	}
	lo, hi := minPort, maxPort
	if info.PortRange != nil && (info.PortRange.Min != 0 || info.PortRange.Max != 0) {
		lo, hi = info.PortRange.Min, info.PortRange.Max
	}
	if lo <= 0 || hi > 65535 || lo > hi {
		return zero, fmt.Errorf("%w: invalid port range [%d, %d]", ErrInvalid, lo, hi)
	}
	n := hi - lo + 1
	start := rand.IntN(n)
	for i := 0; i < n; i++ {
		c, err := bind(lo + (start+i)%n)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) && !errors.Is(err, syscall.EACCES) {
			return zero, err
		}
	}
	return zero, fmt.Errorf("%w [ip:'%s', range:%d-%d]", ErrNoPort, info.IP, lo, hi)
}

func bind(network string, ip netip.Addr, port int, info ListenInfo) (*net.UDPConn, error) {
	reusePort := info.Flags != nil && info.Flags.UDPReusePort
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			// Go enables SO_REUSEADDR on multicast sockets; sharing a port
			// must be asked for (udpReusePort), as in mediasoup.
			if reusePort {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
			} else {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 0)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), network, netip.AddrPortFrom(ip, uint16(port)).String())
	if err != nil {
		return nil, err
	}
	conn := pc.(*net.UDPConn)
	if info.SendBufferSize > 0 {
		_ = conn.SetWriteBuffer(info.SendBufferSize)
	}
	recv := info.RecvBufferSize
	if recv <= 0 {
		recv = DefaultRecvBufferSize
	}
	// Capped by net.core.rmem_max; the kernel's default (about 208 KiB)
	// overflows when a browser's SCTP burst meets a busy machine.
	_ = conn.SetReadBuffer(recv)
	return conn, nil
}

// DefaultRecvBufferSize is the UDP receive buffer asked for when a listen
// info gives none.
const DefaultRecvBufferSize = 1 << 20

// soReusePort is SO_REUSEPORT on Linux.
const soReusePort = 0xf

// Tuple is mediasoup's TransportTuple.
type Tuple struct {
	LocalIP      string `json:"localIp"`
	LocalAddress string `json:"localAddress"`
	LocalPort    int    `json:"localPort"`
	RemoteIP     string `json:"remoteIp,omitempty"`
	RemotePort   int    `json:"remotePort,omitempty"`
	Protocol     string `json:"protocol"`
}

// LocalTuple describes a bound socket, announcing announced when given.
func LocalTuple(local netip.AddrPort, announced, protocol string) Tuple {
	addr := local.Addr().Unmap().String()
	t := Tuple{LocalIP: addr, LocalAddress: addr, LocalPort: int(local.Port()), Protocol: protocol}
	if announced != "" {
		t.LocalIP, t.LocalAddress = announced, announced
	}
	return t
}

// WithRemote returns t with the remote address set.
func (t Tuple) WithRemote(remote netip.AddrPort) Tuple {
	t.RemoteIP = remote.Addr().Unmap().String()
	t.RemotePort = int(remote.Port())
	return t
}
