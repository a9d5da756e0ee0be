package engine

import (
	"context"
	"testing"
	"time"

	"github.com/gosfu/gosfu/gosfu/clock"
)

// nowMs is wall-clock milliseconds, for tests that feed packets to a
// worker on the Real clock (whose time is anchored to wall time). Tests on
// a Fake clock use the worker's w.nowMs().
func nowMs() int64 { return time.Now().UnixMilli() }

// newFakeWorker is newWorker on a Fake clock.
func newFakeWorker(t testing.TB, settings string) (*Worker, *recorder, *clock.Fake) {
	t.Helper()
	fc := clock.NewFake()
	rec := &recorder{}
	w, err := NewWorkerWithClock([]byte(settings), rec, fc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); w.Wait() })
	return w, rec, fc
}

// waitTimers waits until the code under test has started n tickers and
// timers on fc, so that advancing fc reaches them.
func waitTimers(t testing.TB, fc *clock.Fake, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := fc.BlockUntil(ctx, n); err != nil {
		t.Fatal(err)
	}
}
