package pacer

import (
	"sync/atomic"
	"testing"
)

// BenchmarkSendFastPath measures Send when the packet leaves inline: the
// cost the pacer adds to each forwarded packet.
func BenchmarkSendFastPath(b *testing.B) {
	b.Run("unpaced", func(b *testing.B) {
		p := New(Config{})
		buf := make([]byte, 1200)
		b.ReportAllocs()
		for b.Loop() {
			if !p.Send(buf, nil, 0) {
				b.Fatal("queued")
			}
		}
	})
	b.Run("paced", func(b *testing.B) {
		// 1 Tbps: the budget never runs out, so every Send takes the
		// locked inline path (refill, budget check, take).
		p := New(Config{})
		p.SetRate(400_000_000_000)
		buf := make([]byte, 1200)
		b.ReportAllocs()
		now := int64(0)
		for b.Loop() {
			now++
			if !p.Send(buf, nil, now) {
				b.Fatal("queued")
			}
		}
	})
	b.Run("unpaced-parallel", func(b *testing.B) {
		p := New(Config{})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, 1200)
			for pb.Next() {
				p.Send(buf, nil, 0)
			}
		})
	})
	b.Run("paced-parallel", func(b *testing.B) {
		p := New(Config{})
		p.SetRate(400_000_000_000)
		var clock atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, 1200)
			for pb.Next() {
				p.Send(buf, nil, clock.Add(1))
			}
		})
	})
}

// BenchmarkQueued measures the slow path: a packet copied into the queue
// and later sent by Drain (per packet, 1200 bytes).
func BenchmarkQueued(b *testing.B) {
	p := New(Config{MaxQueueUs: -1})
	p.SetRate(1_000_000)
	buf := make([]byte, 1200)
	owner := &struct{}{}
	p.Send(buf, owner, 0) // spend the initial budget
	send := func([]byte, any) {}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.Send(buf, owner, 0)
		if i%64 == 63 {
			p.SetRate(0) // drain everything, then pace again
			p.Drain(0, send)
			p.SetRate(1_000_000)
			p.Send(buf, owner, 0)
		}
	}
}
