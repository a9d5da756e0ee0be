package engine

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// TestRetransmissionsFromSharedCopies: consumers keep packets for NACK as
// references to the producer's pooled copy of each payload. After the
// pool has cycled through many packets, a retransmission (RTX) must still
// carry exactly the payload that was first sent under that sequence
// number.
func TestRetransmissionsFromSharedCopies(t *testing.T) {
	// 5000 packets first (20 s of media): the pool has recycled its copies.
	e := newFwdEnvWarm(t, "plain", 2, 5000)
	defer e.close()
	sink := e.sinks[1]
	drainSink(t, sink)
	c := e.consumers[0]
	if c.rtxSsrc == 0 {
		t.Fatal("the consumer has no RTX stream")
	}
	// Every payload is different: a mark from the stream's count at both
	// ends, so that a payload served from a recycled copy shows.
	const count = 80 // what the sink's receive buffer holds
	for i := 0; i < count; i++ {
		pkt := e.nextPacket(false)
		binary.BigEndian.PutUint32(pkt[24+40:], uint32(e.count)*2654435761)
		binary.BigEndian.PutUint32(pkt[len(pkt)-4:], uint32(e.count))
		e.prodT.ReceiveRtp(pkt, &e.hdr, e.prodT.w.nowMs())
	}
	sent := map[uint16][]byte{}
	var order []uint16 // as sent
	for _, p := range drainSink(t, sink) {
		if p.SSRC == c.ssrc {
			sent[p.SequenceNumber] = p.Payload
			order = append(order, p.SequenceNumber)
		}
	}
	if len(sent) != count {
		t.Fatalf("%d packets forwarded, want %d", len(sent), count)
	}
	// NACK ten of them, from the oldest to the newest.
	var nacked []uint16
	for i := 0; i < 10; i++ {
		nacked = append(nacked, order[i*count/10])
	}
	nack := &rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: c.ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers(nacked)}
	b, err := nack.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	local := c.t.link.(*plainLink).conn.LocalAddr().(*net.UDPAddr)
	if _, err := sink.WriteToUDP(b, local); err != nil {
		t.Fatal(err)
	}
	got := 0
	waitFor(t, "the retransmissions", 5*time.Second, func() bool {
		for _, p := range drainSink(t, sink) {
			if p.SSRC != c.rtxSsrc {
				continue
			}
			osn := binary.BigEndian.Uint16(p.Payload)
			want, ok := sent[osn]
			if !ok {
				t.Fatalf("RTX of seq %d, which was not sent", osn)
			}
			if string(p.Payload[2:]) != string(want) {
				t.Fatalf("RTX of seq %d: payload differs from the packet first sent", osn)
			}
			got++
		}
		return got >= len(nacked)
	})
	if got != len(nacked) {
		t.Fatalf("%d retransmissions, want %d", got, len(nacked))
	}
}
