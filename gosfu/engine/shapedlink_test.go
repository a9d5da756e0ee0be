package engine

// A UDP relay that emulates a bottleneck between a WebRtcTransport and a
// remote peer, for congestion control tests: packets from the SFU to the
// peer are serialised at a settable capacity through a bounded tail-drop
// queue and delayed by a settable one-way delay; packets from the peer to
// the SFU pass unshaped. The peer is given the relay's port as the SFU's
// candidate, so the SFU sees the relay as the remote tuple.

import (
	"errors"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// linkQueue is the bottleneck model, free of real time: a FIFO drained at
// capacity bit/s (0: unlimited) that holds at most limit bytes waiting or
// being serialised. Times are microseconds on any monotonic clock.
type linkQueue struct {
	capacity int64 // bit/s; 0: no serialisation delay
	limit    int   // bytes; a packet that would exceed it is dropped

	busyUntilUs int64       // when the last admitted packet has left
	waiting     []queuedPkt // admitted packets not yet left, oldest first
	queued      int         // bytes in waiting
}

type queuedPkt struct {
	departUs int64
	size     int
}

// drain forgets the packets that have left by nowUs.
func (q *linkQueue) drain(nowUs int64) {
	i := 0
	for i < len(q.waiting) && q.waiting[i].departUs <= nowUs {
		q.queued -= q.waiting[i].size
		i++
	}
	if i > 0 {
		q.waiting = append(q.waiting[:0], q.waiting[i:]...)
	}
}

// admit offers a packet of size bytes arriving at nowUs. It returns when
// the packet has been serialised, or ok false when the queue is full
// (tail drop). Departures never go backwards, whatever the capacity
// changes, so the link never reorders.
func (q *linkQueue) admit(nowUs int64, size int) (departUs int64, ok bool) {
	if size < 0 {
		size = 0
	}
	q.drain(nowUs)
	if q.limit > 0 && q.queued+size > q.limit {
		return 0, false
	}
	start := max(nowUs, q.busyUntilUs)
	var serial int64
	if q.capacity > 0 {
		// Round up so that a link never runs faster than its capacity;
		// clamp so that absurd sizes and tiny capacities cannot overflow.
		bits := float64(size) * 8
		us := math.Ceil(bits * 1e6 / float64(q.capacity))
		serial = int64(min(us, float64(math.MaxInt64/4)))
	}
	departUs = start
	if serial < math.MaxInt64/2-start {
		departUs = start + serial
	}
	q.busyUntilUs = departUs
	if departUs > nowUs {
		q.waiting = append(q.waiting, queuedPkt{departUs, size})
		q.queued += size
	}
	return departUs, true
}

// shapedLinkStats are the relay's counters. In/Dropped/Out are for the
// shaped direction (SFU to peer); Up is the other one.
type shapedLinkStats struct {
	InPackets, InBytes           int64
	DroppedPackets, DroppedBytes int64
	OutPackets, OutBytes         int64
	UpPackets, UpBytes           int64
}

// shapedLink relays UDP between a peer and an SFU port.
type shapedLink struct {
	peerSide *net.UDPConn // the peer sends here, believing it is the SFU
	sfuSide  *net.UDPConn // connected to the SFU's port
	peer     atomic.Pointer[net.UDPAddr]
	start    time.Time

	mu        sync.Mutex
	q         linkQueue
	queueTime time.Duration // when > 0, the queue limit follows the capacity
	delay     time.Duration
	pending   []linkDelivery // admitted, not yet delivered, in order
	wake      chan struct{}

	in, inBytes, dropped, droppedBytes, out, outBytes, up, upBytes atomic.Int64

	closed chan struct{}
	wg     sync.WaitGroup
}

type linkDelivery struct {
	atUs int64
	b    []byte
}

// newShapedLink starts a relay to the SFU at sfu (a loopback UDP port),
// unshaped, with a queue of queueTime at whatever capacity is set later.
// It is closed when the test ends.
func newShapedLink(t *testing.T, sfu *net.UDPAddr, queueTime time.Duration) *shapedLink {
	t.Helper()
	peerSide, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	sfuSide, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, sfu)
	if err != nil {
		peerSide.Close()
		t.Fatal(err)
	}
	l := &shapedLink{
		peerSide: peerSide, sfuSide: sfuSide, start: time.Now(), queueTime: queueTime,
		wake: make(chan struct{}, 1), closed: make(chan struct{}),
	}
	l.wg.Add(3)
	go l.upstream()
	go l.downstream()
	go l.deliver()
	t.Cleanup(l.close)
	return l
}

// port is where the peer must send: the SFU candidate port to give it.
func (l *shapedLink) port() int { return l.peerSide.LocalAddr().(*net.UDPAddr).Port }

func (l *shapedLink) nowUs() int64 { return time.Since(l.start).Microseconds() }

