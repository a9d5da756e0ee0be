package pacer

import (
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
)

const tickUs = 5_000 // the engine's drain period

// pkt returns a packet of n bytes carrying seq in its first 4 bytes.
func pkt(n int, seq uint32) []byte {
	b := make([]byte, max(n, 4))
	binary.BigEndian.PutUint32(b, seq)
	return b
}

// offer runs a sender offering size-byte packets every everyUs for
// warmUs+durUs, draining every tickUs, and returns the bytes that left
// (inline and drained) after warmUs, past the initial burst.
func offer(t *testing.T, cfg Config, bps uint64, size int, everyUs, warmUs, durUs int64) (int, *Pacer) {
	t.Helper()
	p := New(cfg)
	p.SetRate(bps)
	b := pkt(size, 0)
	out := 0
	nextDrain := int64(0)
	for now := int64(0); now < warmUs+durUs; now += everyUs {
		for ; nextDrain <= now; nextDrain += tickUs {
			n := 0
			p.Drain(nextDrain, func(b []byte, _ any) { n += len(b) })
			if nextDrain >= warmUs {
				out += n
			}
		}
		if p.Send(b, nil, now) && now >= warmUs {
			out += len(b)
		}
	}
	return out, p
}

func TestRate(t *testing.T) {
	cases := []struct {
		bps     uint64 // SetRate's argument; paced at 2.5x
		size    int
		everyUs int64 // offered well above the paced rate
	}{
		{40_000, 200, 1_000},
		{400_000, 1200, 500},
		{4_000_000, 1200, 100},
		{40_000_000, 1200, 10},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.bps), func(t *testing.T) {
			cfg := Config{MaxQueueUs: -1, MaxQueuePackets: 1 << 20, MaxQueueBytes: 1 << 30}
			out, p := offer(t, cfg, c.bps, c.size, c.everyUs, 200_000, 1_000_000)
			want := float64(c.bps) * 2.5 / 8 // bytes over 1 s
			if got := float64(out); got < want*0.97 || got > want*1.03 {
				t.Errorf("sent %.0f bytes in 1 s, want %.0f ±3%% (%+.1f%%)", got, want, 100*(got/want-1))
			}
			t.Logf("paced %d bps: %.0f bytes in 1 s (%+.2f%%)", c.bps*5/2, float64(out), 100*(float64(out)/want-1))
			if st := p.Stats(); st.QueuedPackets == 0 || st.Dropped != 0 {
				t.Errorf("offered load should queue without drops: %+v", st)
			}
		})
	}
}

func TestRateBelowPacingPassesInline(t *testing.T) {
	// Offered at 1 Mbps, paced at 2.5 Mbps: everything leaves inline.
	out, p := offer(t, Config{}, 1_000_000, 1250, 10_000, 0, 1_000_000)
	if st := p.Stats(); st.Queued != 0 || out != 100*1250 {
		t.Fatalf("out %d, stats %+v", out, st)
	}
}

func TestBurstBounded(t *testing.T) {
	cases := []struct {
		burstUs int64
		bps     uint64
		size    int
	}{
		{5_000, 1_000_000, 100},
		{10_000, 1_000_000, 100},
		{10_000, 8_000_000, 1200},
		{1_000, 100_000, 1200}, // below one packet: the floor allows one packet (+1 on credit)
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.burstUs, "/", c.bps), func(t *testing.T) {
			p := New(Config{BurstUs: c.burstUs})
			p.SetRate(c.bps)
			p.Send(pkt(c.size, 0), nil, 0) // starts the clock
			b := pkt(c.size, 1)
			burst := 0
			for i := 0; i < 10_000; i++ {
				// Idle for 10 s first, then all at once.
				if p.Send(b, nil, 10_000_000) {
					burst += len(b)
				} else {
					break
				}
			}
			rateBytesPerUs := float64(c.bps) * 2.5 / 8e6
			limit := max(float64(c.burstUs)*rateBytesPerUs, minBurstBytes) + float64(c.size)
			if float64(burst) > limit || burst == 0 {
				t.Fatalf("burst of %d bytes, limit %.0f", burst, limit)
			}
			if n := p.Drain(10_000_000, func([]byte, any) {}); n != 0 {
				t.Fatalf("drained %d with no budget left", n)
			}
		})
	}
}

