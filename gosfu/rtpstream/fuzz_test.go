package rtpstream

import (
	"bytes"
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
		// The in-place form (resends) gives the same bytes.
		inPlace := append(make([]byte, 2, len(pkt)+2), pkt...)
		if m := encodeRTXInPlace(inPlace, 97, 42, 7); m != n || !bytes.Equal(inPlace[:m], dst[:n]) {
			t.Fatalf("in place: %x, want %x", inPlace[:m], dst[:n])
		}
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

// FuzzSharedBuffer stores packets made of a consumer header, a rewritten
// payload prefix and a producer payload into a buffer, pointing at the
// shared payload or not, and checks that what a resend assembles is the
// packet sent, and that every shared payload is released at the end.
func FuzzSharedBuffer(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 3, 16, 1, 2, 200, 0, 0, 9, 1, 1, 255, 255, 17})
	f.Add([]byte{255, 255, 0, 16, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		base := LiveSharedPackets()
		b := NewRetransmissionBuffer(64, 1000, 90000)
		var ref SharedRef
		for len(ops) >= 8 {
			seq := binary.BigEndian.Uint16(ops)
			ts := uint32(binary.BigEndian.Uint16(ops[2:])) * 300
			extWords := int(ops[4] % 20)
			prefix := int(ops[5] % (PayloadPrefix + 1))
			size := int(binary.BigEndian.Uint16(ops[6:]) % 1600)
			ops = ops[8:]
			payload := make([]byte, size)
			for i := range payload {
				payload[i] = byte(i) ^ byte(seq)
			}
			ref.Reset(payload)
			pkt := consumerCopy(uint32(seq)|1, seq, ts, extWords, payload, prefix)
			hl := 12
			if extWords > 0 {
				hl += 4 + 4*extWords
			}
			var stored bool
			if seq%3 == 0 {
				stored = b.Insert(pkt, seq, ts)
			} else {
				stored = b.InsertShared(pkt, hl, &ref, seq, ts)
			}
			if stored {
				got, ok := b.AppendPacket(make([]byte, 2), seq)
				if !ok || !bytes.Equal(got[2:], pkt) {
					t.Fatalf("seq %d: assembled packet differs", seq)
				}
				want := make([]byte, len(pkt)+2)
				n := EncodeRTX(want, pkt, 97, 42, 7)
				if m := encodeRTXInPlace(got, 97, 42, 7); m != n || !bytes.Equal(got[:m], want[:n]) {
					t.Fatalf("seq %d: RTX differs", seq)
				}
			}
			if b.Len() > 64 {
				t.Fatalf("span %d", b.Len())
			}
		}
		ref.Release()
		b.Clear()
		if n := LiveSharedPackets() - base; n != 0 {
			t.Fatalf("%d SharedPackets leaked", n)
		}
	})
}
