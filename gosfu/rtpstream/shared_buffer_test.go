package rtpstream

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// consumerCopy returns what a consumer forwards of payload: its own header
// (ssrc, seq, ts, extWords words of header extension), then payload with
// its first prefix bytes rewritten.
func consumerCopy(ssrc uint32, seq uint16, ts uint32, extWords int, payload []byte, prefix int) []byte {
	hl := 12
	if extWords > 0 {
		hl += 4 + 4*extWords
	}
	b := make([]byte, hl+len(payload))
	b[0] = 0x80
	b[1] = 101
	if extWords > 0 {
		b[0] |= 0x10
		binary.BigEndian.PutUint16(b[12:], 0xBEDE)
		binary.BigEndian.PutUint16(b[14:], uint16(extWords))
		// One one-byte extension (id 1, 1 byte), then padding.
		b[16], b[17] = 0x10, byte(ssrc)
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	copy(b[hl:], payload)
	for i := 0; i < prefix && i < len(payload); i++ {
		b[hl+i] ^= byte(ssrc) | 1
	}
	return b
}

func TestRetransmissionBufferSharedPayload(t *testing.T) {
	base := LiveSharedPackets()
	payload := make([]byte, 1000)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	var ref SharedRef
	ref.Reset(payload)
	b1 := NewRetransmissionBuffer(100, 2000, 90000)
	b2 := NewRetransmissionBuffer(100, 2000, 90000)
	p1 := consumerCopy(1, 10, 100, 3, payload, PayloadPrefix)
	p2 := consumerCopy(2, 500, 9000, 0, payload, 0)
	if !b1.InsertShared(p1, 12+4+12, &ref, 10, 100) || !b2.InsertShared(p2, 12, &ref, 500, 9000) {
		t.Fatal("not stored")
	}
	if got := b1.Get(10); !bytes.Equal(got, p1) {
		t.Fatal("consumer 1's packet differs")
	}
	if got := b2.Get(500); !bytes.Equal(got, p2) {
		t.Fatal("consumer 2's packet differs")
	}
	if sh, pr := b1.Stores(); sh != 1 || pr != 0 {
		t.Fatalf("stores %d shared %d private", sh, pr)
	}
	if n := LiveSharedPackets() - base; n != 1 {
		t.Fatalf("%d copies for two consumers", n)
	}
	// The producer's reference goes; the buffers keep the payload.
	ref.Release()
	if got := b2.Get(500); !bytes.Equal(got, p2) {
		t.Fatal("payload lost with the producer's reference")
	}
	b1.Clear()
	b2.Clear()
	checkNoLiveShared(t, base)
}

// Packets that cannot point at the shared payload get a private copy; ones
// that fit inline need none.
func TestRetransmissionBufferSharedFallbacks(t *testing.T) {
	base := LiveSharedPackets()
	payload := bytes.Repeat([]byte{9, 8, 7}, 300)
	var ref SharedRef
	ref.Reset(payload)
	b := NewRetransmissionBuffer(100, 2000, 90000)
	cases := []struct {
		name    string
		pkt     []byte
		hdrLen  int
		private bool
	}{
		// Header + prefix beyond the inline room.
		{"long header", consumerCopy(1, 1, 0, 16, payload, PayloadPrefix), 12 + 4 + 64, true},
		// A payload of another length (the consumer resized it).
		{"resized payload", consumerCopy(1, 2, 0, 1, payload[:len(payload)-1], 0), 12 + 8, true},
		// Small enough to fit inline: no reference at all.
		{"inline", consumerCopy(1, 3, 0, 1, payload[:20], 0), 12 + 8, false},
		{"shared", consumerCopy(1, 4, 0, 1, payload, 3), 12 + 8, false},
	}
	for _, tc := range cases {
		seq := binary.BigEndian.Uint16(tc.pkt[2:])
		_, before := b.Stores()
		if !b.InsertShared(tc.pkt, tc.hdrLen, &ref, seq, 0) {
			t.Fatalf("%s: not stored", tc.name)
		}
		if _, after := b.Stores(); (after > before) != tc.private {
			t.Fatalf("%s: private copy %v, want %v", tc.name, after > before, tc.private)
		}
		if !bytes.Equal(b.Get(seq), tc.pkt) {
			t.Fatalf("%s: stored packet differs", tc.name)
		}
	}
	if it := b.get(3); it.pkt != nil {
		t.Fatal("inline packet holds a reference")
	}
	// Plain Insert keeps a private copy.
	pkt := consumerCopy(1, 5, 0, 0, payload, 0)
	b.Insert(pkt, 5, 0)
	if _, pr := b.Stores(); pr != 3 || !bytes.Equal(b.Get(5), pkt) {
		t.Fatalf("Insert: %d private copies", pr)
	}
	ref.Release()
	b.Clear()
	checkNoLiveShared(t, base)
}

// TestRetransmissionBufferSharedLeak drives a buffer through every way a
// slot is emptied (time window, span limit, ring growth, sender reset,
// duplicates, Clear) and checks that every shared payload is released.
func TestRetransmissionBufferSharedLeak(t *testing.T) {
	base := LiveSharedPackets()
	r := rand.New(rand.NewPCG(1, 2))
	b := NewRetransmissionBuffer(300, 1000, 90000)
	var ref SharedRef
	seq, ts := uint16(65000), uint32(0)
	for i := 0; i < 20000; i++ {
		payload := make([]byte, 20+r.IntN(1300))
		payload[0] = byte(i)
		ref.Reset(payload)
		switch k := r.IntN(100); {
		case k < 80:
			seq++
			ts += 900
		case k < 90:
			seq += uint16(r.IntN(50))
			ts += uint32(r.IntN(90000))
		case k < 95:
			seq -= uint16(r.IntN(20)) // late, duplicate or out of order
		case k < 97:
			seq -= 1000 // sender reset
			ts += 9000
		case k < 98:
			b.Clear()
		default:
			ts += 200000 // everything expires
		}
		pkt := consumerCopy(7, seq, ts, r.IntN(4), payload, r.IntN(PayloadPrefix+1))
		hl := 12
		if pkt[0]&0x10 != 0 {
			hl += 4 + 4*int(binary.BigEndian.Uint16(pkt[14:]))
		}
		if b.InsertShared(pkt, hl, &ref, seq, ts) && !bytes.Equal(b.Get(seq), pkt) {
			t.Fatalf("packet %d: stored packet differs", i)
		}
		if b.Len() > 300 {
			t.Fatalf("span %d", b.Len())
		}
		// At most what the buffer holds, plus the producer's current one.
		if live := LiveSharedPackets() - base; live > int64(b.Len())+1 {
			t.Fatalf("packet %d: %d live for a span of %d", i, live, b.Len())
		}
	}
	ref.Release()
	b.Clear()
	checkNoLiveShared(t, base)
}

// TestSendStreamSharedResend: two consumers forward the same producer
// packets (one rewriting the payload prefix, as simulcast does); each
// resends exactly what it sent, RTX-encoded or not.
func TestSendStreamSharedResend(t *testing.T) {
	base := LiveSharedPackets()
	rtxCfg := videoSendConfig(true)
	plainCfg := videoSendConfig(false)
	plainCfg.SSRC = 5555
	sRtx, sPlain := NewSendStream(rtxCfg), NewSendStream(plainCfg)
	var ref SharedRef
	sent := map[uint32]map[uint16][]byte{3333: {}, 5555: {}}
	for i := 0; i < 50; i++ {
		payload := bytes.Repeat([]byte{byte(i)}, 900+i)
		payload = append(payload, 0, 0, 3) // 3 bytes of padding
		ref.Reset(payload)
		p1 := consumerCopy(3333, uint16(100+i), uint32(i)*900, 2, payload, PayloadPrefix)
		p1[0] |= 0x20
		p2 := consumerCopy(5555, uint16(7000+i), uint32(i)*900+5, 0, payload, 0)
		p2[0] |= 0x20
		if sRtx.SendPacketShared(p1, &ref, int64(i)) != SendAcceptedAndStored || sPlain.SendPacketShared(p2, &ref, int64(i)) != SendAcceptedAndStored {
			t.Fatalf("packet %d not stored", i)
		}
		sent[3333][uint16(100+i)] = p1
		sent[5555][uint16(7000+i)] = p2
	}
	ref.Release()
	if sh, pr := sRtx.BufferStores(); sh != 50 || pr != 0 {
		t.Fatalf("stores: %d shared, %d private", sh, pr)
	}
	if n := LiveSharedPackets() - base; n != 50 {
		t.Fatalf("%d payload copies for 50 packets", n)
	}
	resent := 0
	sRtx.ReceiveNack(&rtcp.TransportLayerNack{Nacks: NackPairs([]uint16{100, 101, 120, 149}, nil)}, 100, func(pkt []byte, isRtx bool) {
		if !isRtx {
			t.Fatal("not RTX")
		}
		rtx := append([]byte(nil), pkt...)
		orig, osn, ok := DecodeRTX(rtx, 101, 3333)
		want := sent[3333][osn]
		// RTX drops the padding.
		want = append([]byte(nil), want[:len(want)-3]...)
		want[0] &^= 0x20
		if !ok || !bytes.Equal(orig, want) {
			t.Fatalf("RTX of %d differs", osn)
		}
		resent++
	})
	sPlain.ReceiveNack(&rtcp.TransportLayerNack{Nacks: NackPairs([]uint16{7000, 7049}, nil)}, 100, func(pkt []byte, isRtx bool) {
		var h rtp.Header
		if _, err := h.Unmarshal(pkt); err != nil || isRtx || !bytes.Equal(pkt, sent[5555][h.SequenceNumber]) {
			t.Fatalf("resend of %d differs", h.SequenceNumber)
		}
		resent++
	})
	if resent != 6 {
		t.Fatalf("resent %d, want 6", resent)
	}
	sRtx.Close()
	if n := LiveSharedPackets() - base; n != 50 {
		t.Fatalf("%d live with one consumer left", n)
	}
	sPlain.Close()
	checkNoLiveShared(t, base)
	// Closed: nothing stored nor resent.
	ref.Reset(make([]byte, 500))
	if r := sPlain.SendPacketShared(consumerCopy(5555, 7050, 50*900, 0, make([]byte, 500), 0), &ref, 60); r != SendAccepted {
		t.Fatalf("closed stream: %v", r)
	}
	ref.Release()
	sPlain.ReceiveNack(&rtcp.TransportLayerNack{Nacks: NackPairs([]uint16{7050}, nil)}, 200, func([]byte, bool) { t.Fatal("closed stream resent") })
	checkNoLiveShared(t, base)
}

func TestSendStreamSharedNoAlloc(t *testing.T) {
	s := NewSendStream(videoSendConfig(true))
	payload := make([]byte, 1100)
	pkt := consumerCopy(3333, 0, 0, 2, payload, 0)
	var ref SharedRef
	nack := &rtcp.TransportLayerNack{Nacks: make([]rtcp.NackPair, 1)}
	var seq uint16
	var ts uint32
	now := int64(0)
	sink := 0
	fn := func(p []byte, _ bool) { sink += len(p) }
	step := func() {
		seq++
		ts += 900
		now += 10
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], ts)
		ref.Reset(payload)
		s.SendPacketShared(pkt, &ref, now)
		if seq%20 == 0 {
			nack.Nacks[0] = rtcp.NackPair{PacketID: seq - 5, LostPackets: 0x3}
			s.ReceiveNack(nack, now, fn)
		}
	}
	for i := 0; i < 5000; i++ {
		step()
	}
	if a := testing.AllocsPerRun(3000, step); a != 0 {
		t.Fatalf("allocs %v", a)
	}
	if sink == 0 {
		t.Fatal("nothing resent")
	}
	ref.Release()
	s.Close()
}

