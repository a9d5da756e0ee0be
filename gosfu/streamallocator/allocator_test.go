package streamallocator

import (
	"reflect"
	"testing"
)

// flat builds a single-spatial ladder with the given cumulative bitrates.
func flat(bitrates ...uint64) []Step {
	s := make([]Step, len(bitrates))
	for i, b := range bitrates {
		s[i] = Step{Spatial: 0, Temporal: i, Bitrate: b}
	}
	return s
}

func TestAllocate(t *testing.T) {
	// A 3x3 simulcast ladder: S0 150/200/250k, S1 500/650/800k, S2 1.5/2/2.5M.
	sim := Ladder([][]uint64{
		{150e3, 200e3, 250e3},
		{500e3, 650e3, 800e3},
		{1500e3, 2000e3, 2500e3},
	}, -1, -1)
	cases := []struct {
		name      string
		available uint64
		tracks    []Track
		want      []int
		used      uint64
		desired   uint64
	}{
		{
			name:      "no tracks",
			available: 1e6,
			want:      nil,
		},
		{
			name:      "plenty fits: all top",
			available: 10e6,
			tracks:    []Track{{Priority: 1, Steps: sim}, {Priority: 1, Steps: sim}},
			want:      []int{8, 8},
			used:      5000e3, desired: 5000e3,
		},
		{
			name:      "nothing fits: all paused",
			available: 100e3,
			tracks:    []Track{{Priority: 1, Steps: sim}, {Priority: 5, Steps: sim}},
			want:      []int{-1, -1},
			used:      0, desired: 5000e3,
		},
		{
			name:      "zero available",
			available: 0,
			tracks:    []Track{{Priority: 1, Steps: sim}},
			want:      []int{-1},
			used:      0, desired: 2500e3,
		},
		{
			// Base round: 100+100; then the priority-3 track climbs three
			// steps per round against one for the other.
			name:      "priority 3 climbs faster than 1",
			available: 450e3,
			tracks: []Track{
				{Priority: 1, Steps: flat(100e3, 150e3, 200e3, 250e3, 300e3)},
				{Priority: 3, Steps: flat(100e3, 150e3, 200e3, 250e3, 300e3)},
			},
			// left 250: P3 -> 150,200,250 (left 100); P1 -> 150 (left 50);
			// P3 -> 300 (left 0).
			want: []int{1, 4},
			used: 450e3, desired: 600e3,
		},
		{
			name:      "base round: both get their lowest before a second step",
			available: 300e3,
			tracks: []Track{
				{Priority: 10, Steps: flat(150e3, 160e3, 170e3)},
				{Priority: 1, Steps: flat(150e3, 160e3, 170e3)},
			},
			want: []int{0, 0},
			used: 300e3, desired: 340e3,
		},
		{
			name:      "base round order: higher priority paused last",
			available: 200e3,
			tracks: []Track{
				{Priority: 1, Steps: flat(150e3)},
				{Priority: 2, Steps: flat(150e3)},
			},
			want: []int{-1, 0},
			used: 150e3, desired: 300e3,
		},
		{
			name:      "equal priorities: track order breaks the tie",
			available: 200e3,
			tracks: []Track{
				{Priority: 1, Steps: flat(150e3)},
				{Priority: 1, Steps: flat(150e3)},
			},
			want: []int{0, -1},
			used: 150e3, desired: 300e3,
		},
		{
			// The first track's next increment (400k) does not fit the
			// 150k left, the second's (100k) does.
			name:      "a later smaller step fits",
			available: 350e3,
			tracks: []Track{
				{Priority: 2, Steps: flat(100e3, 500e3)},
				{Priority: 1, Steps: flat(100e3, 200e3)},
			},
			want: []int{0, 1},
			used: 300e3, desired: 700e3,
		},
		{
			// A track never skips a step: 100->600 does not fit, so the
			// cheap step after it is not taken either.
			name:      "no skipping over a step",
			available: 300e3,
			tracks:    []Track{{Priority: 1, Steps: flat(100e3, 600e3, 650e3)}},
			want:      []int{0},
			used:      100e3, desired: 650e3,
		},
		{
			name:      "fixed first, then video",
			available: 400e3,
			tracks: []Track{
				{Priority: 1, Steps: sim},
				{Priority: 1, Fixed: 64e3},
				{Priority: 1, Fixed: 64e3},
			},
			// 272k left for video: S0T2 (250k).
			want: []int{2, -1, -1},
			used: 378e3, desired: 2628e3,
		},
		{
			name:      "fixed alone exceed available: video paused, fixed kept",
			available: 100e3,
			tracks: []Track{
				{Priority: 1, Fixed: 64e3},
				{Priority: 1, Fixed: 64e3},
				{Priority: 9, Steps: flat(1)},
			},
			want: []int{-1, -1, -1},
			used: 128e3, desired: 128e3 + 1,
		},
		{
			name:      "priority 0 is left out",
			available: 1e6,
			tracks: []Track{
				{Priority: 0, Fixed: 64e3, Steps: sim},
				{Priority: 1, Steps: flat(100e3)},
			},
			want: []int{-1, 0},
			used: 100e3, desired: 100e3,
		},
		{
			name:      "fixed and steps in one track",
			available: 300e3,
			tracks:    []Track{{Priority: 1, Fixed: 50e3, Steps: sim}},
			want:      []int{2},
			used:      300e3, desired: 2550e3,
		},
		{
			name:      "temporal ladder S0T0,S0T1,S0T2,S1T0",
			available: 500e3,
			tracks:    []Track{{Priority: 1, Steps: sim}},
			// S1T0 costs 500k in all, 250k more than S0T2: fits exactly.
			want: []int{3},
			used: 500e3, desired: 2500e3,
		},
		{
			// S1T0 (120k) costs less than S0T2 (200k): moving up frees
			// bitrate, so the track climbs past it.
			name:      "cheaper higher rung",
			available: 210e3,
			tracks: []Track{{Priority: 1, Steps: []Step{
				{0, 0, 100e3}, {0, 1, 200e3}, {1, 0, 120e3}, {1, 1, 210e3},
			}}},
			want: []int{3},
			used: 210e3, desired: 210e3,
		},
		{
			name:      "priority above 255 is 255",
			available: 1e6,
			tracks:    []Track{{Priority: 1000, Steps: flat(1, 2, 3)}},
			want:      []int{2},
			used:      3, desired: 3,
		},
	}
	for _, c := range cases {
		got := Allocate(c.available, c.tracks)
		if !reflect.DeepEqual(got.Choice, c.want) || got.Used != c.used || got.Desired != c.desired {
			t.Errorf("%s: got choice %v used %d desired %d, want %v %d %d",
				c.name, got.Choice, got.Used, got.Desired, c.want, c.used, c.desired)
		}
	}
}

