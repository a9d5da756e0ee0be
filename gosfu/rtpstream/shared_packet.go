package rtpstream

import (
	"sync"
	"sync/atomic"
)

// SharedPacket is one copy of a received packet's payload that every
// consumer's retransmission buffer points at, instead of each keeping its
// own copy (mediasoup's RetransmissionBuffer holds shared pointers to one
// clone per producer packet the same way). It is reference counted: the
// last Release returns it to a pool of its size class, so that a steady
// stream allocates nothing.
type SharedPacket struct {
	refs  atomic.Int32
	class int8 // index in sharedClasses; -1: not pooled
	data  []byte
}

// sharedClasses are the capacities of pooled SharedPackets. Video payloads
// are mostly 1000-1250 bytes (MTU-sized packets), hence the 1280 class;
// anything above the largest class is allocated to size and left to the
// garbage collector.
var sharedClasses = [...]int{256, 512, 1024, 1280, 1536}

var sharedPools [len(sharedClasses)]sync.Pool

// liveShared counts SharedPackets handed out and not yet released, for
// leak checks.
var liveShared atomic.Int64

// LiveSharedPackets returns how many SharedPackets are referenced (taken
// and not yet released to zero). Tests use it to find leaks.
func LiveSharedPackets() int64 { return liveShared.Load() }

// NewSharedPacket returns a SharedPacket holding a copy of b, with one
// reference (the caller's).
func NewSharedPacket(b []byte) *SharedPacket {
	var p *SharedPacket
	class := -1
	for i, c := range sharedClasses {
		if len(b) <= c {
			class = i
			break
		}
	}
	if class >= 0 {
		if v := sharedPools[class].Get(); v != nil {
			p = v.(*SharedPacket)
		} else {
			p = &SharedPacket{class: int8(class), data: make([]byte, 0, sharedClasses[class])}
		}
	} else {
		p = &SharedPacket{class: -1, data: make([]byte, 0, len(b))}
	}
	p.data = append(p.data[:0], b...)
	p.refs.Store(1)
	liveShared.Add(1)
	return p
}

// Bytes returns the stored bytes. They must not be modified, and are valid
// while the caller holds a reference.
func (p *SharedPacket) Bytes() []byte { return p.data }

// Retain adds a reference.
func (p *SharedPacket) Retain() { p.refs.Add(1) }

// Release drops a reference; the last one returns the packet to its pool.
func (p *SharedPacket) Release() {
	switch n := p.refs.Add(-1); {
	case n > 0:
		return
	case n < 0:
		panic("rtpstream: SharedPacket released once too often")
	}
	liveShared.Add(-1)
	if p.class >= 0 {
		sharedPools[p.class].Put(p)
	}
}

// SharedRef is the producer's handle on the shared copy of the packet it is
// fanning out: the copy is made by the first consumer that stores the
// packet for retransmission (none is made when no consumer needs it: no
// NACK, or a simulcast layer nobody forwards), once even when consumers
// run on several goroutines. The producer arms it with Reset before the
// fan-out and drops its reference with Release (or the next Reset) after.
// The zero value is ready to use; it must not be copied.
type SharedRef struct {
	p   atomic.Pointer[SharedPacket]
	src []byte
}

// Reset releases the previous packet, if any, and arms the ref for
// payload, which must stay valid and unchanged until the fan-out ends.
// Not safe concurrently with Get.
func (r *SharedRef) Reset(payload []byte) {
	r.Release()
	r.src = payload
}

// Release drops the producer's reference to the shared copy, if one was
// made, and disarms the ref. Not safe concurrently with Get.
func (r *SharedRef) Release() {
	if p := r.p.Swap(nil); p != nil {
		p.Release()
	}
	r.src = nil
}

// Payload returns the payload the ref is armed with.
func (r *SharedRef) Payload() []byte { return r.src }

// Get returns the shared copy of the payload, making it on the first call.
// The reference stays the producer's: a caller keeping the packet must
// Retain it. Safe for concurrent use during a fan-out.
func (r *SharedRef) Get() *SharedPacket {
	if p := r.p.Load(); p != nil {
		return p
	}
	p := NewSharedPacket(r.src)
	if r.p.CompareAndSwap(nil, p) {
		return p
	}
	// Another consumer's goroutine made it first.
	p.Release()
	return r.p.Load()
}
