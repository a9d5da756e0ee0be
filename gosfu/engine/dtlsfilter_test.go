package engine

import (
	"bytes"
	"testing"
)

func TestDtlsDatagramValid(t *testing.T) {
	ccs := func(epoch byte, body ...byte) []byte {
		return append([]byte{20, 0xfe, 0xfd, 0, epoch, 0, 0, 0, 0, 0, 1, 0, byte(len(body))}, body...)
	}
	handshake := append([]byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4}, 1, 2, 3, 4)
	appData := append([]byte{23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 3}, 7, 7, 7)
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := []struct {
		name string
		b    []byte
		want bool
	}{
		{"handshake flight with its ChangeCipherSpec", join(handshake, ccs(0, 1), appData), true},
		{"application data", appData, true},
		{"forged epoch-1 ChangeCipherSpec (the attack)", append([]byte{0x14, 0xfe, 0xfd, 0x00, 0x01, 0, 0, 0, 0, 0x10, 0x00, 0x00, 0x28}, make([]byte, 40)...), false},
		{"epoch-1 ChangeCipherSpec of one byte", ccs(1, 1), false},
		{"ChangeCipherSpec with a wrong value", ccs(0, 0), false},
		{"ChangeCipherSpec of two bytes", ccs(0, 1, 1), false},
		{"forged record after a valid one", join(handshake, ccs(1, 0)), false},
		{"truncated record (left to pion)", ccs(0, 1)[:12], true},
		{"announced length beyond the datagram (left to pion)", []byte{20, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 9, 0}, true},
		{"application data of epoch 0 (a fatal alert to the peer)", []byte{23, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 34, 0, 1, '0'}, false},
		{"application data of epoch 0 after a handshake record", join(handshake, []byte{23, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0}), false},
		{"unknown content type 57 of epoch 0", []byte{57, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 88, 0, 1, '0'}, false},
		{"heartbeat of epoch 0", []byte{24, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1}, false},
		{"alert of epoch 0 (pion discards it after the handshake)", []byte{21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 2, 0}, true},
		{"unknown content type of epoch 1 (fails decryption)", []byte{57, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0}, true},
		{"truncated application data of epoch 0 (left to pion)", []byte{23, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 5, 1}, true},
	}
	for _, c := range cases {
		if got := dtlsDatagramValid(c.b); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func FuzzDtlsDatagramValid(f *testing.F) {
	f.Add([]byte{20, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1})
	f.Add(append([]byte{0x14, 0xfe, 0xfd, 0x00, 0x01, 0, 0, 0, 0, 0x10, 0x00, 0x00, 0x28}, make([]byte, 40)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = dtlsDatagramValid(b)
	})
}
