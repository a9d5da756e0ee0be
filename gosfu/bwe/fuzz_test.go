package bwe

import (
	"encoding/binary"
	"testing"

	"github.com/pion/rtcp"
)

func FuzzResults(f *testing.F) {
	var seqs []uint16
	var arr []int64
	for i := 0; i < 30; i++ {
		seqs = append(seqs, uint16(65530+i))
		a := int64(i) * 3000
		if i%7 == 3 {
			a = -1
		}
		arr = append(arr, a)
	}
	for _, fb := range feedbackFor(f, seqs, arr) {
		raw, err := fb.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte{0x8f, 0xcd, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xfa, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		pkts, err := rtcp.Unmarshal(data)
		if err != nil {
			return
		}
		h := NewSendHistory()
		for i := 0; i < 64; i++ {
			h.Record(uint16(65500+i), 1200, int64(i)*1000, i%9-1)
		}
		s := NewSendSide(SendSideConfig{MaxBitrate: 5e6})
		var res []PacketResult
		for i, p := range pkts {
			if fb, ok := p.(*rtcp.TransportLayerCC); ok {
				res = h.Results(fb, res[:0])
				s.OnFeedback(res, int64(i+1)*50000)
				s.Process(int64(i+1) * 50000)
				s.NextProbe(int64(i+1) * 50000)
				if e := s.Estimate(); e < defaultMinBps || e > 5e6 {
					t.Fatalf("estimate %d outside bounds", e)
				}
			}
		}
	})
}

func FuzzReceiveSide(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 4, 176})
	f.Add([]byte{255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Each 10-byte record: arrival delta (4), abs-send-time (4), size (2).
		r := NewReceiveSide(0)
		var now int64
		for len(data) >= 10 {
			now += int64(int32(binary.BigEndian.Uint32(data)))
			r.OnPacket(now, binary.BigEndian.Uint32(data[4:]), int(binary.BigEndian.Uint16(data[8:])))
			data = data[10:]
		}
		if e := r.Estimate(now); e < defaultMinBps {
			t.Fatalf("estimate %d below the minimum", e)
		}
	})
}
