package engine

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Fan-out of a producer's packet to its consumers. Up to fanoutSpreadMin
// consumers, the goroutine that read the packet sends every copy itself.
// From there on, when one goroutine would be too busy with this producer
// (its fan-out takes more than half the time between packets, or more than
// fanoutMaxSerial), the consumers are cut into chunks of fanoutChunk that
// the reading goroutine and up to GOMAXPROCS-1 helper goroutines of the
// producer take in turn, so one producer with many consumers uses every
// core (LiveKit's DownTrackSpreader spreads its down tracks the same way).
// Below that a helper woken for every packet costs a thread wake-up and
// saves nothing the reading goroutine cannot do in time. The averages are
// slow (64 packets), so that a frame's burst of packets does not flip it.
//
// The reading goroutine waits for every chunk before it reads the next
// packet: a consumer sees its packets in order, and the packet (the read
// buffer and the producer's mapped header) needs no copy. Chunks are taken
// from a per-packet counter of this producer only; nothing is shared with
// other producers or across a router.
const (
	// fanoutSpreadMin is the number of consumers from which a packet's
	// fan-out is spread. A chunk costs tens of µs (a send is a few µs), so
	// a helper's wake-up (a few µs) pays off from a few chunks on.
	fanoutSpreadMin = 32
	// fanoutChunk is how many consumers a goroutine takes at once.
	fanoutChunk = 8
	// fanoutMaxSerial is the longest fan-out left to one goroutine
	// whatever the packet rate: the delay its last consumer sees.
	fanoutMaxSerial = 2 * time.Millisecond
)

// fanout is a producer's fan-out state. send is called by one goroutine
// at a time (the producer's fanMu is held).
type fanout struct {
	w *Worker

	// helpers are started on the first spread packet; each waits on its
	// own channel for the next packet.
	helpers []chan struct{}
	stop    chan struct{}
	done    sync.WaitGroup
	stopped bool

	// The packet being fanned out, valid from the helpers' wake-up to
	// done.Wait.
	pkt       *rtpPacket
	consumers []*Consumer
	now       int64
	next      atomic.Int32

	// Averages (ns) of the time between packets and of the fan-out work
	// per packet (summed over goroutines when spread), for the decision
	// to spread. work sums the chunks of the packet being spread.
	lastStart time.Duration
	gapAvg    float64
	workAvg   float64
	work      atomic.Int64
}

// send gives pkt to every consumer.
func (f *fanout) send(pkt *rtpPacket, consumers []*Consumer, now int64) {
	n := len(consumers)
	if n < fanoutSpreadMin || f.stopped {
		for _, c := range consumers {
			c.sendRtp(pkt, now)
		}
		return
	}
	start := f.w.clock.Now()
	if f.lastStart != 0 {
		f.gapAvg += (float64(start-f.lastStart) - f.gapAvg) / 64
	}
	f.lastStart = start
	if f.workAvg <= f.gapAvg/2 && f.workAvg <= float64(fanoutMaxSerial) {
		for _, c := range consumers {
			c.sendRtp(pkt, now)
		}
		f.noteWork(f.w.clock.Now() - start)
		return
	}
	if f.helpers == nil {
		f.startHelpers()
	}
	wake := (n+fanoutChunk-1)/fanoutChunk - 1
	if wake > len(f.helpers) {
		wake = len(f.helpers)
	}
	if wake == 0 {
		for _, c := range consumers {
			c.sendRtp(pkt, now)
		}
		return
	}
	f.pkt, f.consumers, f.now = pkt, consumers, now
	f.next.Store(0)
	f.done.Add(wake)
	for _, h := range f.helpers[:wake] {
		h <- struct{}{}
	}
	f.sendChunks()
	f.done.Wait()
	f.pkt, f.consumers = nil, nil
	f.noteWork(time.Duration(f.work.Swap(0)))
}

func (f *fanout) noteWork(d time.Duration) {
	f.workAvg += (float64(d) - f.workAvg) / 64
}

// sendChunks sends the current packet to chunks of consumers until none
// is left.
func (f *fanout) sendChunks() {
	for {
		start := int(f.next.Add(1)-1) * fanoutChunk
		if start >= len(f.consumers) {
			return
		}
		end := min(start+fanoutChunk, len(f.consumers))
		t0 := f.w.clock.Now()
		for _, c := range f.consumers[start:end] {
			c.sendRtp(f.pkt, f.now)
		}
		f.work.Add(int64(f.w.clock.Now() - t0))
	}
}

func (f *fanout) startHelpers() {
	k := runtime.GOMAXPROCS(0) - 1
	f.helpers = make([]chan struct{}, k)
	f.stop = make(chan struct{})
	for i := range f.helpers {
		wake := make(chan struct{}, 1)
		f.helpers[i] = wake
		f.w.Go(func() {
			for {
				select {
				case <-wake:
					f.helperChunks()
				case <-f.stop:
					return
				}
			}
		})
	}
}

// helperChunks is sendChunks on a helper. A panic there ends the worker,
// as on the reading goroutine, but the reading goroutine is not left
// waiting.
func (f *fanout) helperChunks() {
	defer f.done.Done()
	defer func() {
		if r := recover(); r != nil {
			f.w.die(fmt.Sprintf("engine fault: %v", r), debug.Stack())
		}
	}()
	f.sendChunks()
}

// close stops the helpers; the caller holds the producer's fanMu, so no
// packet is being fanned out.
func (f *fanout) close() {
	if f.stopped {
		return
	}
	f.stopped = true
	if f.stop != nil {
		close(f.stop)
	}
}
