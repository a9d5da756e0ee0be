package rtpstream

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"testing"
)

// testPacket builds a minimal serialized RTP packet.
func testPacket(seq uint16, ts uint32, ssrc uint32, payload []byte) []byte {
	b := make([]byte, 12+len(payload))
	b[0] = 0x80
	b[1] = 96
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	copy(b[12:], payload)
	return b
}

type rbVector struct {
	Name       string     `json:"name"`
	MaxItems   int        `json:"maxItems"`
	MaxDelayMs int64      `json:"maxDelayMs"`
	ClockRate  uint32     `json:"clockRate"`
	Inserts    [][2]int64 `json:"inserts"`
	Expect     [][3]any   `json:"expect"`
}

// assertContent checks the buffer span from oldest to newest.
func assertContent(t *testing.T, name string, b *RetransmissionBuffer, want [][3]any) {
	t.Helper()
	if b.Len() != len(want) {
		t.Fatalf("%s: span %d, want %d", name, b.Len(), len(want))
	}
	oldest, _ := b.Oldest()
	for i, w := range want {
		seq := oldest + uint16(i)
		it := b.get(seq)
		present := w[0].(bool)
		if present != (it != nil) {
			t.Fatalf("%s: slot %d (seq %d) present=%v, want %v", name, i, seq, it != nil, present)
		}
		if it != nil && (float64(it.seq) != w[1].(float64) || float64(it.ts) != w[2].(float64)) {
			t.Fatalf("%s: slot %d: seq %d ts %d, want %v %v", name, i, it.seq, it.ts, w[1], w[2])
		}
	}
}

// TestMediasoupVectors replays the scenarios of mediasoup's
// RetransmissionBuffer unit tests (extracted as data).
func TestRetransmissionBufferMediasoupVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/mediasoup_rtxbuffer_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []rbVector
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		b := NewRetransmissionBuffer(v.MaxItems, v.MaxDelayMs, v.ClockRate)
		for _, in := range v.Inserts {
			seq, ts := uint16(in[0]), uint32(in[1])
			b.Insert(testPacket(seq, ts, 2, nil), seq, ts)
		}
		if v.Expect != nil {
			assertContent(t, v.Name, b, v.Expect)
		}
	}
}

func TestRetransmissionBuffer(t *testing.T) {
	type ins struct {
		seq uint16
		ts  uint32
		ok  bool
	}
	tests := []struct {
		name     string
		maxItems int
		inserts  []ins
		present  []uint16
		absent   []uint16
		span     int
	}{
		{"in order", 10, []ins{{1, 100, true}, {2, 100, true}, {3, 200, true}}, []uint16{1, 2, 3}, []uint16{0, 4}, 3},
		{"wrap", 10, []ins{{65534, 100, true}, {65535, 200, true}, {0, 300, true}, {1, 400, true}}, []uint16{65534, 65535, 0, 1}, []uint16{2, 65533}, 4},
		{"gap", 10, []ins{{1, 100, true}, {5, 500, true}}, []uint16{1, 5}, []uint16{2, 3, 4}, 5},
		{"max items drops oldest", 3, []ins{{1, 100, true}, {2, 200, true}, {3, 300, true}, {4, 400, true}}, []uint16{2, 3, 4}, []uint16{1}, 3},
		{"duplicate", 10, []ins{{1, 100, true}, {2, 200, true}, {3, 300, true}, {2, 200, false}}, []uint16{1, 2, 3}, nil, 3},
		{"higher seq lower ts rejected", 10, []ins{{1, 100, true}, {2, 50, false}}, []uint16{1}, []uint16{2}, 1},
		{"too old ts expires", 10, []ins{{1, 0, true}, {2, 90000, true}, {3, 90000*2 + 91, true}}, []uint16{2, 3}, []uint16{1}, 2},
		{"fill hole", 10, []ins{{1, 100, true}, {3, 300, true}, {2, 200, true}}, []uint16{1, 2, 3}, nil, 3},
		{"fill hole bad ts", 10, []ins{{1, 100, true}, {3, 300, true}, {2, 50, false}}, []uint16{1, 3}, []uint16{2}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewRetransmissionBuffer(tc.maxItems, 2000, 90000)
			for i, in := range tc.inserts {
				if got := b.Insert(testPacket(in.seq, in.ts, 1, []byte{byte(i)}), in.seq, in.ts); got != in.ok {
					t.Fatalf("insert %d (seq %d): got %v", i, in.seq, got)
				}
			}
			for _, s := range tc.present {
				p := b.Get(s)
				if p == nil || binary.BigEndian.Uint16(p[2:]) != s {
					t.Fatalf("seq %d missing", s)
				}
			}
			for _, s := range tc.absent {
				if b.Get(s) != nil {
					t.Fatalf("seq %d present", s)
				}
			}
			if b.Len() != tc.span {
				t.Fatalf("span %d want %d", b.Len(), tc.span)
			}
		})
	}
}

