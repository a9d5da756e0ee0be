package netio

import (
	"syscall"
	"testing"
	"unsafe"
)

func TestReadBuffer(t *testing.T) {
	rb := NewReadBuffer()
	if len(rb.B) != ReadBufferSize {
		t.Fatalf("len %d, want %d", len(rb.B), ReadBufferSize)
	}
	if !rb.mapped {
		t.Fatal("buffer not mapped")
	}
	rb.B[0], rb.B[ReadBufferSize-1] = 1, 2
	// Only the pages written to are resident.
	vec := make([]byte, ReadBufferSize/syscall.Getpagesize())
	_, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&rb.B[0])), ReadBufferSize, uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		t.Fatal(errno)
	}
	resident := 0
	for _, v := range vec {
		resident += int(v & 1)
	}
	if resident != 2 {
		t.Fatalf("%d resident pages, want 2", resident)
	}
	rb.Release()
	rb.Release()
	if rb.B != nil {
		t.Fatal("buffer kept after Release")
	}
}