func TestQueueBounds(t *testing.T) {
	cases := []struct {
		name        string
		cfg         Config
		size, n     int
		wantQueued  int
		wantDropped uint64
	}{
		{"packets", Config{MaxQueuePackets: 10}, 100, 30, 10, 20},
		{"bytes", Config{MaxQueueBytes: 1000}, 300, 10, 3, 7},
		{"default packets", Config{}, 10, 3000, DefaultMaxQueuePackets, 3000 - DefaultMaxQueuePackets},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := New(c.cfg)
			p.SetRate(1)
			p.Send(pkt(1500, 0), nil, 0) // spends the budget
			for i := 0; i < c.n; i++ {
				if p.Send(pkt(c.size, uint32(i)), nil, 0) {
					t.Fatal("sent with no budget")
				}
			}
			st := p.Stats()
			if st.QueuedPackets != c.wantQueued || st.Dropped != c.wantDropped || st.QueuedBytes != c.wantQueued*c.size {
				t.Fatalf("stats %+v, want %d queued, %d dropped", st, c.wantQueued, c.wantDropped)
			}
		})
	}
}

func TestMaxQueueUsRaisesRate(t *testing.T) {
	// 100 packets of 1200 B at 100 kbps would take 9.6 s; the queue limit
	// empties them in about 500 ms.
	p := New(Config{MaxQueueUs: 500_000, Factor: 1})
	p.SetRate(100_000)
	p.Send(pkt(1200, 0), nil, 0)
	for i := 1; i <= 100; i++ {
		if p.Send(pkt(1200, uint32(i)), nil, 0) {
			t.Fatalf("packet %d sent inline", i)
		}
	}
	var worstWait int64
	now := int64(0)
	for ; p.Stats().QueuedPackets > 0 && now < 2_000_000; now += tickUs {
		p.Drain(now, func([]byte, any) {})
		worstWait = max(worstWait, p.Stats().OldestUs)
	}
	if p.Stats().QueuedPackets > 0 || now > 500_000+2*tickUs {
		t.Fatalf("queue emptied at %d µs, %d left", now, p.Stats().QueuedPackets)
	}
	t.Logf("queue of 100 packets emptied by %d µs, oldest waited at most %d µs", now, worstWait)
	if worstWait > 500_000 {
		t.Fatalf("oldest packet waited %d µs", worstWait)
	}
	// Without the limit it takes the paced time.
	p = New(Config{MaxQueueUs: -1, Factor: 1})
	p.SetRate(100_000)
	p.Send(pkt(1200, 0), nil, 0)
	for i := 1; i <= 100; i++ {
		p.Send(pkt(1200, uint32(i)), nil, 0)
	}
	if n := p.Drain(500_000, func([]byte, any) {}); n > 10 {
		t.Fatalf("drained %d packets in 500 ms at 100 kbps", n)
	}
}

