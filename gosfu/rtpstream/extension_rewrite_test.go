package rtpstream

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/pion/rtp"
)

// extPacket builds an RTP packet (X set, csrcs CSRCs) with the given
// extension profile and block (padded by the caller to whole words).
func extPacket(csrcs int, profile uint16, block ...byte) []byte {
	p := []byte{0x90 | byte(csrcs), 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}
	for i := 0; i < csrcs; i++ {
		p = append(p, 0, 0, 0, byte(i))
	}
	p = append(p, byte(profile>>8), byte(profile), 0, byte(len(block)/4))
	p = append(p, block...)
	return append(p, 0xaa, 0xbb) // payload
}

func TestFindAndSetExtension(t *testing.T) {
	cases := []struct {
		name     string
		pkt      []byte
		id       uint8
		want     []byte // FindExtension's result
		settable bool   // SetExtension16 succeeds
	}{
		{"no extension bit", []byte{0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa}, 1, nil, false},
		{"short packet", []byte{0x90, 96, 0, 1}, 1, nil, false},
		{"one-byte: 2-byte element", extPacket(0, 0xBEDE, 0x11, 0x12, 0x34, 0), 1, []byte{0x12, 0x34}, true},
		{"one-byte: after a 1-byte element", extPacket(0, 0xBEDE, 0x20, 0x07, 0x31, 0x12, 0x34, 0, 0, 0), 3, []byte{0x12, 0x34}, true},
		{"one-byte: after padding", extPacket(0, 0xBEDE, 0, 0, 0x51, 0x12, 0x34, 0, 0, 0), 5, []byte{0x12, 0x34}, true},
		{"one-byte: with CSRCs", extPacket(2, 0xBEDE, 0x11, 0x12, 0x34, 0), 1, []byte{0x12, 0x34}, true},
		{"one-byte: wrong length", extPacket(0, 0xBEDE, 0x12, 0x12, 0x34, 0x56), 1, []byte{0x12, 0x34, 0x56}, false},
		{"one-byte: absent", extPacket(0, 0xBEDE, 0x11, 0x12, 0x34, 0), 2, nil, false},
		{"one-byte: first of duplicates", extPacket(0, 0xBEDE, 0x11, 0x12, 0x34, 0x11, 0x56, 0x78, 0, 0), 1, []byte{0x12, 0x34}, true},
		{"one-byte: ID 15 ends the list", extPacket(0, 0xBEDE, 0xf0, 0x11, 0x12, 0x34), 1, nil, false},
		{"one-byte: ID 0 with length ends the list", extPacket(0, 0xBEDE, 0x01, 0x11, 0x12, 0x34), 1, nil, false},
		{"one-byte: id 15 never found", extPacket(0, 0xBEDE, 0x11, 0x12, 0x34, 0), 15, nil, false},
		{"one-byte: id 0 never found", extPacket(0, 0xBEDE, 0x11, 0x12, 0x34, 0), 0, nil, false},
		{"one-byte: later element overruns", extPacket(0, 0xBEDE, 0x11, 0x12, 0x34, 0x23), 1, nil, false},
		{"block longer than packet", []byte{0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 9, 0x11, 1, 2}, 1, nil, false},
		{"two-byte: element", extPacket(0, 0x1000, 0x07, 0x02, 0x12, 0x34), 7, []byte{0x12, 0x34}, true},
		{"two-byte: id above 14", extPacket(0, 0x1000, 0, 0xc8, 0x02, 0x12, 0x34, 0, 0, 0), 200, []byte{0x12, 0x34}, true},
		{"two-byte: app bits", extPacket(0, 0x100f, 0x07, 0x02, 0x12, 0x34), 7, []byte{0x12, 0x34}, true},
		{"two-byte: zero-length element", extPacket(0, 0x1000, 0x07, 0x00, 0x08, 0x02, 0x12, 0x34, 0, 0), 7, []byte{}, false},
		{"two-byte: element overruns", extPacket(0, 0x1000, 0x07, 0x05, 0x12, 0x34), 7, nil, false},
		{"two-byte: id without length byte", extPacket(0, 0x1000, 0x07, 0x02, 0x12, 0x34, 0, 0, 0, 0x09), 7, nil, false},
		{"other profile is opaque", extPacket(0, 0x1234, 0x11, 0x12, 0x34, 0), 1, nil, false},
	}
	for _, c := range cases {
		got := FindExtension(c.pkt, c.id)
		if (got == nil) != (c.want == nil) || !bytes.Equal(got, c.want) {
			t.Errorf("%s: FindExtension = %x, want %x", c.name, got, c.want)
		}
		pkt := append([]byte(nil), c.pkt...)
		if ok := SetExtension16(pkt, c.id, 0xbeef); ok != c.settable {
			t.Errorf("%s: SetExtension16 = %v, want %v", c.name, ok, c.settable)
			continue
		}
		if !c.settable {
			if !bytes.Equal(pkt, c.pkt) {
				t.Errorf("%s: packet changed on failure", c.name)
			}
			continue
		}
		if v := FindExtension(pkt, c.id); len(v) != 2 || binary.BigEndian.Uint16(v) != 0xbeef {
			t.Errorf("%s: after set, value %x", c.name, v)
		}
		if d := diffCount(pkt, c.pkt); d > 2 {
			t.Errorf("%s: %d bytes changed", c.name, d)
		}
	}
}