// setCapacity changes the bottleneck (bit/s; 0 lifts it). Packets already
// queued keep their schedule.
func (l *shapedLink) setCapacity(bps int64) {
	l.mu.Lock()
	l.q.capacity = max(bps, 0)
	if l.queueTime > 0 {
		l.q.limit = 0
		if bps > 0 {
			l.q.limit = max(int(float64(bps)/8*l.queueTime.Seconds()), 1500)
		}
	}
	l.mu.Unlock()
}

// setQueueLimit fixes the queue size in bytes (0: unbounded), instead of
// following the capacity.
func (l *shapedLink) setQueueLimit(bytes int) {
	l.mu.Lock()
	l.queueTime = 0
	l.q.limit = max(bytes, 0)
	l.mu.Unlock()
}

// setDelay changes the one-way delay of the shaped direction.
func (l *shapedLink) setDelay(d time.Duration) {
	l.mu.Lock()
	l.delay = max(d, 0)
	l.mu.Unlock()
}

func (l *shapedLink) capacity() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.q.capacity
}

func (l *shapedLink) stats() shapedLinkStats {
	return shapedLinkStats{
		InPackets: l.in.Load(), InBytes: l.inBytes.Load(),
		DroppedPackets: l.dropped.Load(), DroppedBytes: l.droppedBytes.Load(),
		OutPackets: l.out.Load(), OutBytes: l.outBytes.Load(),
		UpPackets: l.up.Load(), UpBytes: l.upBytes.Load(),
	}
}

func (l *shapedLink) close() {
	select {
	case <-l.closed:
		return
	default:
	}
	close(l.closed)
	_ = l.peerSide.Close()
	_ = l.sfuSide.Close()
	l.wg.Wait()
}

// upstream passes the peer's packets to the SFU and learns the peer's
// address (the last one that sent wins, as after an ICE restart).
func (l *shapedLink) upstream() {
	defer l.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, from, err := l.peerSide.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if p := l.peer.Load(); p == nil || !p.IP.Equal(from.IP) || p.Port != from.Port {
			l.peer.Store(from)
		}
		l.up.Add(1)
		l.upBytes.Add(int64(n))
		_, _ = l.sfuSide.Write(buf[:n])
	}
}

