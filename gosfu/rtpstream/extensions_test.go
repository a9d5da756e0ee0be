package rtpstream

import "testing"

func TestValidHeaderExtensions(t *testing.T) {
	// packet builds an RTP packet (X set) with the given extension block
	// (profile, then the block padded by the caller to whole words).
	packet := func(profile uint16, block ...byte) []byte {
		p := []byte{0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}
		p = append(p, byte(profile>>8), byte(profile), 0, byte(len(block)/4))
		p = append(p, block...)
		return append(p, 0xaa, 0xbb) // payload
	}
	cases := []struct {
		name string
		pkt  []byte
		want bool
	}{
		{"no extension", []byte{0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa}, true},
		{"one-byte: two elements and padding", packet(0xBEDE, 0x10, 0x01, 0x21, 0x02, 0x03, 0, 0, 0), true},
		{"one-byte: ID 0 padding then an element", packet(0xBEDE, 0x00, 0x10, 0x01, 0), true},
		{"one-byte: ID 15 stops parsing", packet(0xBEDE, 0xf0, 0xff, 0xff, 0xff), true},
		{"one-byte: element overruns the block", packet(0xBEDE, 0x13, 0x01, 0x02, 0x03), false},
		// The case pion/rtp misses: an ID-0 byte with a non-zero length,
		// then an element that overruns the block.
		{"one-byte: ID 0 with length, then an overrun", packet(0xBEDE, 0x05, 0x1f, 0x01, 0x02), false},
		{"two-byte: one element", packet(0x1000, 0x01, 0x02, 0xaa, 0xbb), true},
		{"two-byte: padding then element", packet(0x1000, 0x00, 0x01, 0x01, 0xaa), true},
		{"two-byte: element overruns", packet(0x1000, 0x01, 0x05, 0xaa, 0xbb), false},
		{"two-byte: id without length byte", packet(0x1000, 0x00, 0x00, 0x00, 0x07), false},
		{"other profile is opaque", packet(0x1234, 0xff, 0xff, 0xff, 0xff), true},
		{"block longer than the packet", []byte{0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 9, 0x10}, false},
	}
	for _, c := range cases {
		if got := ValidHeaderExtensions(c.pkt); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func FuzzValidHeaderExtensions(f *testing.F) {
	f.Add([]byte{0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x05, 0x1f, 0x01, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = ValidHeaderExtensions(b)
	})
}
