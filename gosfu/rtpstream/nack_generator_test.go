package rtpstream

import (
	"reflect"
	"testing"

	"github.com/pion/rtcp"
)

func TestNackGeneratorSequences(t *testing.T) {
	type in struct {
		seq         uint16
		keyFrame    bool
		firstNacked uint16
		numNacked   int
		keyFrameReq bool
		listSize    int // -1: not checked
	}
	tests := []struct {
		name   string
		inputs []in
	}{
		{"no NACKs required", []in{
			{2371, false, 0, 0, false, 0}, {2372, false, 0, 0, false, 0}, {2373, false, 0, 0, false, 0},
			{2380, false, 2374, 6, false, 6}, {2254, false, 0, 0, false, 6}, {2250, false, 0, 0, false, 6},
		}},
		{"missing ordered packet", []in{{2381, false, 0, 0, false, 0}, {2383, false, 2382, 1, false, 1}}},
		{"wrap, no NACK", []in{{65534, false, 0, 0, false, 0}, {65535, false, 0, 0, false, 0}, {0, false, 0, 0, false, 0}}},
		{"NACK after wrap", []in{{65534, false, 0, 0, false, 0}, {65535, false, 0, 0, false, 0}, {1, false, 0, 1, false, 1}}},
		{"NACK after wrap and another", []in{
			{65534, false, 0, 0, false, 0}, {65535, false, 0, 0, false, 0}, {1, false, 0, 1, false, 1},
			{11, false, 2, 9, false, 10}, {12, true, 0, 0, false, 10}, {13, true, 0, 0, false, -1},
		}},
		{"intercalated", []in{{1, false, 0, 0, false, 0}, {3, false, 2, 1, false, 1}, {5, false, 4, 1, false, 2}, {7, false, 6, 1, false, 3}, {9, false, 8, 1, false, 4}}},
		{"non contiguous", []in{{1, false, 0, 0, false, 0}, {3, false, 2, 1, false, 1}, {7, false, 4, 3, false, 4}, {9, false, 8, 1, false, 5}}},
		{"big jump then recoveries", []in{{1, false, 0, 0, false, 0}, {300, false, 2, 298, false, 298}, {3, false, 0, 0, false, 297}, {4, false, 0, 0, false, 296}, {5, false, 0, 0, false, 295}}},
		{"list too large: key frame", []in{{1, false, 0, 0, false, 0}, {3000, false, 0, 0, true, 0}}},
		{"list too large trimmed to key frame", []in{
			{1, false, 0, 0, false, 0}, {600, true, 2, 598, false, 598}, {1200, false, 601, 599, false, 599},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewNackGenerator(0)
			const now = 1000 // constant: a packet is NACKed once
			var buf []uint16
			for i, x := range tc.inputs {
				g.ReceivePacket(x.seq, x.keyFrame, false, now)
				buf = g.Pending(now, buf[:0])
				if len(buf) != x.numNacked || (len(buf) > 0 && buf[0] != x.firstNacked) {
					t.Fatalf("input %d (seq %d): nacked %v, want first %d count %d", i, x.seq, buf, x.firstNacked, x.numNacked)
				}
				if kf := g.TakeKeyFrameNeeded(); kf != x.keyFrameReq {
					t.Fatalf("input %d: key frame needed %v", i, kf)
				}
				if x.listSize >= 0 && g.Len() != x.listSize {
					t.Fatalf("input %d: list size %d want %d", i, g.Len(), x.listSize)
				}
			}
		})
	}
}

func TestNackGeneratorRetries(t *testing.T) {
	g := NewNackGenerator(0)
	g.SetRTT(50)
	g.ReceivePacket(10, false, false, 0)
	g.ReceivePacket(12, false, false, 0)
	var buf []uint16
	if buf = g.Pending(0, buf[:0]); !reflect.DeepEqual(buf, []uint16{11}) {
		t.Fatalf("first: %v", buf)
	}
	if buf = g.Pending(40, buf[:0]); len(buf) != 0 {
		t.Fatalf("before RTT: %v", buf)
	}
	if buf = g.Pending(50, buf[:0]); len(buf) != 1 {
		t.Fatalf("after RTT: %v", buf)
	}
	// Up to NackMaxRetries in total, then given up.
	now := int64(50)
	total := 2
	for g.HasPending() {
		now += 50
		total += len(g.Pending(now, buf[:0]))
	}
	if total != NackMaxRetries {
		t.Fatalf("sent %d times", total)
	}
	// A recovered packet is removed and reported.
	g.ReceivePacket(20, false, false, now)
	if !g.ReceivePacket(15, false, false, now) || g.Len() != 6 {
		t.Fatalf("recovery: len %d", g.Len())
	}
	if g.ReceivePacket(15, false, false, now) {
		t.Fatal("duplicate recovery")
	}
}

func TestNackGeneratorDelay(t *testing.T) {
	g := NewNackGenerator(20)
	g.ReceivePacket(1, false, false, 0)
	g.ReceivePacket(3, false, false, 0)
	if n := len(g.Pending(10, nil)); n != 0 {
		t.Fatal("sent before delay")
	}
	// Arrives in time: never NACKed.
	g.ReceivePacket(5, false, false, 10)
	if !g.ReceivePacket(2, false, false, 15) {
		t.Fatal("not recognised")
	}
	if got := g.Pending(35, nil); !reflect.DeepEqual(got, []uint16{4}) {
		t.Fatalf("got %v", got)
	}
}

func TestNackGeneratorRtxNewer(t *testing.T) {
	g := NewNackGenerator(0)
	g.ReceivePacket(1, false, false, 0)
	// RTX (probation) carrying a never seen packet counts as recovered.
	if !g.ReceivePacket(2, false, true, 0) {
		t.Fatal("rtx newer packet")
	}
}

func TestNackPairs(t *testing.T) {
	tests := []struct {
		seqs []uint16
		want []rtcp.NackPair
	}{
		{nil, nil},
		{[]uint16{5}, []rtcp.NackPair{{PacketID: 5}}},
		{[]uint16{5, 6, 21}, []rtcp.NackPair{{PacketID: 5, LostPackets: 1 | 1<<15}}},
		{[]uint16{5, 22}, []rtcp.NackPair{{PacketID: 5}, {PacketID: 22}}},
		{[]uint16{65535, 0, 1}, []rtcp.NackPair{{PacketID: 65535, LostPackets: 3}}},
	}
	for _, tc := range tests {
		got := NackPairs(tc.seqs, nil)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: got %v", tc.seqs, got)
		}
		n := 0
		for _, p := range got {
			n += countNackPair(p)
		}
		if n != len(tc.seqs) {
			t.Errorf("%v: count %d", tc.seqs, n)
		}
	}
}

func TestNackGeneratorNoAlloc(t *testing.T) {
	g := NewNackGenerator(0)
	buf := make([]uint16, 0, 64)
	seq := uint16(0)
	now := int64(0)
	step := func() {
		seq++
		now += 10
		if seq%50 == 0 {
			seq++ // lose one
		}
		g.ReceivePacket(seq, seq%500 == 0, false, now)
		buf = g.Pending(now, buf[:0])
		if seq%50 == 3 {
			g.ReceivePacket(seq-3, false, false, now)
		}
	}
	for i := 0; i < 2000; i++ {
		step()
	}
	if a := testing.AllocsPerRun(2000, step); a != 0 {
		t.Fatalf("allocs %v", a)
	}
}
