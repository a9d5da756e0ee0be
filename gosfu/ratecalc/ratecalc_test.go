package ratecalc

import (
	"math"
	"testing"
)

type sample struct {
	offset int64
	size   int
	rate   uint32
}

func TestSequences(t *testing.T) {
	const base = 12345678
	tests := []struct {
		name     string
		windowMs int64
		slots    int
		samples  []sample
	}{
		{"single", 1000, 100, []sample{{0, 5, 40}}},
		{"several in window", 1000, 100, []sample{{0, 5, 40}, {100, 2, 56}, {300, 2, 72}, {999, 4, 104}}},
		{"one per window", 1000, 100, []sample{{0, 5, 40}, {1000, 5, 40}, {2000, 5, 40}}},
		{"slide 1 ms slots", 1000, 1000, []sample{{0, 5, 40}, {999, 2, 56}, {1001, 1, 24}, {1001, 1, 32}, {2000, 1, 24}}},
		{"slide 10 ms slots", 1000, 100, []sample{{0, 5, 40}, {999, 2, 56}, {1001, 1, 24}, {1001, 1, 32}, {2000, 1, 8}}},
		{"ring wrap", 1000, 5, []sample{
			{1000, 1, 8}, {1200, 1, 16}, {1400, 1, 24}, {1600, 1, 32}, {1800, 1, 40},
			{2000, 1, 40}, {2200, 1, 40}, {2400, 1, 40}, {2600, 1, 40}, {2800, 1, 40},
		}},
		{"uneven slots", 1000, 3, []sample{{0, 1, 8}, {333, 1, 16}, {666, 1, 24}, {999, 1, 32}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewWith(tc.windowMs, tc.slots, DefaultScale)
			for i, s := range tc.samples {
				c.Update(s.size, base+s.offset)
				if got := c.Rate(base + s.offset); got != s.rate {
					t.Fatalf("sample %d: rate %d, want %d", i, got, s.rate)
				}
			}
			// Asking at a time older than the window must not change anything.
			c.Reset()
			for i, s := range tc.samples {
				c.Update(s.size, base+s.offset)
				if got := c.Rate(s.offset); got != s.rate {
					t.Fatalf("old now, sample %d: rate %d, want %d", i, got, s.rate)
				}
			}
			if got := c.Rate(math.MaxInt64); got != 0 {
				t.Fatalf("far future rate %d", got)
			}
		})
	}
}

func TestNoDrift(t *testing.T) {
	const base = 12345678
	c := New()
	for i := int64(0); i <= 100; i++ {
		c.Update(1, base+i*11)
	}
	if got := c.Rate(base + 1100); got != 91*8 {
		t.Fatalf("got %d", got)
	}
	c3 := NewWith(1000, 3, DefaultScale)
	for i := int64(0); i < 100; i++ {
		c3.Update(1, base+i*334)
	}
	if got := c3.Rate(base + 99*334); got != 24 {
		t.Fatalf("got %d", got)
	}
}

func TestSameNowRecalculated(t *testing.T) {
	c := New()
	for i, want := range []uint32{40, 80, 120} {
		c.Update(5, 0)
		if got := c.Rate(0); got != want {
			t.Fatalf("%d: got %d", i, got)
		}
	}
	if c.Rate(0) != 120 || c.Bytes() != 15 {
		t.Fatal("unstable")
	}
	c.Reset()
	if c.Rate(0) != 0 || c.Bytes() != 15 {
		t.Fatal("reset")
	}
}

func TestClamp(t *testing.T) {
	for _, c := range []*Calculator{NewWith(1000, 0, DefaultScale), NewWith(1000, 1, DefaultScale)} {
		c.Update(5, 100)
		if got := c.Rate(100); got != 40 {
			t.Fatalf("got %d", got)
		}
	}
	c := NewWith(0, 100, DefaultScale)
	c.Update(5, 100)
	if got := c.Rate(100); got != 40000 {
		t.Fatalf("got %d", got)
	}
}

func TestSteadyBitrate(t *testing.T) {
	// 1200 byte packets every 10 ms = 960 kbps.
	c := NewWindow(2500)
	var now int64 = 1000
	for i := 0; i < 1000; i++ {
		c.Update(1200, now)
		now += 10
	}
	got := c.Rate(now - 10)
	if got < 950000 || got > 970000 {
		t.Fatalf("got %d", got)
	}
}

func TestNoAlloc(t *testing.T) {
	c := New()
	var now int64
	if a := testing.AllocsPerRun(1000, func() { now += 3; c.Update(1000, now); c.Rate(now) }); a != 0 {
		t.Fatalf("allocs %v", a)
	}
}

func BenchmarkUpdate(b *testing.B) {
	c := New()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Update(1200, int64(i))
	}
}
