package engine

import (
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosfu/gosfu/gosfu/clock"
)

// rtcpInterval is how often reports are sent; mediasoup sends video
// reports about every second and audio ones every 5 s. nackInterval is
// how often the receive side sends NACKs, asks for key frames and sends
// transport-cc feedback.
const (
	rtcpInterval = 1000 * time.Millisecond
	nackInterval = 40 * time.Millisecond
)

// transportTimers drive a transport's periodic work with timers that
// re-arm themselves, not a goroutine per transport: an idle transport
// holds no goroutine stack for them and wakes up once a second.
//   - rtcp (every rtcpInterval, always): ICE consent, Sender and Receiver
//     Reports, consumers' layer targets, producers' inactivity, REMB.
//   - nack (every nackInterval while the transport has producers): NACKs,
//     key frame requests, transport-cc feedback.
//   - pace (once congestion control runs): the pacer's queue and probes,
//     every paceInterval while busy, else every paceIdleInterval.
//
// A callback runs on its own goroutine (the Fake clock runs it inside
// Advance); it counts in the transport's wait group, so Close waits for
// one in flight. The callbacks of one transport run one at a time (work),
// as they did on the goroutine they replace: the layer targets of the rtcp
// timer and the allocation of the pace timer never interleave.
type transportTimers struct {
	work   sync.Mutex
	mu     sync.Mutex
	closed bool
	rtcp   clock.Timer
	nack   clock.Timer
	nackOn bool
	pace   clock.Timer
	// paceFast: the pace timer runs at paceInterval. Read without mu on
	// the packet path, so a queued packet takes mu only to speed it up.
	// paceWakes counts wake-ups, so that a packet queued while the timer
	// runs keeps it fast.
	paceFast  atomic.Bool
	paceWakes atomic.Uint64
}

// startTimers starts the rtcp timer; register calls it.
func (t *Transport) startTimers() {
	tm := &t.timers
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.rtcp = t.w.clock.AfterFunc(rtcpInterval, t.timerCallback(t.onRtcpTimer, &tm.rtcp, func() time.Duration { return rtcpInterval }))
}

// startNackTimer runs the nack timer if it is not running; produce calls
// it.
func (t *Transport) startNackTimer() {
	tm := &t.timers
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if tm.closed || tm.nackOn {
		return
	}
	tm.nackOn = true
	if tm.nack == nil {
		tm.nack = t.w.clock.AfterFunc(nackInterval, t.timerCallback(t.onNackTimer, &tm.nack, t.nackNext))
		return
	}
	tm.nack.Reset(nackInterval)
}

// nackNext keeps the nack timer while producers remain; tm.mu is held.
func (t *Transport) nackNext() time.Duration {
	t.mu.Lock()
	n := len(t.producers)
	t.mu.Unlock()
	if n == 0 {
		t.timers.nackOn = false
		return 0
	}
	return nackInterval
}

// wakePacer makes the pace timer run at paceInterval: congestion control
// started, or the pacer queued a packet.
func (t *Transport) wakePacer() {
	tm := &t.timers
	tm.paceWakes.Add(1)
	if tm.paceFast.Load() {
		return
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if tm.closed || tm.paceFast.Load() {
		return
	}
	tm.paceFast.Store(true)
	if tm.pace == nil {
		tm.pace = t.w.clock.AfterFunc(paceInterval, t.timerCallback(t.onPaceTimer, &tm.pace, t.paceNext))
		return
	}
	tm.pace.Reset(paceInterval)
}

// paceNext is the pace timer's next interval; tm.mu is held.
func (t *Transport) paceNext() time.Duration {
	if t.timers.paceFast.Load() {
		return paceInterval
	}
	return paceIdleInterval
}

// stopTimers stops every timer; a callback in flight finishes (Close
// waits for it) and re-arms nothing.
func (t *Transport) stopTimers() {
	tm := &t.timers
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.closed = true
	for _, tr := range []clock.Timer{tm.rtcp, tm.nack, tm.pace} {
		if tr != nil {
			tr.Stop()
		}
	}
}

// timerCallback wraps work for a timer: nothing after stopTimers, a panic
// ends the worker as on any engine goroutine, and the timer is re-armed
// after next() unless that returns 0.
func (t *Transport) timerCallback(work func(), timer *clock.Timer, next func() time.Duration) func() {
	tm := &t.timers
	return func() {
		tm.mu.Lock()
		if tm.closed {
			tm.mu.Unlock()
			return
		}
		t.wg.Add(1)
		tm.mu.Unlock()
		defer t.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				t.w.die(fmt.Sprintf("engine fault: %v", r), debug.Stack())
			}
		}()
		func() {
			tm.work.Lock()
			defer tm.work.Unlock() // also when work panics
			work()
		}()
		tm.mu.Lock()
		if !tm.closed {
			if d := next(); d > 0 {
				(*timer).Reset(d)
			}
		}
		tm.mu.Unlock()
	}
}

func (t *Transport) onRtcpTimer() {
	now := t.w.nowMs()
	if tk, ok := t.link.(interface{ tick(int64) }); ok {
		tk.tick(now)
	}
	if !t.link.connected() {
		return
	}
	for _, c := range t.consumerList() {
		c.sendSenderReport(now)
		c.updateTarget(now)
	}
	for _, p := range t.producerList() {
		p.checkInactivity(now)
		p.sendReceiverReports(now)
	}
	t.sendRemb(now)
}

func (t *Transport) onNackTimer() {
	if !t.link.connected() {
		return
	}
	now := t.w.nowMs()
	for _, p := range t.producerList() {
		p.sendNacks(now)
		p.pollKeyFrames(now)
	}
	t.sendTwccFeedback(now)
}

func (t *Transport) onPaceTimer() {
	wakes := t.timers.paceWakes.Load()
	busy := false
	if cc := t.cc.Load(); cc != nil && t.link.connected() {
		busy = cc.tick()
	}
	t.timers.paceFast.Store(busy || t.timers.paceWakes.Load() != wakes)
}
