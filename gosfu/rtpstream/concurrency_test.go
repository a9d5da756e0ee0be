package rtpstream

import (
	"sync"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// TestConcurrentStats reads stats from other goroutines while the packet
// goroutine drives the streams (run with -race).
func TestConcurrentStats(t *testing.T) {
	r := NewRecvStream(videoRecvConfig(), 0)
	s := NewSendStream(videoSendConfig(true))
	pkt := mkPacket(t, 0, 0, false, make([]byte, 200), 0)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				_ = r.Stats(1)
				_ = r.Score()
				_ = s.Stats(1)
				_ = s.RTT()
			}
		}()
	}
	h := rtp.Header{SSRC: 1111}
	for i := 0; i < 3000; i++ {
		h.SequenceNumber = uint16(i * 2) // every other packet lost
		h.Timestamp = uint32(i * 900)
		r.ReceivePacket(&h, PacketInfo{Size: 200, PayloadSize: 188}, int64(i))
		var nack rtcp.TransportLayerNack
		r.CollectNack(int64(i), &nack)
		pkt[2], pkt[3] = byte(i>>8), byte(i)
		s.SendPacket(pkt, int64(i))
		if i%10 == 0 {
			s.ReceiveNack(&rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: uint16(i - 3)}}}, int64(i), func([]byte, bool) {})
		}
	}
	close(done)
	wg.Wait()
}
