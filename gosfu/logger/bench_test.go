package logger

import "testing"

// Package-level sinks keep the compiler from proving the arguments dead.
var (
	benchSSRC uint32 = 0x12345678
	benchPT   uint8  = 96
	benchLen         = 1200
	benchSink        = func(Level, Tag, string, string) {}
)

// BenchmarkDisabledDebugUnguarded is a debug line whose tag is off, with
// arguments, called directly: Go boxes the non-constant arguments into the
// ...any before the call, which allocates (why packet paths guard with On or
// use typed helpers).
func BenchmarkDisabledDebugUnguarded(b *testing.B) {
	n := New(LevelDebug, TagIce, benchSink).Named("X")
	b.ReportAllocs()
	for b.Loop() {
		n.Debugf(TagRtp, "packet [ssrc:%d, payloadType:%d, len:%d]", benchSSRC, benchPT, benchLen)
	}
}

// BenchmarkDisabledDebug is a debug line whose tag is off in the per-packet
// form (On before the call): one atomic load, no allocation.
func BenchmarkDisabledDebug(b *testing.B) {
	n := New(LevelDebug, TagIce, benchSink).Named("X")
	b.ReportAllocs()
	for b.Loop() {
		if n.On(LevelDebug, TagRtp) {
			n.Debugf(TagRtp, "packet [ssrc:%d, payloadType:%d, len:%d]", benchSSRC, benchPT, benchLen)
		}
	}
}

// BenchmarkDisabledLevel is a debug line at logLevel warn.
func BenchmarkDisabledLevel(b *testing.B) {
	n := New(LevelWarn, ^Tag(0), benchSink).Named("X")
	b.ReportAllocs()
	for b.Loop() {
		if n.On(LevelDebug, TagRtp) {
			n.Debugf(TagRtp, "packet [ssrc:%d, payloadType:%d, len:%d]", benchSSRC, benchPT, benchLen)
		}
	}
}

// BenchmarkEnabledDebug is the cost of a written line (formatting; the sink
// does nothing).
func BenchmarkEnabledDebug(b *testing.B) {
	n := New(LevelDebug, TagRtp, benchSink).Named("X")
	b.ReportAllocs()
	for b.Loop() {
		n.Debugf(TagRtp, "packet [ssrc:%d, payloadType:%d, len:%d]", benchSSRC, benchPT, benchLen)
	}
}

// BenchmarkRateLimited is an enabled warning past its rate limit.
func BenchmarkRateLimited(b *testing.B) {
	n := New(LevelWarn, TagRtp, benchSink).Named("X")
	var rl RateLimit
	b.ReportAllocs()
	for b.Loop() {
		if n.On(LevelWarn, TagRtp) {
			if ok, skipped := rl.Allow(0); ok {
				n.Warnf(TagRtp, "bad packet [ssrc:%d, skipped:%d]", benchSSRC, skipped)
			}
		}
	}
}
