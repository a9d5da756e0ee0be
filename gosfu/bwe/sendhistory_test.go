package bwe

import (
	"testing"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
)

// feedbackFor builds transport-cc feedback with pion's recorder for the
// given arrivals (sequence → arrival µs; missing sequences are lost).
func feedbackFor(t testing.TB, seqs []uint16, arrivals []int64) []*rtcp.TransportLayerCC {
	t.Helper()
	rec := twcc.NewRecorder(1)
	for i, s := range seqs {
		if arrivals[i] >= 0 {
			rec.Record(2, s, arrivals[i])
		}
	}
	var out []*rtcp.TransportLayerCC
	for _, p := range rec.BuildFeedbackPacket() {
		raw, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		pkts, err := rtcp.Unmarshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range pkts {
			if fb, ok := q.(*rtcp.TransportLayerCC); ok {
				out = append(out, fb)
			}
		}
	}
	return out
}

func TestSendHistoryResults(t *testing.T) {
	tests := []struct {
		name      string
		start     uint16
		n         int
		lost      map[int]bool
		wantRecv  int
		wantLost  int
		skipFirst int // packets not recorded in the history
	}{
		{name: "plain", start: 100, n: 50, wantRecv: 50},
		{name: "wrap", start: 65530, n: 20, wantRecv: 20},
		{name: "losses", start: 65500, n: 60, lost: map[int]bool{3: true, 40: true, 41: true}, wantRecv: 57, wantLost: 3},
		{name: "unknown packets skipped", start: 10, n: 30, skipFirst: 10, wantRecv: 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewSendHistory()
			var seqs []uint16
			var arr []int64
			for i := 0; i < tt.n; i++ {
				seq := tt.start + uint16(i)
				if i >= tt.skipFirst {
					h.Record(seq, 1000+i, int64(i)*1000, -1)
				}
				seqs = append(seqs, seq)
				a := int64(1000000 + i*1500)
				if tt.lost[i] {
					a = -1
				}
				arr = append(arr, a)
			}
			var res []PacketResult
			for _, fb := range feedbackFor(t, seqs, arr) {
				res = h.Results(fb, res)
			}
			recv, lost := 0, 0
			for i, r := range res {
				if i > 0 && r.Seq != res[i-1].Seq+1 {
					t.Fatalf("result %d: seq %d after %d, want consecutive unwrapped", i, r.Seq, res[i-1].Seq)
				}
				if r.Received() {
					recv++
					if i > 0 && res[i-1].Received() {
						if d := r.ArrivalUs - res[i-1].ArrivalUs; d < 1250 || d > 1750 {
							t.Fatalf("arrival delta %d, want ~1500", d)
						}
					}
					if idx := int(r.Seq - int64(tt.start)); r.Size != 1000+idx {
						t.Fatalf("size %d for packet %d, want %d", r.Size, idx, 1000+idx)
					}
				} else {
					lost++
				}
			}
			if recv != tt.wantRecv || lost != tt.wantLost {
				t.Fatalf("received %d lost %d, want %d and %d", recv, lost, tt.wantRecv, tt.wantLost)
			}
		})
	}
}

func TestSendHistoryDuplicateAndReorderedFeedback(t *testing.T) {
	h := NewSendHistory()
	var seqs []uint16
	var arr []int64
	for i := 0; i < 40; i++ {
		seq := uint16(65520 + i)
		h.Record(seq, 1200, int64(i)*2000, -1)
		seqs = append(seqs, seq)
		arr = append(arr, int64(i)*2000+30000)
	}
	first := feedbackFor(t, seqs[:20], arr[:20])
	second := feedbackFor(t, seqs[20:], arr[20:])
	s := NewSendSide(SendSideConfig{})
	total := 0
	// Newer first, then older, then both again: each packet counts once.
	for _, fbs := range [][]*rtcp.TransportLayerCC{second, first, second, first} {
		for _, fb := range fbs {
			res := h.Results(fb, nil)
			total += len(res)
			s.OnFeedback(res, 1000000)
		}
	}
	if total != 40 {
		t.Fatalf("%d results, want 40 (duplicates skipped)", total)
	}
	if e := s.Estimate(); e < defaultMinBps {
		t.Fatalf("estimate %d", e)
	}
}

