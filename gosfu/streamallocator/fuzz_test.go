package streamallocator

import (
	"encoding/binary"
	"testing"
)

// decodeTracks turns fuzz bytes into tracks: per track a priority byte, a
// fixed bitrate byte (in 10 kbps), a step count, then one byte per step
// (bitrate in 10 kbps; the byte 255 stands for a huge bitrate to probe
// overflow).
func decodeTracks(b []byte) []Track {
	var tracks []Track
	for len(b) >= 3 && len(tracks) < 64 {
		t := Track{Priority: int(int8(b[0])), Fixed: uint64(b[1]) * 10e3}
		n := int(b[2] % 12)
		b = b[3:]
		for i := 0; i < n && len(b) > 0; i++ {
			br := uint64(b[0]) * 10e3
			if b[0] == 255 {
				br = ^uint64(0) - 5
			}
			t.Steps = append(t.Steps, Step{Spatial: i / 3, Temporal: i % 3, Bitrate: br})
			b = b[1:]
		}
		tracks = append(tracks, t)
	}
	return tracks
}

func FuzzAllocate(f *testing.F) {
	f.Add(uint64(450e3), []byte{1, 0, 5, 10, 15, 20, 25, 30, 3, 0, 5, 10, 15, 20, 25, 30})
	f.Add(uint64(100e3), []byte{1, 7, 0, 1, 7, 0, 9, 0, 1, 1})
	f.Add(uint64(210e3), []byte{1, 0, 4, 10, 20, 12, 21})
	f.Add(^uint64(0), []byte{255, 255, 3, 255, 255, 255, 200, 255, 2, 255, 1})
	f.Fuzz(func(t *testing.T, available uint64, data []byte) {
		tracks := decodeTracks(data)
		var a Allocator
		res := a.Allocate(available, tracks)
		again := Allocate(available, tracks)
		if len(res.Choice) != len(tracks) {
			t.Fatalf("%d choices for %d tracks", len(res.Choice), len(tracks))
		}
		var fixed, used, desired uint64
		for i, tr := range tracks {
			c := res.Choice[i]
			if c != again.Choice[i] {
				t.Fatal("Allocator and Allocate disagree")
			}
			if c < -1 || c >= len(tr.Steps) || (tr.Priority <= 0 && c != -1) {
				t.Fatalf("track %d: choice %d of %d steps (priority %d)", i, c, len(tr.Steps), tr.Priority)
			}
			if tr.Priority <= 0 {
				continue
			}
			fixed = addSat(fixed, tr.Fixed)
			desired = addSat(desired, tr.Fixed)
			if len(tr.Steps) > 0 {
				desired = addSat(desired, tr.Steps[len(tr.Steps)-1].Bitrate)
			}
			if c >= 0 {
				used = addSat(used, tr.Steps[c].Bitrate)
			}
		}
		used = addSat(used, fixed)
		if res.Used != used || res.Desired != desired {
			t.Fatalf("used %d desired %d, recomputed %d %d", res.Used, res.Desired, used, desired)
		}
		// Steps get what the fixed bitrates leave; when they exceed the
		// available bitrate (defined behaviour: they are kept whole), only
		// steps costing nothing can be taken.
		var left uint64
		if fixed < available {
			left = available - fixed
		}
		stepsUsed := res.Used - fixed
		if stepsUsed > left {
			t.Fatalf("steps use %d, %d left after fixed %d (available %d)", stepsUsed, left, fixed, available)
		}
		left -= stepsUsed
		// Nobody was left able to climb: every next step costs more
		// than what is left.
		for i, tr := range tracks {
			c := res.Choice[i]
			if tr.Priority <= 0 || c+1 >= len(tr.Steps) {
				continue
			}
			var cur uint64
			if c >= 0 {
				cur = tr.Steps[c].Bitrate
			}
			if next := tr.Steps[c+1].Bitrate; next <= cur || next-cur <= left {
				t.Fatalf("track %d could still climb from %d (%d) to %d with %d left", i, c, cur, next, left)
			}
		}
	})
}

func FuzzLadder(f *testing.F) {
	f.Add([]byte{3, 10, 15, 20, 3, 0, 0, 0, 2, 100, 0}, int8(-1), int8(-1))
	f.Fuzz(func(t *testing.T, data []byte, maxS, maxT int8) {
		var br [][]uint64
		for len(data) > 0 && len(br) < 8 {
			n := int(data[0] % 5)
			data = data[1:]
			var row []uint64
			for i := 0; i < n && len(data) >= 2; i++ {
				row = append(row, uint64(binary.BigEndian.Uint16(data)))
				data = data[2:]
			}
			br = append(br, row)
		}
		steps := Ladder(br, int(maxS), int(maxT))
		for i, s := range steps {
			if s.Bitrate == 0 || br[s.Spatial][s.Temporal] != s.Bitrate {
				t.Fatalf("step %d %+v does not match input", i, s)
			}
			if maxT >= 0 && s.Temporal > int(maxT) {
				t.Fatalf("step %d %+v above temporal cap %d", i, s, maxT)
			}
			if i > 0 && (s.Spatial < steps[i-1].Spatial ||
				s.Spatial == steps[i-1].Spatial && s.Temporal <= steps[i-1].Temporal) {
				t.Fatalf("steps out of order: %+v", steps)
			}
			// Above the spatial cap only when nothing at or below it is
			// active, and then a single spatial layer.
			if maxS >= 0 && s.Spatial > int(maxS) && s.Spatial != steps[0].Spatial {
				t.Fatalf("steps above spatial cap %d: %+v", maxS, steps)
			}
		}
	})
}