func TestLadder(t *testing.T) {
	br := [][]uint64{
		{100, 150, 200},
		{0, 0, 0}, // inactive stream
		{1000, 0, 2000},
	}
	cases := []struct {
		name                string
		bitrates            [][]uint64
		maxSpatial, maxTemp int
		want                []Step
	}{
		{"no limit", br, -1, -1, []Step{
			{0, 0, 100}, {0, 1, 150}, {0, 2, 200}, {2, 0, 1000}, {2, 2, 2000},
		}},
		{"temporal cap", br, -1, 0, []Step{{0, 0, 100}, {2, 0, 1000}}},
		{"spatial cap", br, 1, -1, []Step{{0, 0, 100}, {0, 1, 150}, {0, 2, 200}}},
		{"spatial cap 0 temporal 1", br, 0, 1, []Step{{0, 0, 100}, {0, 1, 150}}},
		{
			"nothing active up to the cap: lowest active above",
			[][]uint64{{0, 0}, {0}, {300, 400}, {900}}, 0, -1,
			[]Step{{2, 0, 300}, {2, 1, 400}},
		},
		{"all inactive", [][]uint64{{0}, {0, 0}}, -1, -1, nil},
		{"empty", nil, 2, 2, nil},
	}
	for _, c := range cases {
		if got := Ladder(c.bitrates, c.maxSpatial, c.maxTemp); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestAllocatorNoAllocs(t *testing.T) {
	sim := Ladder([][]uint64{{150e3, 200e3, 250e3}, {500e3, 650e3, 800e3}}, -1, -1)
	tracks := make([]Track, 50)
	for i := range tracks {
		tracks[i] = Track{Priority: 1 + i%3, Steps: sim}
	}
	var a Allocator
	a.Allocate(3e6, tracks)
	if n := testing.AllocsPerRun(100, func() { a.Allocate(3e6, tracks) }); n != 0 {
		t.Fatalf("%v allocs per Allocate", n)
	}
	buf := make([]Step, 0, 16)
	br := [][]uint64{{1, 2, 3}, {4, 5, 6}}
	if n := testing.AllocsPerRun(100, func() { buf = AppendLadder(buf[:0], br, -1, -1) }); n != 0 {
		t.Fatalf("%v allocs per AppendLadder", n)
	}
}

func BenchmarkAllocate(b *testing.B) {
	sim := Ladder([][]uint64{
		{150e3, 200e3, 250e3}, {500e3, 650e3, 800e3}, {1500e3, 2000e3, 2500e3},
	}, -1, -1)
	for _, n := range []int{4, 50} {
		tracks := make([]Track, n)
		for i := range tracks {
			tracks[i] = Track{Priority: 1 + i%3, Steps: sim}
		}
		b.Run(map[int]string{4: "tracks=4", 50: "tracks=50"}[n], func(b *testing.B) {
			var a Allocator
			b.ReportAllocs()
			for b.Loop() {
				a.Allocate(uint64(n)*700e3, tracks)
			}
		})
	}
}
