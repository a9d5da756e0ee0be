package engine

import (
	"bytes"
	"slices"
	"testing"
)

func TestSubchannelsCodec(t *testing.T) {
	u16 := func(v uint16) *uint16 { return &v }
	cases := []struct {
		subs              []uint16
		required, ignored *uint16
	}{
		{[]uint16{1, 2, 65535}, nil, nil},
		{nil, u16(7), nil},
		{nil, nil, u16(9)},
		{[]uint16{3}, u16(0), u16(65535)},
	}
	for i, c := range cases {
		enc, ok := encodeSubchannels(nil, []byte("payload"), c.subs, c.required, c.ignored)
		if !ok {
			t.Fatalf("case %d: not encoded", i)
		}
		msg, subs, req, ign := decodeSubchannels(enc)
		if string(msg) != "payload" || !slices.Equal(subs, c.subs) ||
			(req == nil) != (c.required == nil) || (req != nil && *req != *c.required) ||
			(ign == nil) != (c.ignored == nil) || (ign != nil && *ign != *c.ignored) {
			t.Fatalf("case %d: decoded %q %v %v %v", i, msg, subs, req, ign)
		}
	}
	if _, ok := encodeSubchannels(nil, []byte("x"), nil, nil, nil); ok {
		t.Fatal("encoded nothing to carry")
	}
	// Messages without the header, or too short for what it announces,
	// are passed as they are.
	plain := []byte("0123456789abcdef")
	if msg, subs, _, _ := decodeSubchannels(plain); !bytes.Equal(msg, plain) || subs != nil {
		t.Fatal("plain message altered")
	}
	enc, _ := encodeSubchannels(nil, nil, []uint16{1, 2}, nil, nil)
	if msg, _, _, _ := decodeSubchannels(enc[:len(enc)-1]); !bytes.Equal(msg, enc[:len(enc)-1]) {
		t.Fatal("truncated header decoded")
	}
}

func FuzzDecodeSubchannels(f *testing.F) {
	enc, _ := encodeSubchannels(nil, []byte("hi"), []uint16{1}, nil, nil)
	f.Add(enc)
	f.Add([]byte{0xA5, 0xF0, 0x9C, 0xB3, 0xD6, 0xE1, 0xF2, 0x8F, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, subs, req, ign := decodeSubchannels(b)
		if len(msg) > len(b) {
			t.Fatal("payload longer than the message")
		}
		if len(msg) < len(b) {
			re, ok := encodeSubchannels(nil, msg, subs, req, ign)
			if !ok && len(subs) == 0 && req == nil && ign == nil {
				// A header announcing nothing: carried nothing.
				return
			}
			if !bytes.Equal(re, b) {
				t.Fatalf("re-encoding differs")
			}
		}
	})
}