func TestUnpaced(t *testing.T) {
	p := New(Config{})
	for i := 0; i < 1000; i++ {
		if !p.Send(pkt(1200, uint32(i)), nil, 0) {
			t.Fatal("unpaced pacer queued")
		}
	}
	if b := p.Budget(0); b <= 1<<40 {
		t.Fatalf("unpaced budget %d", b)
	}
	// Packets queued while paced stay ahead of later ones after SetRate(0).
	p.SetRate(8_000)
	p.Send(pkt(1500, 0), nil, 0)
	for i := 1; i <= 3; i++ {
		if p.Send(pkt(100, uint32(i)), nil, 0) {
			t.Fatal("sent with no budget")
		}
	}
	p.SetRate(0)
	if p.Send(pkt(100, 4), nil, 0) {
		t.Fatal("sent ahead of the queue")
	}
	var got []uint32
	if n := p.Drain(0, func(b []byte, _ any) { got = append(got, binary.BigEndian.Uint32(b)) }); n != 4 {
		t.Fatalf("drained %d, want 4", n)
	}
	for i, s := range got {
		if s != uint32(i+1) {
			t.Fatalf("order %v", got)
		}
	}
	if !p.Send(pkt(100, 5), nil, 0) {
		t.Fatal("queue empty but not sent inline")
	}
	if st := p.Stats(); st.Sent != 1000+1+4+1 || st.Queued != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestBudget(t *testing.T) {
	p := New(Config{BurstUs: 10_000})
	p.SetRate(3_200_000) // 1 byte/µs paced
	if b := p.Budget(0); b != 10_000 {
		t.Fatalf("idle budget %d, want 10000", b)
	}
	p.Send(pkt(10_000, 0), nil, 0)
	if b := p.Budget(0); b != 0 {
		t.Fatalf("budget %d after spending it", b)
	}
	if b := p.Budget(4_000); b != 4_000 {
		t.Fatalf("budget %d after 4 ms", b)
	}
	p.Send(pkt(4_000, 1), nil, 4_000)
	p.Send(pkt(100, 2), nil, 4_000) // queued
	if b := p.Budget(1_000_000); b != 0 {
		t.Fatalf("budget %d with a queue", b)
	}
}

func TestOwnerPassedAndReleased(t *testing.T) {
	p := New(Config{})
	p.SetRate(8_000)
	p.Send(pkt(1500, 0), nil, 0)
	type consumer struct{ id int }
	c := &consumer{7}
	p.Send(pkt(10, 1), c, 0)
	var got any
	p.Drain(1_000_000, func(_ []byte, o any) { got = o })
	if got != c {
		t.Fatalf("owner %v", got)
	}
	for i := range p.slots {
		if p.slots[i].owner != nil {
			t.Fatal("slot keeps its owner after the send")
		}
	}
}

// TestConcurrentOrder checks, under -race, that each sender's packets
// leave in the order it sent them whatever the mix of inline sends and
// drains, and that none is lost.
func TestConcurrentOrder(t *testing.T) {
	const senders, perSender = 4, 3000
	p := New(Config{MaxQueuePackets: 1 << 16, MaxQueueBytes: 1 << 28})
	p.SetRate(2_000_000)
	var (
		mu   sync.Mutex
		last [senders]int64
		bad  []string
		out  int
	)
	record := func(b []byte) {
		mu.Lock()
		s, seq := int(b[0]), int64(binary.BigEndian.Uint32(b[1:]))
		if seq != last[s]+1 {
			bad = append(bad, fmt.Sprintf("sender %d: %d after %d", s, seq, last[s]))
		}
		last[s] = seq
		out++
		mu.Unlock()
	}
	var clock sync.Mutex
	now := int64(0)
	tick := func(d int64) int64 {
		clock.Lock()
		defer clock.Unlock()
		now += d
		return now
	}
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := make([]byte, 300)
			b[0] = byte(s)
			for i := 1; i <= perSender; i++ {
				binary.BigEndian.PutUint32(b[1:], uint32(i))
				if p.Send(b, nil, tick(20)) {
					record(b)
				}
				if i == perSender/2 && s == 0 {
					p.SetRate(0) // switch to unpaced half way
				}
				if i == perSender*3/4 && s == 0 {
					p.SetRate(500_000)
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	drain := func() { p.Drain(tick(1), func(b []byte, _ any) { record(b) }) }
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			drain()
		}
	}
	p.SetRate(0)
	drain()
	if len(bad) > 0 {
		t.Fatalf("%d out of order, first: %s", len(bad), bad[0])
	}
	t.Logf("stats %+v", p.Stats())
	if out != senders*perSender {
		t.Fatalf("%d of %d packets out (stats %+v)", out, senders*perSender, p.Stats())
	}
}

func TestNoAllocsSteadyState(t *testing.T) {
	p := New(Config{})
	p.SetRate(1_000_000)
	b := pkt(1200, 0)
	owner := &struct{}{}
	now := int64(0)
	send := func([]byte, any) {}
	cycle := func() {
		for i := 0; i < 20; i++ { // more than the budget: some queue
			p.Send(b, owner, now)
		}
		now += tickUs
		p.Drain(now, send)
	}
	for i := 0; i < 200; i++ { // grow the ring and slot buffers
		cycle()
	}
	if n := testing.AllocsPerRun(200, cycle); n != 0 {
		t.Fatalf("%v allocs per cycle", n)
	}
	if p.Stats().QueuedPackets == 0 {
		t.Fatal("the cycle never queued")
	}
	p.SetRate(0)
	if n := testing.AllocsPerRun(1000, func() { p.Send(b, owner, now) }); n != 0 {
		t.Fatalf("%v allocs per unpaced Send", n)
	}
}

func TestNewDefaults(t *testing.T) {
	p := New(Config{Factor: -1, BurstUs: 1 << 62, MaxQueueBytes: -5})
	if p.cfg.Factor != DefaultFactor || p.cfg.BurstUs != maxBurstUs ||
		p.cfg.MaxQueueBytes != DefaultMaxQueueBytes || p.cfg.MaxQueuePackets != DefaultMaxQueuePackets ||
		p.cfg.MaxQueueUs != DefaultMaxQueueUs {
		t.Fatalf("config %+v", p.cfg)
	}
}

// FuzzPacer drives a pacer with arbitrary operations and checks its
// bounds and that packets leave in order, none twice.
func FuzzPacer(f *testing.F) {
	f.Add([]byte{0, 10, 1, 200, 1, 200, 1, 200, 2, 50, 3, 0, 1, 3, 2, 255})
	f.Add([]byte{0, 1, 1, 255, 1, 255, 1, 255, 1, 255, 2, 0, 0, 0, 2, 255})
	f.Fuzz(func(t *testing.T, ops []byte) {
		cfg := Config{MaxQueuePackets: 8, MaxQueueBytes: 4000, BurstUs: 2000, MaxQueueUs: 50_000}
		if len(ops) > 0 && ops[0]&1 == 1 {
			cfg.MaxQueueUs = -1
		}
		p := New(cfg)
		var now int64
		var seq, next uint32 // next: the lowest seq that may still leave
		check := func(b []byte) {
			s := binary.BigEndian.Uint32(b)
			if s < next {
				t.Fatalf("seq %d after %d", s, next-1)
			}
			next = s + 1
		}
		for len(ops) >= 2 {
			op, arg := ops[0]%4, ops[1]
			ops = ops[2:]
			switch op {
			case 0:
				p.SetRate(uint64(arg) * uint64(arg) * 1000)
			case 1:
				seq++
				b := pkt(int(arg)*8, seq)
				if p.Send(b, nil, now) {
					check(b)
				}
			case 2:
				now += int64(arg) * 100
				p.Drain(now, func(b []byte, _ any) { check(b) })
			case 3:
				now -= int64(arg) // a caller whose clock lags
				_ = p.Budget(now)
			}
			st := p.Stats()
			if st.QueuedPackets > cfg.MaxQueuePackets || st.QueuedBytes > cfg.MaxQueueBytes || st.QueuedPackets < 0 {
				t.Fatalf("queue beyond bounds: %+v", st)
			}
			if st.Sent+uint64(st.QueuedPackets)+st.Dropped != uint64(seq) {
				t.Fatalf("%d offered, stats %+v", seq, st)
			}
		}
	})
}