func TestSendHistoryGarbage(t *testing.T) {
	h := NewSendHistory()
	for i := 0; i < 100; i++ {
		h.Record(uint16(i), 1200, int64(i)*1000, -1)
	}
	tests := []*rtcp.TransportLayerCC{
		nil,
		{PacketStatusCount: 65535},
		{PacketStatusCount: 10, PacketChunks: []rtcp.PacketStatusChunk{&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 8191}}},
		{PacketStatusCount: 10, PacketChunks: []rtcp.PacketStatusChunk{nil, &rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: []uint16{2, 2, 2}}}, RecvDeltas: []*rtcp.RecvDelta{nil, {Delta: -8192000}}},
		{BaseSequenceNumber: 30000, PacketStatusCount: 5, PacketChunks: []rtcp.PacketStatusChunk{&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketNotReceived, RunLength: 5}}},
	}
	for i, fb := range tests {
		res := h.Results(fb, nil)
		for _, r := range res {
			if r.Seq < 0 || r.Seq >= 100 {
				t.Fatalf("case %d: result for unsent seq %d", i, r.Seq)
			}
		}
	}
}

func BenchmarkRecord(b *testing.B) {
	h := NewSendHistory()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Record(uint16(i), 1200, int64(i)*100, -1)
	}
}

func BenchmarkFeedback(b *testing.B) {
	h := NewSendHistory()
	var seqs []uint16
	var arr []int64
	for i := 0; i < 100; i++ {
		seqs = append(seqs, uint16(i))
		arr = append(arr, int64(i)*1000+40000)
	}
	fbs := feedbackFor(b, seqs, arr)
	if len(fbs) != 1 {
		b.Fatalf("%d feedback packets", len(fbs))
	}
	s := NewSendSide(SendSideConfig{})
	res := make([]PacketResult, 0, 128)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// A fresh round of 100 sends matching the feedback's sequences.
		base := int64(i) * 100000
		for j := 0; j < 100; j++ {
			h.Record(uint16(j), 1200, base+int64(j)*1000, -1)
		}
		fbs[0].ReferenceTime = uint32(i*2) & 0xffffff // arrivals advance 128 ms a round
		b.StartTimer()
		res = h.Results(fbs[0], res[:0])
		s.OnFeedback(res, base+150000)
	}
}

// TestSendHistoryGrows checks that the history keeps every unreported
// packet of the last historyKeepUs, growing past its initial size, and
// stays small at a low rate.
func TestSendHistoryGrows(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		gapUs    int64
		wantRing int
	}{
		{name: "low rate stays small", n: 3 * historyMinSize, gapUs: 20_000, wantRing: historyMinSize},
		{name: "1000 packets/s grows", n: 1500, gapUs: 1000, wantRing: 1024},
		{name: "capped", n: 3 * historyMaxSize, gapUs: 10, wantRing: historyMaxSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewSendHistory()
			for i := 0; i < tt.n; i++ {
				h.Record(uint16(i), 1000, int64(i)*tt.gapUs, -1)
			}
			if len(h.ring) != tt.wantRing {
				t.Fatalf("ring of %d, want %d", len(h.ring), tt.wantRing)
			}
			// The packets of the last historyKeepUs (or of the whole ring
			// when capped) are still known to feedback.
			keep := int(historyKeepUs / tt.gapUs)
			keep = min(keep, tt.n, len(h.ring))
			var seqs []uint16
			var arr []int64
			for i := tt.n - keep; i < tt.n; i++ {
				seqs = append(seqs, uint16(i))
				arr = append(arr, int64(i)*tt.gapUs+50_000)
			}
			got := 0
			for _, fb := range feedbackFor(t, seqs, arr) {
				got += len(h.Results(fb, nil))
			}
			if got != keep {
				t.Fatalf("%d results, want %d", got, keep)
			}
		})
	}
}
