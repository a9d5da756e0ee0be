//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The receivers stand for the consumers' remote peers, which on this
// machine share the cores with the SFU. They are made cheap:
//
//   - Sockets are non-blocking and nobody waits on them. A few poller
//     goroutines wake every poll interval and drain their sockets with
//     recvmmsg (up to rxBatch datagrams per system call). A waiting reader
//     would be woken by the SFU's send (on loopback the delivery runs on
//     the sender's CPU, in its sendto), which would charge the SFU for a
//     wake-up no remote peer costs it.
//   - Large receive buffers (SO_RCVBUFFORCE when root) absorb the packets
//     of a poll interval and of the pollers being descheduled; whatever
//     overflows anyway is counted by the kernel (/proc/net/udp "drops"), so
//     receiver-side loss is told apart from the SFU's.

//   - Only the first rxBufSize bytes of each datagram (the RTP header:
//     SSRC and sequence number) are copied out; the kernel discards the
//     rest.

const (
	rxBatch   = 64
	rxBufSize = 16
)

// rxSocket is one receiving UDP socket on 127.0.0.1.
type rxSocket struct {
	fd   int
	port int
}

func newRxSocket(rcvbuf int) (*rxSocket, int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, 0, err
	}
	// SO_RCVBUFFORCE ignores net.core.rmem_max (needs CAP_NET_ADMIN);
	// SO_RCVBUF is capped by it.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
	}
	got, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(fd)
		return nil, 0, err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, 0, err
	}
	// The kernel reports twice what was asked (bookkeeping overhead).
	return &rxSocket{fd: fd, port: sa.(*unix.SockaddrInet4).Port}, got / 2, nil
}

// rxConsumer is what one consumer's receiver counted. Only the poller
// owning the consumer's socket writes it; received is read by the driver
// while the run goes on, the rest after the pollers stopped.
type rxConsumer struct {
	received  atomic.Uint64
	started   bool
	base      int64 // extended sequence number of the first packet
	maxExt    int64 // highest extended sequence number
	reordered uint64
	dups      uint64
	// span is maxExt - base + 1: packets received or lost up to the
	// highest received, for the driver while the run goes on.
	span atomic.Int64
	_    [64]byte // no false sharing between pollers
}

// gaps is how many sequence numbers between the first and the highest
// received never arrived (losses at the end of the run do not show here).
func (c *rxConsumer) gaps() int64 {
	if !c.started {
		return 0
	}
	return c.maxExt - c.base + 1 - int64(c.received.Load()-c.dups)
}

// rxPoller drains a set of sockets every interval.
type rxPoller struct {
	socks    []*rxSocket
	interval time.Duration
	ssrcs    map[uint32]*rxConsumer // read-only once running
	stop     atomic.Bool
	tid      atomic.Int64
	// other counts datagrams that are not the consumers' RTP: RTCP,
	// probation packets (SSRC 1234), anything unknown.
	other atomic.Uint64
	// syscalls counts recvmmsg calls.
	syscalls atomic.Uint64
	// flush asks for an immediate drain, done when the channel sent is
	// closed.
	flush chan chan struct{}

	msgs [rxBatch]mmsghdr
	iovs [rxBatch]unix.Iovec
	bufs [rxBatch][rxBufSize]byte
}

// mmsghdr is struct mmsghdr of <sys/socket.h> (64-bit Linux).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

func newRxPoller(socks []*rxSocket, interval time.Duration, ssrcs map[uint32]*rxConsumer) *rxPoller {
	p := &rxPoller{socks: socks, interval: interval, ssrcs: ssrcs, flush: make(chan chan struct{})}
	for i := range p.msgs {
		p.iovs[i].Base = &p.bufs[i][0]
		p.iovs[i].SetLen(rxBufSize)
		p.msgs[i].hdr.Iov = &p.iovs[i]
		p.msgs[i].hdr.SetIovlen(1)
	}
	return p
}

// run polls until stop is set, then drains once more. Its goroutine keeps
// its own thread so that its CPU time can be read from /proc.
func (p *rxPoller) run(wg *sync.WaitGroup) {
	defer wg.Done()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p.tid.Store(int64(unix.Gettid()))
	timer := time.NewTimer(p.interval)
	defer timer.Stop()
	next := time.Now()
	for !p.stop.Load() {
		p.drainAll()
		next = next.Add(p.interval)
		d := time.Until(next)
		if d <= 0 {
			next, d = time.Now(), 0 // fell behind: do not try to catch up
		}
		timer.Reset(d)
		select {
		case <-timer.C:
		case done := <-p.flush:
			p.drainAll()
			close(done)
			<-timer.C
		}
	}
	p.drainAll()
}

func (p *rxPoller) drainAll() {
	for _, s := range p.socks {
		p.drain(s)
	}
}