// TestSendStreamSharedConcurrent runs what the engine runs on different
// goroutines at once: fan-out goroutines storing the same producer packets
// into several streams, resends on an RTCP goroutine while packets are
// stored, then closes racing with both. Every resent packet must be what
// was sent (run with -race).
func TestSendStreamSharedConcurrent(t *testing.T) {
	base := LiveSharedPackets()
	const streams = 4
	ss := make([]*SendStream, streams)
	for i := range ss {
		cfg := videoSendConfig(i%2 == 0)
		cfg.SSRC = uint32(1000 + i)
		ss[i] = NewSendStream(cfg)
	}
	// payloadOf is the producer payload of packet n; stream i sends it as
	// seq n+i*1000 with its prefix rewritten.
	payloadOf := func(n int) []byte {
		p := make([]byte, 300+n%900)
		for j := range p {
			p[j] = byte(n + j)
		}
		return p
	}
	var resent atomic.Int64
	check := func(i int, pkt []byte, isRtx bool) {
		resent.Add(1)
		if isRtx {
			var ok bool
			if pkt, _, ok = DecodeRTX(append([]byte(nil), pkt...), 101, uint32(1000+i)); !ok {
				t.Error("bad RTX")
				return
			}
		}
		seq := binary.BigEndian.Uint16(pkt[2:])
		n := int(seq) - i*1000
		want := consumerCopy(uint32(1000+i), seq, uint32(n)*900, 1, payloadOf(n), PayloadPrefix)
		if !bytes.Equal(pkt, want) {
			t.Errorf("stream %d: resent packet %d differs", i, n)
		}
	}
	var ref SharedRef
	const packets = 3000
	var latest atomic.Int32
	done := make(chan struct{})
	var nackers sync.WaitGroup
	for i := range ss {
		nackers.Add(1)
		go func() {
			defer nackers.Done()
			r := rand.New(rand.NewPCG(uint64(i), 9))
			for now := int64(0); ; now += 200 {
				select {
				case <-done:
					return
				default:
				}
				seq := uint16(i*1000 + int(latest.Load()) - r.IntN(100))
				ss[i].ReceiveNack(&rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: seq, LostPackets: 0xffff}}}, now, func(pkt []byte, isRtx bool) { check(i, pkt, isRtx) })
				runtime.Gosched()
			}
		}()
	}
	for n := 0; n < packets; n++ {
		payload := payloadOf(n)
		ref.Reset(payload)
		// The fan-out on two goroutines, each taking half the streams.
		var fan sync.WaitGroup
		for half := 0; half < 2; half++ {
			fan.Add(1)
			go func() {
				defer fan.Done()
				for i := half; i < streams; i += 2 {
					pkt := consumerCopy(uint32(1000+i), uint16(n+i*1000), uint32(n)*900, 1, payload, PayloadPrefix)
					ss[i].SendPacketShared(pkt, &ref, int64(n))
				}
			}()
		}
		fan.Wait()
		latest.Store(int32(n))
		if n == packets/2 {
			// Close one stream while it is resending.
			go ss[3].Close()
		}
	}
	ref.Release()
	close(done)
	nackers.Wait()
	for _, s := range ss {
		s.Close()
	}
	checkNoLiveShared(t, base)
	if resent.Load() == 0 {
		t.Fatal("nothing resent")
	}
	t.Logf("%d packets resent", resent.Load())
}

