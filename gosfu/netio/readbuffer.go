package netio

import (
	"sync"
	"syscall"
)

// ReadBufferSize is the size of a socket read buffer: the largest UDP
// datagram, as mediasoup reads them.
const ReadBufferSize = 65536

// ReadBuffer is the buffer a read loop reads its socket into. Every
// socket has its own loop, so an idle transport would hold 64 kB of
// resident memory per socket if the buffer came from the Go heap (which
// zeroes reused memory, touching every page). It is mapped from the
// kernel instead: only the pages a datagram has reached are resident,
// one page for media-sized packets.
type ReadBuffer struct {
	B      []byte
	mapped bool
	once   sync.Once
}

// NewReadBuffer returns a ReadBufferSize buffer; Release it when its read
// loop ends.
func NewReadBuffer() *ReadBuffer {
	b, err := syscall.Mmap(-1, 0, ReadBufferSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return &ReadBuffer{B: make([]byte, ReadBufferSize)}
	}
	return &ReadBuffer{B: b, mapped: true}
}

// Release unmaps the buffer. No slice of it may be used afterwards: read
// loops hand packets to code that copies what it keeps.
func (r *ReadBuffer) Release() {
	r.once.Do(func() {
		if r.mapped {
			_ = syscall.Munmap(r.B)
		}
		r.B = nil
	})
}
