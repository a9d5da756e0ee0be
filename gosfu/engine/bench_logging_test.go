package engine

import (
	"fmt"
	"testing"

	"github.com/gosfu/gosfu/gosfu/logger"
)

// BenchmarkForwardLogging is BenchmarkForward (plain RTP) at three log
// settings: the per-packet path must not pay for logging, whether the lines
// are filtered out by level, by tag, or enabled (steady forwarding raises
// no per-packet event, so nothing is written). Compare allocs/fwd and
// cpu-ns/fwd across the three.
func BenchmarkForwardLogging(b *testing.B) {
	allTags := logger.ParseTags([]string{"info", "ice", "dtls", "rtp", "srtp", "rtcp", "rtx", "bwe", "score", "simulcast", "svc", "sctp", "message"})
	settings := []struct {
		name  string
		level logger.Level
		tags  logger.Tag
	}{
		{"none", logger.LevelNone, 0},
		{"debug-notags", logger.LevelDebug, 0},
		{"debug-alltags", logger.LevelDebug, allTags},
	}
	for _, n := range []int{1, 10} {
		for _, s := range settings {
			var env *fwdEnv
			b.Run(fmt.Sprintf("%s/N=%d", s.name, n), func(b *testing.B) {
				if env == nil {
					env = newFwdEnv(b, "plain", n)
					env.w.Logger().Set(s.level, s.tags)
				}
				f0 := env.forwarded()
				b.ReportAllocs()
				b.ResetTimer()
				m := measure(func() { env.inject(b.N, 0) })
				b.StopTimer()
				fwd := env.forwarded() - f0
				if want := uint64(b.N) * uint64(n); fwd != want {
					b.Fatalf("forwarded %d packets, want %d", fwd, want)
				}
				report(b, fwd, m, measurement{})
			})
			if env != nil {
				env.close()
			}
		}
	}
}