// downstream admits the SFU's packets into the bottleneck.
func (l *shapedLink) downstream() {
	defer l.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, err := l.sfuSide.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. ICMP port unreachable before the SFU listened
		}
		l.in.Add(1)
		l.inBytes.Add(int64(n))
		// IP and UDP headers count on a real link.
		const overhead = 28
		now := l.nowUs()
		l.mu.Lock()
		depart, ok := l.q.admit(now, n+overhead)
		if ok {
			l.pending = append(l.pending, linkDelivery{depart + l.delay.Microseconds(), append([]byte(nil), buf[:n]...)})
		}
		l.mu.Unlock()
		if !ok {
			l.dropped.Add(1)
			l.droppedBytes.Add(int64(n))
			continue
		}
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// deliver sends admitted packets to the peer when they are due.
func (l *shapedLink) deliver() {
	defer l.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		l.mu.Lock()
		var next *linkDelivery
		if len(l.pending) > 0 {
			next = &l.pending[0]
		}
		var wait time.Duration
		var b []byte
		if next != nil {
			if d := next.atUs - l.nowUs(); d > 0 {
				wait = time.Duration(d) * time.Microsecond
			} else {
				b = next.b
				l.pending[0] = linkDelivery{}
				l.pending = l.pending[1:]
			}
		}
		l.mu.Unlock()
		if b != nil {
			// Without a peer yet, or when the write fails, the packet is
			// lost on the link: counted as dropped so in = dropped + out
			// once the queue is empty.
			p := l.peer.Load()
			if p == nil {
				l.dropped.Add(1)
				l.droppedBytes.Add(int64(len(b)))
			} else if _, err := l.peerSide.WriteToUDP(b, p); err != nil {
				l.dropped.Add(1)
				l.droppedBytes.Add(int64(len(b)))
			} else {
				l.out.Add(1)
				l.outBytes.Add(int64(len(b)))
			}
			continue
		}
		var tc <-chan time.Time
		if next != nil {
			timer.Reset(wait)
			tc = timer.C
		}
		select {
		case <-l.closed:
			return
		case <-l.wake:
		case <-tc:
		}
		if tc != nil && !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

func TestLinkQueue(t *testing.T) {
	type step struct {
		nowUs      int64
		size       int
		capacity   int64 // applied before the packet
		wantOK     bool
		wantDepart int64
	}
	for _, tc := range []struct {
		name  string
		limit int
		steps []step
	}{
		{"unlimited passes at once", 0, []step{
			{0, 1000, 0, true, 0},
			{5, 1500, 0, true, 5},
		}},
		{"serialisation at 800 kbit/s", 0, []step{
			{0, 1000, 800_000, true, 10_000},
			{0, 1000, 800_000, true, 20_000}, // behind the first
			{50_000, 1000, 800_000, true, 60_000},
		}},
		{"tail drop", 2500, []step{
			{0, 1000, 800_000, true, 10_000},
			{0, 1000, 800_000, true, 20_000},
			{0, 1000, 800_000, false, 0}, // 3000 > 2500
			{10_000, 1000, 800_000, true, 30_000},
		}},
		{"oversized packet", 500, []step{
			{0, 1000, 800_000, false, 0},
			{0, 400, 800_000, true, 4_000},
		}},
		{"capacity change keeps order", 0, []step{
			{0, 1000, 100_000, true, 80_000},
			{1_000, 1000, 0, true, 80_000}, // lifted: still behind
			{2_000, 1000, 8_000_000, true, 81_000},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := linkQueue{limit: tc.limit}
			for i, s := range tc.steps {
				q.capacity = s.capacity
				d, ok := q.admit(s.nowUs, s.size)
				if ok != s.wantOK || (ok && d != s.wantDepart) {
					t.Fatalf("step %d: admit = %d, %v; want %d, %v", i, d, ok, s.wantDepart, s.wantOK)
				}
			}
		})
	}
}

// FuzzLinkQueue: whatever the arrivals, sizes and capacity changes, the
// model never panics, never reorders, never departs before arrival and
// never holds more than its limit.
func FuzzLinkQueue(f *testing.F) {
	f.Add([]byte{0, 10, 3, 200, 1, 50, 0, 0, 255, 255})
	f.Add([]byte{255, 255, 255, 255, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		q := linkQueue{limit: 4000}
		var now, last int64
		for len(ops) >= 4 {
			now += int64(ops[0]) * 997
			size := int(ops[1])<<4 | int(ops[2]>>4)
			if ops[3]&1 == 1 {
				q.capacity = int64(ops[3]) * int64(ops[2]) * 1000
			}
			ops = ops[4:]
			d, ok := q.admit(now, size)
			if !ok {
				continue
			}
			if d < now || d < last {
				t.Fatalf("departure %d (now %d, previous %d)", d, now, last)
			}
			if q.queued > q.limit || q.queued < 0 {
				t.Fatalf("queued %d, limit %d", q.queued, q.limit)
			}
			last = d
		}
	})
}

// TestShapedLinkRelay: the relay passes both directions, drops at the
// tail of a full queue, delivers what it admitted once the cap is lifted,
// and never delivers sooner than the one-way delay.
func TestShapedLinkRelay(t *testing.T) {
	sfu, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sfu.Close()
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	l := newShapedLink(t, sfu.LocalAddr().(*net.UDPAddr), 0)
	relay := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: l.port()}

	// The peer speaks first: the relay learns it and passes it on.
	if _, err := peer.WriteToUDP([]byte("hello"), relay); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	_ = sfu.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, relayTuple, err := sfu.ReadFromUDP(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("upstream: %q %v", buf[:n], err)
	}

	// 50 packets of 1200 bytes into a 100 kbit/s link holding 6000 bytes:
	// at most five wait, the reader would have to stall for seconds to
	// admit more.
	l.setCapacity(100_000)
	l.setQueueLimit(6000)
	const total = 50
	pkt := make([]byte, 1200)
	for i := 0; i < total; i++ {
		pkt[0] = byte(i)
		if _, err := sfu.WriteToUDP(pkt, relayTuple); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "all packets read by the relay", 10*time.Second, func() bool { return l.stats().InPackets == total })
	if st := l.stats(); st.DroppedPackets == 0 {
		t.Fatalf("nothing dropped: %+v", st)
	}
	l.setCapacity(0)
	waitFor(t, "admitted packets delivered", 10*time.Second, func() bool {
		st := l.stats()
		return st.OutPackets+st.DroppedPackets == total
	})
	st := l.stats()
	got := 0
	prev := -1
	for got < int(st.OutPackets) {
		_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := peer.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("peer read %d of %d: %v", got, st.OutPackets, err)
		}
		if n != 1200 || int(buf[0]) <= prev {
			t.Fatalf("packet %d: %d bytes, index %d after %d", got, n, buf[0], prev)
		}
		prev = int(buf[0])
		got++
	}
	t.Logf("relay: %+v", st)

	// A one-way delay is a lower bound on the transit time.
	const delay = 150 * time.Millisecond
	l.setDelay(delay)
	sent := time.Now()
	if _, err := sfu.WriteToUDP([]byte("late"), relayTuple); err != nil {
		t.Fatal(err)
	}
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err = peer.ReadFromUDP(buf)
	if err != nil || string(buf[:n]) != "late" {
		t.Fatalf("delayed packet: %q %v", buf[:n], err)
	}
	if el := time.Since(sent); el < delay {
		t.Fatalf("delivered after %v, delay %v", el, delay)
	}
}
