package netio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// pipeConn is one end of an in-memory connection (net.Pipe: no buffering,
// so a write waits for the peer to read) with the peer's end.
func pipeConn(t *testing.T, cfg FramedConfig) (*FramedConn, net.Conn) {
	t.Helper()
	a, b := net.Pipe()
	f := NewFramedConnConfig(a, cfg)
	t.Cleanup(func() { f.Close(); b.Close() })
	return f, b
}

// readFrames reads n frames from the peer's end of a FramedConn.
func readFrames(t *testing.T, peer net.Conn, n int) [][]byte {
	t.Helper()
	_ = peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	var out [][]byte
	for i := 0; i < n; i++ {
		var hdr [2]byte
		if _, err := io.ReadFull(peer, hdr[:]); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		b := make([]byte, int(hdr[0])<<8|int(hdr[1]))
		if _, err := io.ReadFull(peer, b); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		out = append(out, b)
	}
	return out
}

// waitClosed reports whether f's connection closes within d (a pending
// read fails).
func waitClosed(f *FramedConn, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		buf := make([]byte, MaxFrameSize)
		for {
			if _, err := f.ReadFrame(buf); err != nil {
				close(done)
				return
			}
		}
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// TestFramedConnQueueFull: with a peer that reads nothing, frames beyond
// the queue's bounds (frames or bytes, the one being written included) are
// dropped and counted, without blocking; once the peer reads, every
// accepted frame arrives in order and the queue takes frames again.
func TestFramedConnQueueFull(t *testing.T) {
	cases := []struct {
		name     string
		cfg      FramedConfig
		size, n  int
		accepted int
	}{
		{name: "frames bound", cfg: FramedConfig{MaxQueueFrames: 4}, size: 10, n: 10, accepted: 4},
		{name: "bytes bound", cfg: FramedConfig{MaxQueueBytes: 100}, size: 30, n: 10, accepted: 3},
		{name: "large frames", cfg: FramedConfig{MaxQueueBytes: 3 * 5000}, size: 4998, n: 5, accepted: 3},
		{name: "exact fit", cfg: FramedConfig{MaxQueueBytes: 2 * 52, MaxQueueFrames: 2}, size: 50, n: 3, accepted: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.WriteTimeout = time.Minute
			f, peer := pipeConn(t, tc.cfg)
			var want [][]byte
			for i := 0; i < tc.n; i++ {
				b := bytes.Repeat([]byte{byte(i)}, tc.size)
				err := f.WriteFrame(b)
				switch {
				case i < tc.accepted && err != nil:
					t.Fatalf("frame %d: %v", i, err)
				case i >= tc.accepted && !errors.Is(err, ErrSendQueueFull):
					t.Fatalf("frame %d: got %v, want ErrSendQueueFull", i, err)
				}
				if err == nil {
					want = append(want, b)
				}
			}
			if got, want := f.Dropped(), uint64(tc.n-tc.accepted); got != want {
				t.Fatalf("Dropped() = %d, want %d", got, want)
			}
			got := readFrames(t, peer, len(want))
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("frame %d differs", i)
				}
			}
			// Drained: room again.
			last := bytes.Repeat([]byte{0xee}, tc.size)
			deadline := time.Now().Add(10 * time.Second)
			for {
				err := f.WriteFrame(last)
				if err == nil {
					break
				}
				// The writer may not have released the last batch yet.
				if !errors.Is(err, ErrSendQueueFull) || time.Now().After(deadline) {
					t.Fatalf("after draining: %v", err)
				}
				time.Sleep(time.Millisecond)
			}
			if got := readFrames(t, peer, 1); !bytes.Equal(got[0], last) {
				t.Fatal("frame after draining differs")
			}
		})
	}
}

// TestFramedConnWriteTimeout: a peer that accepts nothing for the write
// timeout loses its connection; one that reads slowly but steadily keeps
// it even when a write takes many timeouts in all.
func TestFramedConnWriteTimeout(t *testing.T) {
	cases := []struct {
		name       string
		readEvery  time.Duration // 0: the peer reads nothing
		wantClosed bool
	}{
		{name: "stuck peer", wantClosed: true},
		{name: "slow peer", readEvery: 10 * time.Millisecond},
	}
	const timeout = 500 * time.Millisecond
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, peer := pipeConn(t, FramedConfig{WriteTimeout: timeout})
			// 200 bytes read one at a time: about 2 s, four timeouts.
			payload := bytes.Repeat([]byte{7}, 198)
			if err := f.WriteFrame(payload); err != nil {
				t.Fatal(err)
			}
			readDone := make(chan error, 1)
			if tc.readEvery > 0 {
				go func() {
					var b [1]byte
					for i := 0; i < 200; i++ {
						if _, err := peer.Read(b[:]); err != nil {
							readDone <- err
							return
						}
						time.Sleep(tc.readEvery)
					}
					readDone <- nil
				}()
			}
			if tc.wantClosed {
				if !waitClosed(f, 10*time.Second) {
					t.Fatal("connection to a peer that reads nothing still open")
				}
				if err := f.WriteFrame(payload); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("WriteFrame after the timeout: %v, want net.ErrClosed", err)
				}
				return
			}
			select {
			case err := <-readDone:
				if err != nil {
					t.Fatalf("slow peer's connection closed: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("slow peer never got the frame")
			}
			if err := f.WriteFrame(payload); err != nil {
				t.Fatalf("slow peer's connection unusable: %v", err)
			}
		})
	}
}

// TestFramedConnCloseWhileBlocked: Close returns promptly while the writer
// is stuck on a peer that reads nothing, ends the writer goroutine, and
// later writes fail with net.ErrClosed.
func TestFramedConnCloseWhileBlocked(t *testing.T) {
	f, _ := pipeConn(t, FramedConfig{WriteTimeout: time.Hour})
	for i := 0; i < 3; i++ {
		if err := f.WriteFrame(make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan struct{})
	go func() {
		f.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked behind a stuck write")
	}
	select {
	case <-f.exited:
	default:
		t.Fatal("writer goroutine still running after Close")
	}
	if err := f.WriteFrame([]byte{1}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("WriteFrame after Close: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestFramedConnWriteAllocs: sending to a peer that keeps up allocates
// nothing per packet (pooled frames, writev without garbage).
func TestFramedConnWriteAllocs(t *testing.T) {
	l, err := ListenTCP(ListenInfo{IP: "127.0.0.1"}, 42000, 42100)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	f := NewFramedConn(c)
	defer f.Close()
	peer := <-accepted
	if peer == nil {
		t.Fatal("accept failed")
	}
	defer peer.Close()
	pkt := make([]byte, 1200)
	buf := make([]byte, 2+len(pkt))
	// Each run sends one packet and reads it at the peer: the writer's
	// path (wake-up, writev, recycling) is measured, not just the queue.
	send := func() {
		if err := f.WriteFrame(pkt); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(peer, buf); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ { // warm the pool and the writer
		send()
	}
	allocs := testing.AllocsPerRun(2000, send)
	// Below one per packet: a collection emptying the pool costs a few.
	if allocs >= 0.5 {
		t.Fatalf("%.2f allocations per packet", allocs)
	}
	t.Logf("%.3f allocations per packet", allocs)
}
