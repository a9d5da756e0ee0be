package rtpstream

import (
	"bytes"
	"sync"
	"testing"
)

// checkNoLiveShared fails if SharedPackets taken since base are still
// referenced.
func checkNoLiveShared(t testing.TB, base int64) {
	t.Helper()
	if n := LiveSharedPackets() - base; n != 0 {
		t.Fatalf("%d SharedPackets still referenced", n)
	}
}

func TestSharedPacketRefcount(t *testing.T) {
	base := LiveSharedPackets()
	for _, size := range []int{0, 1, 256, 257, 1100, 1280, 1536, 1537, 9000} {
		src := bytes.Repeat([]byte{byte(size)}, size)
		p := NewSharedPacket(src)
		if !bytes.Equal(p.Bytes(), src) {
			t.Fatalf("size %d: content differs", size)
		}
		if c := cap(p.Bytes()); c < size || (size <= 1536 && c > 2*size+256) {
			t.Fatalf("size %d: capacity %d", size, c)
		}
		if size > 0 {
			src[0]++ // the copy is independent
			if p.Bytes()[0] == src[0] {
				t.Fatalf("size %d: shares the source", size)
			}
		}
		p.Retain()
		p.Release()
		if LiveSharedPackets()-base != 1 {
			t.Fatalf("size %d: released early", size)
		}
		p.Release()
		checkNoLiveShared(t, base)
	}
	p := NewSharedPacket([]byte{1})
	p.Release()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("double release did not panic")
			}
		}()
		p.Release()
	}()
}

func TestSharedPacketPoolNoAlloc(t *testing.T) {
	src := make([]byte, 1100)
	NewSharedPacket(src).Release()
	if a := testing.AllocsPerRun(1000, func() {
		p := NewSharedPacket(src)
		p.Retain()
		p.Release()
		p.Release()
	}); a != 0 {
		t.Fatalf("allocs %v", a)
	}
}

// TestSharedRefConcurrentGet: consumers on several goroutines ask for the
// shared copy at once; one copy is made and the producer's Release frees
// it once the consumers' references are gone (run with -race).
func TestSharedRefConcurrentGet(t *testing.T) {
	base := LiveSharedPackets()
	var ref SharedRef
	payload := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
	for round := 0; round < 200; round++ {
		ref.Reset(payload)
		got := make([]*SharedPacket, 4)
		var wg sync.WaitGroup
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := ref.Get()
				p.Retain()
				got[i] = p
			}()
		}
		wg.Wait()
		for _, p := range got {
			if p != got[0] || !bytes.Equal(p.Bytes(), payload) {
				t.Fatal("consumers got different copies")
			}
		}
		if LiveSharedPackets()-base != 1 {
			t.Fatalf("%d copies live", LiveSharedPackets()-base)
		}
		ref.Release()
		for _, p := range got {
			p.Release()
		}
		checkNoLiveShared(t, base)
	}
	// Armed but never asked for: nothing is copied.
	ref.Reset(payload)
	ref.Reset(payload)
	ref.Release()
	checkNoLiveShared(t, base)
}
