//go:build linux

package main

import (
	"encoding/binary"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sender plays the producer's endpoint: a VP8 stream of frames of
// framePackets packets (90 kHz timestamps, the first frame a key frame, a
// key frame again after a PLI or FIR), each packet size bytes with
// abs-send-time and transport-cc header extensions, sent at pps packets/s
// from one socket to the producer's comedia PlainTransport. It reads the
// SFU's RTCP on the same socket (rtcpMux) between sends.
type sender struct {
	fd       int
	pps      float64
	pkt      []byte
	ssrc     uint32
	pt       uint8
	seq      uint16
	ts       uint32
	twcc     uint16
	n        uint64 // packets built
	keyAsked bool

	sent     atomic.Uint64
	errors   atomic.Uint64 // failed sends
	maxBurst atomic.Uint64 // most packets sent back to back to catch up
	late     atomic.Uint64 // packets sent in such bursts, after the first
	plis     atomic.Uint64
	firs     atomic.Uint64
	nacks    atomic.Uint64
	rtcpIn   atomic.Uint64
	tid      atomic.Int64
	stop     atomic.Bool
	done     chan struct{}
}

const (
	framePackets = 8
	extLen       = 12 // 0xBEDE block: abs-send-time (id 2) + transport-cc (id 3) + padding
	hdrLen       = 12 + extLen
)

func newSender(port int, pps float64, size int, ssrc uint32, pt uint8) (*sender, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 1<<20)
	if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if size < hdrLen+16 {
		size = hdrLen + 16
	}
	s := &sender{fd: fd, pps: pps, pkt: make([]byte, size), ssrc: ssrc, pt: pt,
		seq: 1000, ts: 90000, keyAsked: true, done: make(chan struct{})}
	p := s.pkt
	p[0] = 0x90 // V=2, X=1
	binary.BigEndian.PutUint32(p[8:], ssrc)
	binary.BigEndian.PutUint16(p[12:], 0xBEDE)
	binary.BigEndian.PutUint16(p[14:], extLen/4-1)
	p[16] = 2<<4 | 2 // abs-send-time, 3 bytes
	p[20] = 3<<4 | 1 // transport-cc, 2 bytes
	for i := hdrLen + 16; i < size; i++ {
		p[i] = byte(i * 7)
	}
	return s, nil
}

// next fills s.pkt with the next packet of the stream.
func (s *sender) next() []byte {
	p := s.pkt
	k := s.n % framePackets
	first, last := k == 0, k == framePackets-1
	if first {
		if s.n > 0 {
			s.ts += uint32(90000 * framePackets / s.pps)
		}
	}
	p[1] = s.pt
	if last {
		p[1] |= 0x80 // marker: end of frame
	}
	binary.BigEndian.PutUint16(p[2:], s.seq)
	binary.BigEndian.PutUint32(p[4:], s.ts)
	// abs-send-time: 6.18 fixed-point seconds, 24 bits.
	ns := time.Now().UnixNano()
	ast := uint32(ns/1e9<<18+ns%1e9<<18/1e9) & 0xFFFFFF
	p[17], p[18], p[19] = byte(ast>>16), byte(ast>>8), byte(ast)
	binary.BigEndian.PutUint16(p[21:], s.twcc)
	// VP8 payload descriptor (1 byte): S=1, PID=0 on a frame's first packet.
	v := p[hdrLen:]
	if first {
		v[0] = 0x10
		key := s.keyAsked
		s.keyAsked = false
		if key {
			// Frame tag (P=0: key frame, show_frame), start code, 640x480.
			copy(v[1:], []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01})
		} else {
			copy(v[1:], []byte{0x11, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00})
		}
	} else {
		v[0] = 0x00
	}
	s.seq++
	s.twcc++
	s.n++
	return p
}

// run sends until stop is set. The schedule is by time from the start:
// after each wake-up it sends every packet due by then (a late wake-up
// gives a short burst, never a lower rate), then reads the SFU's RTCP and
// sleeps until the next packet is due.
func (s *sender) run() {
	defer close(s.done)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s.tid.Store(int64(unix.Gettid()))
	start := time.Now()
	var sent uint64
	rtcp := make([]byte, 1500)
	for !s.stop.Load() {
		due := uint64(time.Since(start).Seconds()*s.pps) + 1
		burst := due - sent
		for ; sent < due; sent++ {
			if _, err := unix.Write(s.fd, s.next()); err != nil {
				s.errors.Add(1)
			}
		}
		s.sent.Store(sent)
		if burst > s.maxBurst.Load() {
			s.maxBurst.Store(burst)
		}
		if burst > 1 {
			s.late.Add(burst - 1)
		}
		for {
			n, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(s.fd),
				uintptr(unsafe.Pointer(&rtcp[0])), uintptr(len(rtcp)), unix.MSG_DONTWAIT, 0, 0)
			if errno != 0 || n == 0 {
				break
			}
			s.rtcp(rtcp[:n])
		}
		nextAt := start.Add(time.Duration(float64(sent) / s.pps * float64(time.Second)))
		if d := time.Until(nextAt); d > 0 {
			time.Sleep(d)
		}
	}
}

// rtcp counts the feedback in a compound RTCP packet; a PLI or FIR makes
// the next frame a key frame.
func (s *sender) rtcp(b []byte) {
	s.rtcpIn.Add(1)
	for len(b) >= 4 {
		fmtc, pt := b[0]&0x1f, b[1]
		l := (int(binary.BigEndian.Uint16(b[2:])) + 1) * 4
		if l > len(b) {
			return
		}
		switch {
		case pt == 206 && fmtc == 1:
			s.plis.Add(1)
			s.keyAsked = true
		case pt == 206 && fmtc == 4:
			s.firs.Add(1)
			s.keyAsked = true
		case pt == 205 && fmtc == 1:
			s.nacks.Add(1)
		}
		b = b[l:]
	}
}

func (s *sender) close() {
	s.stop.Store(true)
	<-s.done
	unix.Close(s.fd)
}
