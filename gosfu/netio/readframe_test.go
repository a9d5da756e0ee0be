package netio

import (
	"errors"
	"io"
	"testing"
)

// TestReadFrameErrors: ReadFrame tells a stream that ends between frames
// (io.EOF) from one that ends inside a frame (io.ErrUnexpectedEOF) and
// from a frame longer than the buffer (ErrFrameTooLarge), so that the
// owner counts framing errors but not ordinary closes.
func TestReadFrameErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream []byte
		bufLen int
		frames int // read whole before the error
		want   error
	}{
		{"closed between frames", []byte{0, 1, 'a', 0, 2, 'b', 'c'}, 16, 2, io.EOF},
		{"empty stream", nil, 16, 0, io.EOF},
		{"null frame then close", []byte{0, 0}, 16, 1, io.EOF},
		{"ends inside the length", []byte{0, 1, 'a', 0}, 16, 1, io.ErrUnexpectedEOF},
		{"ends after the length", []byte{0, 5}, 16, 0, io.ErrUnexpectedEOF},
		{"ends inside the payload", []byte{0, 5, 'a', 'b'}, 16, 0, io.ErrUnexpectedEOF},
		{"frame larger than the buffer", []byte{0, 17}, 16, 0, ErrFrameTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, peer := pipeConn(t, FramedConfig{})
			go func() {
				_, _ = peer.Write(tc.stream)
				peer.Close()
			}()
			buf := make([]byte, tc.bufLen)
			for i := 0; ; i++ {
				_, err := f.ReadFrame(buf)
				if err == nil {
					continue
				}
				if i != tc.frames || !errors.Is(err, tc.want) {
					t.Fatalf("error %v after %d frames, want %v after %d", err, i, tc.want, tc.frames)
				}
				return
			}
		})
	}
}
