package layerselect

import (
	"encoding/binary"
	"testing"

	"github.com/gosfu/gosfu/gosfu/codecs"
)

// FuzzSelectors feeds arbitrary payloads, timestamps and preferred layers
// to the VP8 and VP9 filters and checks their invariants: no panic, the
// current layers never exceed the targets, and a forwarded VP9 packet is
// within the current layers.
func FuzzSelectors(f *testing.F) {
	f.Add([]byte{0x90, 0xE0, 0x80, 0x01, 0x00, 0x20}, []byte{0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x01})
	f.Add([]byte{0xAA, 0x80, 0x01, 0x00}, []byte{0x00, 0x00, 0x0B, 0xB8, 0x01, 0x02, 0x00})
	f.Add([]byte{0x8E, 0x80, 0x0A, 0x20, 0x01}, []byte{0xFF, 0xFF, 0xFF, 0xF0, 0x00, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, payload, ctl []byte) {
		vp8 := NewVP8Temporal()
		vp9 := NewVP9SVC()
		// ctl is a list of 7-byte records: timestamp, preferred spatial,
		// preferred temporal, flags (key frame, old); each feeds the
		// payload from a different offset.
		for i := 0; i+7 <= len(ctl); i += 7 {
			ts := binary.BigEndian.Uint32(ctl[i:])
			ps, pt := int(ctl[i+4]%4), int(ctl[i+5]%4)
			key, old := ctl[i+6]&1 != 0, ctl[i+6]&2 != 0
			p := payload
			if len(p) > 0 {
				p = p[i%len(p):]
			}
			var d8 codecs.VP8Descriptor
			if d8.Unmarshal(p) == nil {
				vp8.Forward(ts, key, &d8, old, pt)
				if vp8.current > vp8.target {
					t.Fatalf("VP8 current %d above target %d", vp8.current, vp8.target)
				}
			}
			var d9 codecs.VP9Descriptor
			if d9.Unmarshal(p) == nil && d9.HasLayerIndices {
				fwd, marker := vp9.Forward(ts, &d9, ps, pt)
				if vp9.spatialCurrent > vp9.spatialTarget || vp9.temporalCurrent > vp9.temporalTarget {
					t.Fatalf("VP9 current %d/%d above target %d/%d", vp9.spatialCurrent, vp9.temporalCurrent, vp9.spatialTarget, vp9.temporalTarget)
				}
				if fwd && (int(d9.SID) > vp9.spatialCurrent || int(d9.TID) > vp9.temporalCurrent) {
					t.Fatalf("VP9 forwarded S%dT%d above current %d/%d", d9.SID, d9.TID, vp9.spatialCurrent, vp9.temporalCurrent)
				}
				if marker && !fwd {
					t.Fatal("marker on a dropped packet")
				}
			}
			if i%2 == 0 {
				vp8.Reset()
				vp9.Reset()
			}
		}
	})
}

// FuzzSimulcastTarget checks that the target is the preferred stream or a
// lower active one.
func FuzzSimulcastTarget(f *testing.F) {
	f.Add(uint8(2), uint8(0b011), uint32(100), uint32(500), uint32(2000), uint64(600))
	f.Fuzz(func(t *testing.T, pref, activeBits uint8, b0, b1, b2 uint32, limit uint64) {
		preferred := int(pref % 4)
		active := []bool{activeBits&1 != 0, activeBits&2 != 0, activeBits&4 != 0}
		got := SimulcastTarget(preferred, active, []uint32{b0, b1, b2}, limit)
		if got != preferred && (got < 0 || got > preferred || !active[got]) {
			t.Fatalf("SimulcastTarget(%d, %v) = %d", preferred, active, got)
		}
	})
}
