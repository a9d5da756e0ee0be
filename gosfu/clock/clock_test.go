package clock

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestRealIsMonotonicAndNearWallTime(t *testing.T) {
	c := NewReal()
	prev := c.Now()
	for i := 0; i < 1000; i++ {
		now := c.Now()
		if now < prev {
			t.Fatalf("Now went back: %v after %v", now, prev)
		}
		prev = now
	}
	if d := time.Since(c.Wall()); d < -time.Second || d > time.Second {
		t.Fatalf("Wall is %v away from time.Now", d)
	}
	if ms, want := Ms(c), time.Now().UnixMilli(); ms < want-1000 || ms > want+1000 {
		t.Fatalf("Ms = %d, time.Now in ms = %d", ms, want)
	}
}

func TestRealTickerAndTimer(t *testing.T) {
	c := NewReal()
	tk := c.NewTicker(time.Millisecond)
	defer tk.Stop()
	<-tk.C()
	tk.Reset(2 * time.Millisecond)
	<-tk.C()
	fired := make(chan struct{})
	tm := c.AfterFunc(time.Millisecond, func() { close(fired) })
	<-fired
	if tm.Stop() {
		t.Fatal("Stop of a fired timer reported it pending")
	}
	never := c.AfterFunc(time.Hour, func() { t.Error("stopped timer fired") })
	if !never.Stop() {
		t.Fatal("Stop of a pending timer reported it fired")
	}
}

// event is one thing a test observed on a Fake clock: which ticker or
// timer fired and the clock's time (offset from the start) while it ran.
type event struct {
	name string
	at   time.Duration
}

// recorder runs one receiving goroutine per ticker and records what they
// see, the way an engine loop consumes ticks.
type recorder struct {
	c      *Fake
	start  time.Duration
	mu     sync.Mutex
	events []event
	wg     sync.WaitGroup
	stop   chan struct{}
}

func newRecorder(c *Fake) *recorder {
	return &recorder{c: c, start: c.Now(), stop: make(chan struct{})}
}

func (r *recorder) add(name string) {
	r.mu.Lock()
	r.events = append(r.events, event{name, r.c.Now() - r.start})
	r.mu.Unlock()
}

func (r *recorder) ticker(name string, d time.Duration) Ticker {
	tk := r.c.NewTicker(d)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer tk.Stop()
		for {
			select {
			case <-r.stop:
				return
			case tm := <-tk.C():
				if got := time.Duration(tm.UnixNano()); got != r.c.Now() {
					r.add(fmt.Sprintf("%s: tick value %v, Now %v", name, got, r.c.Now()))
				}
				// Work that takes real time must still finish before
				// Advance moves on.
				time.Sleep(time.Millisecond)
				r.add(name)
			}
		}
	}()
	return tk
}

func (r *recorder) take() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func (r *recorder) close() {
	close(r.stop)
	r.wg.Wait()
}

func TestFakeAdvance(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		tickers map[string]time.Duration
		timers  map[string]time.Duration
		steps   []time.Duration
		want    []event
	}{
		{
			name:  "nothing due",
			steps: []time.Duration{time.Hour},
		},
		{
			name:    "ticker before its period",
			tickers: map[string]time.Duration{"a": 40 * ms},
			steps:   []time.Duration{39 * ms},
		},
		{
			name:    "ticker at its period",
			tickers: map[string]time.Duration{"a": 40 * ms},
			steps:   []time.Duration{39 * ms, ms},
			want:    []event{{"a", 40 * ms}},
		},
		{
			name:    "every tick of a long advance, at its own time",
			tickers: map[string]time.Duration{"a": 40 * ms},
			steps:   []time.Duration{130 * ms},
			want:    []event{{"a", 40 * ms}, {"a", 80 * ms}, {"a", 120 * ms}},
		},
		{
			name:    "two tickers interleave in time order",
			tickers: map[string]time.Duration{"nack": 40 * ms, "rtcp": 100 * ms},
			steps:   []time.Duration{200 * ms},
			want: []event{
				{"nack", 40 * ms}, {"nack", 80 * ms}, {"rtcp", 100 * ms}, {"nack", 120 * ms},
				{"nack", 160 * ms}, {"rtcp", 200 * ms}, {"nack", 200 * ms},
			},
		},
		{
			name:    "timers run once at their time among ticks",
			tickers: map[string]time.Duration{"a": 50 * ms},
			timers:  map[string]time.Duration{"t1": 70 * ms, "t0": 0},
			steps:   []time.Duration{0, 150 * ms},
			want:    []event{{"t0", 0}, {"a", 50 * ms}, {"t1", 70 * ms}, {"a", 100 * ms}, {"a", 150 * ms}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewFake()
			r := newRecorder(c)
			// Sorted creation so that equal due times have a fixed order.
			for _, name := range sortedKeys(tt.tickers) {
				r.ticker(name, tt.tickers[name])
			}
			for _, name := range sortedKeys(tt.timers) {
				c.AfterFunc(tt.timers[name], func() { r.add(name) })
			}
			var total time.Duration
			for _, s := range tt.steps {
				c.Advance(s)
				total += s
			}
			if got := c.Now() - r.start; got != total {
				t.Errorf("time advanced by %v, want %v", got, total)
			}
			if got := r.take(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events\n got %v\nwant %v", got, tt.want)
			}
			r.close()
			if n := c.Waiters(); n != 0 {
				t.Errorf("%d waiters left after stopping every ticker", n)
			}
		})
	}
}

