package rtpstream

import (
	"encoding/binary"
	"testing"
)

func FuzzRTX(f *testing.F) {
	f.Add(testPacket(1, 2, 3, []byte{1, 2, 3}))
	f.Add([]byte{0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xBE, 0xDE, 0, 1, 0x10, 0xAB, 0, 0, 9, 9})
	f.Add([]byte{0xA0, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9, 9, 0, 3})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		PayloadSize(pkt)
		dst := make([]byte, len(pkt)+2)
		n := EncodeRTX(dst, pkt, 97, 42, 7)
		if n == 0 {
			return
		}
		out, osn, ok := DecodeRTX(dst[:n], 96, 1)
		if !ok {
			return
		}
		h, _ := parseRTP(pkt)
		if osn != h.seq || binary.BigEndian.Uint16(out[2:]) != h.seq {
			t.Fatalf("round trip seq %d != %d", osn, h.seq)
		}
		if len(out) != len(pkt)-h.paddingLen {
			t.Fatalf("round trip length %d != %d", len(out), len(pkt)-h.paddingLen)
		}
	})
}

func FuzzRetransmissionBuffer(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 1, 0, 255, 255, 0, 0, 0, 9})
	f.Fuzz(func(t *testing.T, ops []byte) {
		b := NewRetransmissionBuffer(300, 2000, 90000)
		pkt := testPacket(0, 0, 1, []byte{1})
		for len(ops) >= 6 {
			seq := binary.BigEndian.Uint16(ops)
			ts := binary.BigEndian.Uint32(ops[2:])
			ops = ops[6:]
			if b.Insert(pkt, seq, ts) && b.Get(seq) == nil {
				t.Fatalf("inserted seq %d not found", seq)
			}
			if b.Len() > 300 {
				t.Fatalf("span %d", b.Len())
			}
			if o, ok := b.Oldest(); ok && b.Get(o) == nil {
				t.Fatal("oldest missing")
			}
			if n, ok := b.Newest(); ok && b.Get(n) == nil {
				t.Fatal("newest missing")
			}
		}
	})
}
