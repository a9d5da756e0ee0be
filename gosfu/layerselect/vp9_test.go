package layerselect

import (
	"testing"

	"github.com/gosfu/gosfu/gosfu/codecs"
)

// vp9Pkt is one packet fed to VP9SVC.Forward.
type vp9Pkt struct {
	ts           uint32
	key          bool
	sid, tid     int
	u, b, e      bool
	pic          int // -1: no picture id
	pdiffs       []uint8
	ss           int // scalability structure's spatial layers (0: none)
	prefS, prefT int
	want, marker bool
	spatial      int // Spatial() after the packet
}

func (p vp9Pkt) desc() codecs.VP9Descriptor {
	d := codecs.VP9Descriptor{
		HasLayerIndices: true, SID: uint8(p.sid), TID: uint8(p.tid),
		SwitchingUp: p.u, B: p.b, E: p.e, KeyFrame: p.key,
	}
	if p.pic >= 0 {
		d.HasPictureID, d.PictureIDTwoBytes, d.PictureID = true, true, uint16(p.pic)
	}
	if p.pdiffs != nil {
		d.F = true
		d.NumPDiffs = uint8(copy(d.PDiffs[:], p.pdiffs))
	}
	if p.ss > 0 {
		d.HasSS, d.NumSpatialLayers = true, uint8(p.ss)
	}
	return d
}

func TestVP9SVC(t *testing.T) {
	for _, tc := range []struct {
		name string
		pkts []vp9Pkt
	}{
		{"nothing before a key frame", []vp9Pkt{
			{ts: 0, sid: 0, tid: 0, b: true, e: true, pic: -1, prefS: 2, prefT: 2, want: false, spatial: -1},
		}},
		{"key frame cut at target, marker on its last layer", []vp9Pkt{
			{ts: 0, key: true, sid: 0, b: true, e: true, pic: 1, ss: 3, prefS: 1, prefT: 2, want: true, spatial: 1},
			{ts: 0, sid: 1, b: true, e: true, pic: 1, prefS: 1, prefT: 2, want: true, marker: true, spatial: 1},
			{ts: 0, sid: 2, b: true, e: true, pic: 1, prefS: 1, prefT: 2, want: false, spatial: 1},
		}},
		{"spatial down at next picture, up waits for key frame", []vp9Pkt{
			{ts: 0, key: true, sid: 0, b: true, e: true, pic: 1, prefS: 1, prefT: 0, want: true, spatial: 1},
			{ts: 3000, sid: 1, b: true, e: true, pic: 2, prefS: 0, prefT: 0, want: false, spatial: 0},
			{ts: 3000, sid: 0, b: true, e: true, pic: 2, prefS: 0, prefT: 0, want: true, marker: true, spatial: 0},
			{ts: 6000, sid: 1, b: true, e: true, pic: 3, prefS: 1, prefT: 0, want: false, spatial: 0},
			{ts: 9000, key: true, sid: 0, b: true, e: true, pic: 4, prefS: 1, prefT: 0, want: true, spatial: 1},
		}},
		{"temporal up at switching point", []vp9Pkt{
			{ts: 0, key: true, sid: 0, tid: 0, b: true, e: true, pic: 1, prefS: 0, prefT: 0, want: true, marker: true, spatial: 0},
			{ts: 3000, sid: 0, tid: 1, b: true, e: true, pic: 2, prefS: 0, prefT: 1, want: false, spatial: 0},
			{ts: 6000, sid: 0, tid: 1, u: true, b: true, e: true, pic: 3, prefS: 0, prefT: 1, want: true, marker: true, spatial: 0},
		}},
		{"flexible mode: up needs forwarded references", []vp9Pkt{
			{ts: 0, key: true, sid: 0, tid: 0, b: true, e: true, pic: 10, prefS: 0, prefT: 0, want: true, marker: true, spatial: 0},
			{ts: 3000, sid: 0, tid: 1, u: true, b: true, e: true, pic: 11, pdiffs: []uint8{1}, prefS: 0, prefT: 0, want: false, spatial: 0},
			{ts: 6000, sid: 0, tid: 1, u: true, b: true, e: true, pic: 12, pdiffs: []uint8{1}, prefS: 0, prefT: 1, want: false, spatial: 0},
			{ts: 9000, sid: 0, tid: 1, u: true, b: true, e: true, pic: 13, pdiffs: []uint8{3}, prefS: 0, prefT: 1, want: true, marker: true, spatial: 0},
		}},
		{"older picture filtered with current layers", []vp9Pkt{
			{ts: 3000, key: true, sid: 0, b: true, e: true, pic: 2, prefS: 1, prefT: 0, want: true, spatial: 1},
			{ts: 0, sid: 1, b: true, e: true, pic: 1, prefS: 0, prefT: 0, want: true, marker: true, spatial: 1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewVP9SVC()
			for i, p := range tc.pkts {
				d := p.desc()
				fwd, marker := s.Forward(p.ts, &d, p.prefS, p.prefT)
				if fwd != p.want || marker != p.marker {
					t.Fatalf("packet %d: Forward = %v, %v; want %v, %v", i, fwd, marker, p.want, p.marker)
				}
				if s.Spatial() != p.spatial {
					t.Fatalf("packet %d: Spatial = %d, want %d", i, s.Spatial(), p.spatial)
				}
			}
		})
	}
}

func TestVP9SVCLayers(t *testing.T) {
	s := NewVP9SVC()
	if _, _, ok := s.Layers(); ok {
		t.Fatal("Layers ok before a key frame")
	}
	// The encoder announces 3 spatial layers but sends one: the reported
	// spatial layer is clamped to what the stream has.
	d := vp9Pkt{ts: 0, key: true, b: true, e: true, pic: 1, ss: 1}.desc()
	s.Forward(0, &d, 2, 1)
	if sl, tl, ok := s.Layers(); !ok || sl != 0 || tl != 1 {
		t.Fatalf("Layers = %d, %d, %v; want 0, 1, true", sl, tl, ok)
	}
}