func TestRetransmissionBufferGrowthAndLongRun(t *testing.T) {
	b := NewRetransmissionBuffer(DefaultRetransmissionBufferItems, 2000, 90000)
	seq := uint16(60000)
	ts := uint32(0)
	for i := 0; i < 20000; i++ {
		if !b.Insert(testPacket(seq, ts, 1, []byte{byte(i), byte(i >> 8)}), seq, ts) {
			t.Fatalf("insert %d refused", i)
		}
		seq++
		ts += 300 // 300 packets/s at 90 kHz
		if b.Len() > DefaultRetransmissionBufferItems {
			t.Fatalf("span %d", b.Len())
		}
	}
	// 2 s of media at 300 pps: about 600 packets kept.
	if b.Len() < 590 || b.Len() > 610 {
		t.Fatalf("span %d", b.Len())
	}
	newest, _ := b.Newest()
	for i := uint16(0); i < 590; i++ {
		s := newest - i
		p := b.Get(s)
		if p == nil || binary.BigEndian.Uint16(p[2:]) != s {
			t.Fatalf("seq %d missing", s)
		}
	}
	if b.Get(newest-700) != nil {
		t.Fatal("too old packet kept")
	}
	b.Clear()
	if b.Len() != 0 || b.Get(newest) != nil {
		t.Fatal("clear")
	}
}

func TestRetransmissionBufferNoAlloc(t *testing.T) {
	b := NewRetransmissionBuffer(DefaultRetransmissionBufferItems, 2000, 90000)
	pkt := testPacket(0, 0, 1, make([]byte, 1100))
	var seq uint16
	var ts uint32
	insert := func() {
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], ts)
		b.Insert(pkt, seq, ts)
		seq++
		ts += 900
	}
	for i := 0; i < 5000; i++ {
		insert()
	}
	if a := testing.AllocsPerRun(2000, insert); a != 0 {
		t.Fatalf("allocs %v", a)
	}
}

func BenchmarkRetransmissionBuffer(b *testing.B) {
	buf := NewRetransmissionBuffer(DefaultRetransmissionBufferItems, 2000, 90000)
	pkt := testPacket(0, 0, 1, make([]byte, 1100))
	var seq uint16
	var ts uint32
	for i := 0; i < 5000; i++ {
		binary.BigEndian.PutUint16(pkt[2:], seq)
		buf.Insert(pkt, seq, ts)
		seq++
		ts += 900
	}
	scratch := make([]byte, 0, 1500)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], ts)
		buf.Insert(pkt, seq, ts)
		var ok bool
		if scratch, ok = buf.AppendPacket(scratch[:0], seq-10); !ok {
			b.Fatal("missing")
		}
		seq++
		ts += 900
	}
}

func TestRetransmissionBufferLowerSeqHigherTsClears(t *testing.T) {
	b := NewRetransmissionBuffer(10, 2000, 90000)
	b.Insert(testPacket(1, 100, 1, nil), 1, 100)
	b.Insert(testPacket(3, 300, 1, nil), 3, 300)
	if !b.Insert(testPacket(2, 400, 1, nil), 2, 400) || b.Len() != 1 || b.Get(2) == nil {
		t.Fatal("sender reset not handled")
	}
}