// Under the race detector, a consumer changing the payload beyond
// PayloadPrefix while pointing at the shared copy is caught on store.
func TestRetransmissionBufferSharedInvariantChecked(t *testing.T) {
	if !checkShared {
		t.Skip("checked under -race only")
	}
	base := LiveSharedPackets()
	payload := make([]byte, 500)
	var ref SharedRef
	ref.Reset(payload)
	defer func() {
		ref.Release()
		checkNoLiveShared(t, base)
	}()
	b := NewRetransmissionBuffer(10, 1000, 90000)
	pkt := consumerCopy(1, 1, 0, 0, payload, PayloadPrefix)
	// Beyond what the slot keeps inline (which is at least PayloadPrefix).
	pkt[12+headCap] ^= 1
	defer func() {
		if recover() == nil {
			t.Fatal("payload changed beyond PayloadPrefix not detected")
		}
	}()
	b.InsertShared(pkt, 12, &ref, 1, 0)
}

func heapAlloc() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// BenchmarkRetransmissionMemory: one producer stream (1100-byte packets:
// a 24-byte header and 1076 bytes of payload, 500 packets/s) forwarded to
// 100 send streams with NACK. It reports the heap held per stream once 2 s
// of media fill the buffers (the shared payloads included, divided among
// the streams), with the buffers pointing at the producer's shared payload
// ("shared") or keeping private copies ("private", as every consumer did
// before), and the CPU cost of storing one packet in all of them.
func BenchmarkRetransmissionMemory(b *testing.B) {
	for _, mode := range []string{"shared", "private"} {
		b.Run(mode, func(b *testing.B) {
			const streams = 100
			payload := make([]byte, 1076)
			pkts := make([][]byte, streams)
			for i := range pkts {
				pkts[i] = consumerCopy(uint32(i+1), 0, 0, 2, payload, 0)
			}
			var ref SharedRef
			var seq uint16
			var ts uint32
			var now int64
			base := heapAlloc()
			ss := make([]*SendStream, streams)
			for i := range ss {
				cfg := videoSendConfig(true)
				cfg.SSRC = uint32(i + 1)
				ss[i] = NewSendStream(cfg)
			}
			idle := heapAlloc()
			send := func() {
				seq++
				if seq%8 == 0 {
					ts += 90000 * 8 / 500 // 8 packets per frame
				}
				now += 2
				ref.Reset(payload)
				for i, s := range ss {
					binary.BigEndian.PutUint16(pkts[i][2:], seq)
					binary.BigEndian.PutUint32(pkts[i][4:], ts)
					if mode == "shared" {
						s.SendPacketShared(pkts[i], &ref, now)
					} else {
						s.SendPacket(pkts[i], now)
					}
				}
			}
			for i := 0; i < 2000; i++ { // 4 s
				send()
			}
			held := heapAlloc()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				send()
			}
			b.StopTimer()
			// (ResetTimer drops metrics reported before it.)
			b.ReportMetric(float64(idle-base)/streams, "idle-B/stream")
			b.ReportMetric(float64(held-base)/streams, "B/stream")
			ref.Release()
			for _, s := range ss {
				s.Close()
			}
		})
	}
}
