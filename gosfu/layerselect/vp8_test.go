package layerselect

import (
	"testing"

	"github.com/gosfu/gosfu/gosfu/codecs"
)

// vp8Pkt is one packet fed to VP8Temporal.Forward.
type vp8Pkt struct {
	ts        uint32
	key       bool
	tid       int // -1: no TID
	sync      bool
	old       bool
	preferred int
	want      bool
	current   int // Current() after the packet
}

func vp8Desc(tid int, sync bool) codecs.VP8Descriptor {
	d := codecs.VP8Descriptor{HasPictureID: true, PictureIDTwoBytes: true}
	if tid >= 0 {
		d.HasTID, d.TID, d.LayerSync = true, uint8(tid), sync
	}
	return d
}

func TestVP8Temporal(t *testing.T) {
	for _, tc := range []struct {
		name string
		pkts []vp8Pkt
	}{
		{"key frame takes target", []vp8Pkt{
			{ts: 0, key: true, tid: 0, preferred: 2, want: true, current: 2},
			{ts: 3000, tid: 2, preferred: 2, want: true, current: 2},
		}},
		{"before key frame only TL0 passes", []vp8Pkt{
			{ts: 0, tid: 0, preferred: 2, want: true, current: -1},
			{ts: 3000, tid: 1, sync: true, preferred: 2, want: false, current: -1},
		}},
		{"down at next frame", []vp8Pkt{
			{ts: 0, key: true, tid: 0, preferred: 2, want: true, current: 2},
			{ts: 3000, tid: 2, preferred: 0, want: false, current: 0},
			{ts: 6000, tid: 1, preferred: 0, want: false, current: 0},
			{ts: 9000, tid: 0, preferred: 0, want: true, current: 0},
		}},
		{"target fixed within a frame", []vp8Pkt{
			{ts: 0, key: true, tid: 0, preferred: 2, want: true, current: 2},
			{ts: 3000, tid: 2, preferred: 2, want: true, current: 2},
			{ts: 3000, tid: 2, preferred: 0, want: true, current: 2},
			{ts: 6000, tid: 2, preferred: 0, want: false, current: 0},
		}},
		{"up waits for layer sync", []vp8Pkt{
			{ts: 0, key: true, tid: 0, preferred: 0, want: true, current: 0},
			{ts: 3000, tid: 1, preferred: 1, want: false, current: 0},
			{ts: 6000, tid: 1, sync: true, preferred: 1, want: true, current: 1},
			{ts: 9000, tid: 1, preferred: 1, want: true, current: 1},
		}},
		{"sync above target dropped", []vp8Pkt{
			{ts: 0, key: true, tid: 0, preferred: 0, want: true, current: 0},
			{ts: 3000, tid: 2, sync: true, preferred: 1, want: false, current: 0},
		}},
		{"late packets and no TID pass", []vp8Pkt{
			{ts: 0, key: true, tid: 0, preferred: 0, want: true, current: 0},
			{ts: 3000, tid: 2, old: true, preferred: 0, want: true, current: 0},
			{ts: 6000, tid: -1, preferred: 0, want: true, current: 0},
		}},
		{"older timestamp keeps frame target", []vp8Pkt{
			{ts: 6000, key: true, tid: 0, preferred: 1, want: true, current: 1},
			{ts: 3000, tid: 1, preferred: 0, want: true, current: 1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewVP8Temporal()
			for i, p := range tc.pkts {
				d := vp8Desc(p.tid, p.sync)
				if got := s.Forward(p.ts, p.key, &d, p.old, p.preferred); got != p.want {
					t.Fatalf("packet %d: Forward = %v, want %v", i, got, p.want)
				}
				if s.Current() != p.current {
					t.Fatalf("packet %d: Current = %d, want %d", i, s.Current(), p.current)
				}
			}
		})
	}
}

func TestVP8TemporalReset(t *testing.T) {
	s := NewVP8Temporal()
	d := vp8Desc(0, false)
	s.Forward(100000, true, &d, false, 2)
	// A new stream's timestamps may be lower: after Reset its first packet
	// still starts a frame and takes the new target.
	s.Reset()
	d = vp8Desc(1, false)
	if s.Forward(5, false, &d, false, 0) || s.Current() != 0 {
		t.Fatalf("after Reset: current %d, want 0 and the TL1 packet dropped", s.Current())
	}
}
