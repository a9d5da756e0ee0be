package engine

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/pion/rtp"
)

// drainSink reads what sink holds now, RTP only, without waiting: the
// engine's sends are synchronous on loopback, so every forwarded packet is
// already queued when inject returns.
func drainSink(t *testing.T, sink *net.UDPConn) []rtp.Packet {
	t.Helper()
	var out []rtp.Packet
	buf := make([]byte, 2048)
	rc, err := sink.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	for {
		var n int
		var rerr error
		if err := rc.Read(func(fd uintptr) bool {
			n, _, rerr = syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
			return true // never wait
		}); err != nil {
			t.Fatal(err)
		}
		if errors.Is(rerr, syscall.EAGAIN) {
			return out
		}
		if rerr != nil {
			t.Fatal(rerr)
		}
		if isRtcp(buf[:n]) {
			continue
		}
		var p rtp.Packet
		if err := p.Unmarshal(append([]byte(nil), buf[:n]...)); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
}

// TestFanoutSpread forwards to more consumers than fanoutSpreadMin, so
// the fan-out runs on several goroutines: every consumer must get every
// packet, in order, intact.
func TestFanoutSpread(t *testing.T) {
	for _, n := range []int{fanoutSpreadMin - 1, fanoutSpreadMin, 3*fanoutSpreadMin + 5} {
		e := newFwdEnvWarm(t, "plain", n, 1)
		for _, s := range e.sinks[1:] {
			drainSink(t, s)
		}
		const count = 64
		e.inject(count, 0)
		for i, s := range e.sinks[1:] {
			got := drainSink(t, s)
			if len(got) != count {
				t.Fatalf("N=%d consumer %d: %d packets, want %d", n, i, len(got), count)
			}
			for j, p := range got {
				if j > 0 && p.SequenceNumber != got[j-1].SequenceNumber+1 {
					t.Fatalf("N=%d consumer %d: packet %d has seq %d after %d", n, i, j, p.SequenceNumber, got[j-1].SequenceNumber)
				}
				if len(p.Payload) != benchPacketSize-24 || p.Payload[0] != 0x10 {
					t.Fatalf("N=%d consumer %d: packet %d payload %d bytes (first %#x)", n, i, j, len(p.Payload), p.Payload[0])
				}
			}
		}
		if !e.consumers[0].producer.fan.stopped && n >= fanoutSpreadMin && e.consumers[0].producer.fan.helpers == nil {
			t.Fatalf("N=%d: fan-out was not spread", n)
		}
		e.close()
	}
}