func diffCount(a, b []byte) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func TestSetExtension16Allocs(t *testing.T) {
	pkt := extPacket(0, 0xBEDE, 0x20, 0x07, 0x31, 0x12, 0x34, 0, 0, 0)
	var v uint16
	if n := testing.AllocsPerRun(100, func() {
		v++
		SetExtension16(pkt, 3, v)
	}); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}

func FuzzSetExtension16(f *testing.F) {
	f.Add(extPacket(0, 0xBEDE, 0x11, 0x12, 0x34, 0), uint8(1), uint16(7))
	f.Add(extPacket(1, 0xBEDE, 0x20, 0x07, 0x31, 0x12, 0x34, 0, 0, 0), uint8(3), uint16(7))
	f.Add(extPacket(0, 0xBEDE, 0x01, 0x11, 0x12, 0x34), uint8(1), uint16(7))
	f.Add(extPacket(0, 0x1000, 0x07, 0x02, 0x12, 0x34), uint8(7), uint16(7))
	f.Add(extPacket(0, 0x1000, 0x07, 0x02, 0x12, 0x34, 0, 0, 0, 0x09), uint8(7), uint16(7))
	f.Fuzz(func(t *testing.T, pkt []byte, id uint8, v uint16) {
		orig := append([]byte(nil), pkt...)
		found := FindExtension(pkt, id)
		if !SetExtension16(pkt, id, v) {
			if !bytes.Equal(pkt, orig) {
				t.Fatal("packet changed on failure")
			}
			if found != nil && len(found) == 2 {
				t.Fatal("found a 2-byte value but could not set it")
			}
			return
		}
		if len(found) != 2 {
			t.Fatalf("set succeeded but FindExtension gave %x", found)
		}
		var h rtp.Header
		if _, err := h.Unmarshal(pkt); err != nil {
			t.Fatalf("pion cannot parse the rewritten packet: %v", err)
		}
		// pion reads only 0x1000 as the two-byte profile; with other
		// app bits it has no elements to compare.
		if h.ExtensionProfile == 0xBEDE || h.ExtensionProfile == 0x1000 {
			if got := h.GetExtension(id); len(got) != 2 || binary.BigEndian.Uint16(got) != v {
				t.Fatalf("pion reads %x, want %04x", got, v)
			}
		}
		if d := diffCount(pkt, orig); d > 2 {
			t.Fatalf("%d bytes changed", d)
		}
	})
}

func BenchmarkSetExtension16(b *testing.B) {
	// A typical forwarded video packet: mid, abs-send-time, twcc, then payload.
	pkt := extPacket(0, 0xBEDE, 0x10, '0', 0x22, 1, 2, 3, 0x31, 0, 0, 0, 0, 0)
	pkt = append(pkt, make([]byte, 1100)...)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if !SetExtension16(pkt, 3, uint16(i)) {
			b.Fatal("not set")
		}
	}
}