func (p *rxPoller) drain(s *rxSocket) {
	for {
		n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(s.fd),
			uintptr(unsafe.Pointer(&p.msgs[0])), rxBatch, unix.MSG_DONTWAIT, 0, 0)
		p.syscalls.Add(1)
		if errno != 0 {
			if errno == unix.EINTR {
				continue
			}
			return // EAGAIN: empty
		}
		for i := 0; i < int(n); i++ {
			p.account(p.bufs[i][:p.msgs[i].len])
		}
		if int(n) < rxBatch {
			return
		}
	}
}

func (p *rxPoller) account(b []byte) {
	// RTCP (RFC 5761 demultiplexing: packet types 192-223) and anything
	// too short for RTP.
	if len(b) < 12 || b[0]>>6 != 2 || (b[1] >= 192 && b[1] <= 223) {
		p.other.Add(1)
		return
	}
	c := p.ssrcs[binary.BigEndian.Uint32(b[8:])]
	if c == nil {
		p.other.Add(1)
		return
	}
	c.received.Add(1)
	seq := binary.BigEndian.Uint16(b[2:])
	if !c.started {
		c.started = true
		c.base, c.maxExt = int64(seq), int64(seq)
		c.span.Store(1)
		return
	}
	switch d := int16(seq - uint16(c.maxExt)); {
	case d > 0:
		c.maxExt += int64(d)
		c.span.Store(c.maxExt - c.base + 1)
	case d == 0:
		c.dups++
	default:
		c.reordered++
	}
}

// rx is the set of receivers of one run.
type rx struct {
	socks     []*rxSocket
	consumers []*rxConsumer
	pollers   []*rxPoller
	wg        sync.WaitGroup
	rcvbuf    int // effective receive buffer per socket
}

// newRx opens the receiving sockets for n consumers: one per consumer when
// nsock is 0, else nsock sockets each shared by a contiguous block of
// consumers. It returns the port each consumer's transport must connect to.
func newRx(n, nsock, rcvbuf int) (*rx, []int, error) {
	if nsock <= 0 || nsock > n {
		nsock = n
	}
	r := &rx{}
	for i := 0; i < nsock; i++ {
		s, got, err := newRxSocket(rcvbuf)
		if err != nil {
			r.close()
			return nil, nil, fmt.Errorf("receiving socket: %w", err)
		}
		r.socks = append(r.socks, s)
		r.rcvbuf = got
	}
	ports := make([]int, n)
	for i := range ports {
		ports[i] = r.socks[i*nsock/n].port
	}
	return r, ports, nil
}

// start runs npoll pollers on the sockets, counting the consumers'
// packets by SSRC (ssrcs[i] is consumer i's).
func (r *rx) start(ssrcs []uint32, npoll int, interval time.Duration) {
	m := make(map[uint32]*rxConsumer, len(ssrcs))
	r.consumers = make([]*rxConsumer, len(ssrcs))
	for i, s := range ssrcs {
		r.consumers[i] = &rxConsumer{}
		m[s] = r.consumers[i]
	}
	if npoll > len(r.socks) {
		npoll = len(r.socks)
	}
	// Contiguous blocks of sockets, so that a consumer's counters stay on
	// one poller.
	for k := 0; k < npoll; k++ {
		lo, hi := k*len(r.socks)/npoll, (k+1)*len(r.socks)/npoll
		p := newRxPoller(r.socks[lo:hi], interval, m)
		r.pollers = append(r.pollers, p)
		r.wg.Add(1)
		go p.run(&r.wg)
	}
}

// flushed drains every socket now and returns the packets received: a
// count of everything the kernel had delivered by the call.
func (r *rx) flushed() uint64 {
	done := make([]chan struct{}, len(r.pollers))
	for i, p := range r.pollers {
		done[i] = make(chan struct{})
		p.flush <- done[i]
	}
	for _, d := range done {
		<-d
	}
	return r.received()
}

func (r *rx) received() uint64 {
	var sum uint64
	for _, c := range r.consumers {
		sum += c.received.Load()
	}
	return sum
}

// spans sums the consumers' spans.
func (r *rx) spans() int64 {
	var sum int64
	for _, c := range r.consumers {
		sum += c.span.Load()
	}
	return sum
}

func (r *rx) tids() []int {
	var t []int
	for _, p := range r.pollers {
		if id := p.tid.Load(); id != 0 {
			t = append(t, int(id))
		}
	}
	return t
}

// stopPollers stops the pollers after a last drain.
func (r *rx) stopPollers() {
	for _, p := range r.pollers {
		p.stop.Store(true)
	}
	r.wg.Wait()
}

func (r *rx) ports() map[int]bool {
	m := make(map[int]bool, len(r.socks))
	for _, s := range r.socks {
		m[s.port] = true
	}
	return m
}

func (r *rx) close() {
	for _, s := range r.socks {
		unix.Close(s.fd)
	}
	r.socks = nil
}