func sortedKeys(m map[string]time.Duration) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestFakeTickerResetAndStop(t *testing.T) {
	ms := time.Millisecond
	c := NewFake()
	r := newRecorder(c)
	tk := r.ticker("a", 100*ms)
	c.Advance(50 * ms)
	tk.Reset(30 * ms) // next ticks at 80, 110
	c.Advance(60 * ms)
	tk.Stop()
	c.Advance(time.Second)
	tk.Reset(10 * ms) // restarted: 1120
	c.Advance(10 * ms)
	want := []event{{"a", 80 * ms}, {"a", 110 * ms}, {"a", 1120 * ms}}
	if got := r.take(); !reflect.DeepEqual(got, want) {
		t.Fatalf("events\n got %v\nwant %v", got, want)
	}
	r.close()
}

func TestFakeTimerStopAndReset(t *testing.T) {
	ms := time.Millisecond
	c := NewFake()
	r := newRecorder(c)
	stopped := c.AfterFunc(10*ms, func() { r.add("stopped") })
	moved := c.AfterFunc(10*ms, func() { r.add("moved") })
	if !stopped.Stop() {
		t.Fatal("Stop of a pending timer reported it fired")
	}
	if stopped.Stop() {
		t.Fatal("second Stop reported the timer pending")
	}
	if !moved.Reset(30 * ms) {
		t.Fatal("Reset of a pending timer reported it fired")
	}
	c.Advance(29 * ms)
	c.Advance(ms)
	if moved.Stop() {
		t.Fatal("Stop of a fired timer reported it pending")
	}
	// A timer that reschedules itself from its function.
	var again Timer
	n := 0
	again = c.AfterFunc(5*ms, func() {
		r.add("again")
		if n++; n < 3 {
			again.Reset(5 * ms)
		}
	})
	c.Advance(time.Second)
	want := []event{{"moved", 30 * ms}, {"again", 35 * ms}, {"again", 40 * ms}, {"again", 45 * ms}}
	if got := r.take(); !reflect.DeepEqual(got, want) {
		t.Fatalf("events\n got %v\nwant %v", got, want)
	}
	if w := c.Waiters(); w != 0 {
		t.Fatalf("%d waiters left", w)
	}
}

func TestFakeBlockUntil(t *testing.T) {
	c := NewFake()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	started := make(chan Ticker)
	go func() {
		started <- c.NewTicker(time.Second)
	}()
	if err := c.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	(<-started).Stop()

	short, cancelShort := context.WithCancel(context.Background())
	cancelShort()
	if err := c.BlockUntil(short, 1); err == nil {
		t.Fatal("BlockUntil with no waiter and a cancelled context returned nil")
	}
}

func TestFakeStopReleasesAdvance(t *testing.T) {
	// A receiver that takes a tick and then leaves stops its ticker:
	// Advance must not wait for a next receive that never comes.
	c := NewFake()
	tk := c.NewTicker(time.Millisecond)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer tk.Stop()
		<-tk.C()
	}()
	c.Advance(time.Second)
	<-done
}

func TestFakeConcurrentUse(t *testing.T) {
	c := NewFake()
	r := newRecorder(c)
	const n = 8
	for i := 0; i < n; i++ {
		r.ticker(fmt.Sprint(i), time.Duration(i+1)*time.Millisecond)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		prev := c.Now()
		for {
			select {
			case <-stop:
				return
			default:
			}
			now := c.Now()
			if now < prev {
				t.Errorf("Now went back")
				return
			}
			prev = now
			tm := c.AfterFunc(time.Millisecond, func() {})
			tm.Stop()
		}
	}()
	for i := 0; i < 20; i++ {
		c.Advance(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	// Ticker i fires every i+1 ms: over 20 ms that is 20/(i+1) ticks.
	got := map[string]int{}
	for _, e := range r.take() {
		got[e.name]++
	}
	for i := 0; i < n; i++ {
		if want := 20 / (i + 1); got[fmt.Sprint(i)] != want {
			t.Errorf("ticker %d fired %d times, want %d", i, got[fmt.Sprint(i)], want)
		}
	}
	r.close()
}

// BenchmarkNow compares the engine's per-packet clock read (an interface
// call to Real) with the time.Now().UnixMilli() it replaced.
func BenchmarkNow(b *testing.B) {
	var c Clock = NewReal()
	var sink int64
	b.Run("Real.Now", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sink += int64(c.Now() / time.Millisecond)
		}
	})
	b.Run("time.Now", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sink += time.Now().UnixMilli()
		}
	})
	_ = sink
}
