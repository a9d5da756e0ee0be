package rtpstream

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

func videoSendConfig(rtx bool) SendConfig {
	c := SendConfig{SSRC: 3333, PayloadType: 101, ClockRate: 90000, MimeType: "video/VP8", UseNack: true, UsePli: true, InitialRtxSeq: 999}
	if rtx {
		c.RtxSSRC = 4444
		c.RtxPayloadType = 102
	}
	return c
}

func mkPacket(t testing.TB, seq uint16, ts uint32, marker bool, payload []byte, padding byte) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: seq, Timestamp: ts, SSRC: 3333, Marker: marker}, Payload: payload}
	if err := p.Header.SetExtension(1, []byte{0xAB}); err != nil {
		t.Fatal(err)
	}
	if padding > 0 {
		p.Header.Padding = true
		p.PaddingSize = padding
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func nackOf(seqs ...uint16) *rtcp.TransportLayerNack {
	return &rtcp.TransportLayerNack{MediaSSRC: 3333, Nacks: NackPairs(seqs, nil)}
}

func TestSendStreamNackRtx(t *testing.T) {
	s := NewSendStream(videoSendConfig(true))
	for i := 0; i < 10; i++ {
		pkt := mkPacket(t, uint16(100+i), uint32(i)*3000, i == 9, []byte{byte(i), 1, 2, 3}, byte(4*(i%2)))
		if r := s.SendPacket(pkt, int64(i)*33); r != SendAcceptedAndStored {
			t.Fatalf("packet %d: %v", i, r)
		}
	}
	if r := s.SendPacket(mkPacket(t, 105, 5*3000, false, []byte{5}, 0), 400); r != SendDiscarded {
		t.Fatal("duplicate not discarded")
	}

	var got []rtp.Packet
	collect := func(pkt []byte, isRtx bool) {
		if !isRtx {
			t.Fatal("expected RTX")
		}
		var p rtp.Packet
		if err := p.Unmarshal(append([]byte(nil), pkt...)); err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	s.ReceiveNack(nackOf(101, 109, 200), 500, collect)
	if len(got) != 2 {
		t.Fatalf("resent %d", len(got))
	}
	for i, want := range []uint16{101, 109} {
		p := got[i]
		if p.SSRC != 4444 || p.PayloadType != 102 || p.SequenceNumber != 1000+uint16(i) || p.Padding {
			t.Fatalf("rtx header %+v", p.Header)
		}
		if osn := binary.BigEndian.Uint16(p.Payload); osn != want {
			t.Fatalf("osn %d", osn)
		}
		if !bytes.Equal(p.Payload[2:], []byte{byte(want - 100), 1, 2, 3}) {
			t.Fatalf("payload % x", p.Payload)
		}
		if p.Marker != (want == 109) || p.Timestamp != uint32(want-100)*3000 || !bytes.Equal(p.GetExtension(1), []byte{0xAB}) {
			t.Fatalf("header not preserved %+v", p.Header)
		}
	}
	// Within RTT (default 100 ms): throttled.
	got = nil
	s.ReceiveNack(nackOf(101), 550, collect)
	if len(got) != 0 {
		t.Fatal("not throttled")
	}
	s.ReceiveNack(nackOf(101), 601, collect)
	if len(got) != 1 || got[0].SequenceNumber != 1002 {
		t.Fatal("not resent after RTT")
	}
	st := s.Stats(700)
	if st.NackCount != 3 || st.NackPacketCount != 5 || st.PacketsRetransmitted != 3 || st.PacketsRepaired != 2 || st.PacketsDiscarded != 0 {
		t.Fatalf("stats %+v", st)
	}

	// The decoding side restores the original packet.
	rtxPkt, _ := got[0].Marshal()
	orig, osn, ok := DecodeRTX(rtxPkt, 101, 3333)
	var p rtp.Packet
	if !ok || osn != 101 || p.Unmarshal(orig) != nil || p.SequenceNumber != 101 || p.SSRC != 3333 || p.PayloadType != 101 ||
		!bytes.Equal(p.Payload, []byte{1, 1, 2, 3}) {
		t.Fatalf("decode %v %d %+v", ok, osn, p)
	}
}

func TestSendStreamNackNoRtx(t *testing.T) {
	s := NewSendStream(videoSendConfig(false))
	orig := mkPacket(t, 7, 0, false, []byte{9, 9}, 0)
	s.SendPacket(orig, 0)
	n := 0
	s.ReceiveNack(nackOf(7), 10, func(pkt []byte, isRtx bool) {
		n++
		if isRtx || !bytes.Equal(pkt, orig) {
			t.Fatal("not the original packet")
		}
	})
	if n != 1 {
		t.Fatal("not resent")
	}
}

func TestSendStreamNackTooOld(t *testing.T) {
	s := NewSendStream(videoSendConfig(true))
	s.SendPacket(mkPacket(t, 1, 0, false, []byte{1}, 0), 0)
	s.SendPacket(mkPacket(t, 2, 90000*2+900, false, []byte{1}, 0), 2010) // 2.01 s later
	n := 0
	s.ReceiveNack(nackOf(1, 2), 2020, func([]byte, bool) { n++ })
	if n != 1 {
		t.Fatalf("resent %d", n)
	}
	// Audio keeps 1 s only.
	a := NewSendStream(SendConfig{SSRC: 1, ClockRate: 48000, MimeType: "audio/opus", UseNack: true})
	a.SendPacket(mkPacket(t, 1, 0, false, []byte{1}, 0), 0)
	a.SendPacket(mkPacket(t, 2, 48000+960, false, []byte{1}, 0), 1020)
	n = 0
	a.ReceiveNack(nackOf(1), 1030, func([]byte, bool) { n++ })
	if n != 0 {
		t.Fatal("audio packet kept too long")
	}
}

func TestSendStreamSenderReportAndRTT(t *testing.T) {
	s := NewSendStream(videoSendConfig(true))
	var sr rtcp.SenderReport
	wall := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if s.SenderReport(0, wall, &sr) {
		t.Fatal("SR before sending")
	}
	pkt := mkPacket(t, 1, 123456, false, make([]byte, 100), 0)
	s.SendPacket(pkt, 1000)
	if !s.SenderReport(1500, wall, &sr) {
		t.Fatal("no SR")
	}
	if sr.SSRC != 3333 || sr.RTPTime != 123456+45000 || sr.PacketCount != 1 || sr.OctetCount != uint32(len(pkt)) || sr.NTPTime != ToNTP(wall) {
		t.Fatalf("sr %+v", sr)
	}
	if FromNTP(sr.NTPTime).Sub(wall).Abs() > time.Microsecond {
		t.Fatal("ntp conversion")
	}
	// The receiver answers 100 ms after our SR, arriving at 1750: RTT 150 ms.
	rr := rtcp.ReceptionReport{SSRC: 3333, LastSenderReport: compactNTP(sr.NTPTime), Delay: 65536 / 10, FractionLost: 0}
	s.ReceiveReceiverReport(&rr, 1750)
	if rtt := s.RTT(); rtt < 149 || rtt > 151 {
		t.Fatalf("rtt %v", rtt)
	}
	// Unknown LSR keeps the previous RTT.
	rr.LastSenderReport = 42
	s.ReceiveReceiverReport(&rr, 1800)
	if rtt := s.RTT(); rtt < 149 || rtt > 151 {
		t.Fatalf("rtt %v", rtt)
	}
	// No SR once nothing was sent for 2 s.
	if s.SenderReport(3001, wall, &sr) {
		t.Fatal("SR for a stale stream")
	}
}

func TestSendStreamScore(t *testing.T) {
	tests := []struct {
		name     string
		lostPer  uint32 // packets lost per 100 sent
		want     uint8
		changed  bool
		reported uint64
	}{
		{"no loss", 0, 10, false, 0},
		{"5% loss", 5, 8, true, 150},
		{"40% loss", 40, 1, true, 1200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSendStream(videoSendConfig(false))
			seq := uint16(0)
			var total uint32
			changed := false
			for round := 0; round < 30; round++ {
				for i := 0; i < 100; i++ {
					seq++
					s.SendPacket(mkPacket(t, seq, uint32(seq)*900, false, []byte{1}, 0), int64(seq)*10)
				}
				total += tc.lostPer
				rr := rtcp.ReceptionReport{SSRC: 3333, TotalLost: total, FractionLost: uint8(tc.lostPer * 256 / 100)}
				if s.ReceiveReceiverReport(&rr, int64(seq)*10) {
					changed = true
				}
			}
			if s.Score() != tc.want || changed != tc.changed {
				t.Fatalf("score %d changed %v", s.Score(), changed)
			}
			if st := s.Stats(0); st.PacketsLost != tc.reported {
				t.Fatalf("lost %d", st.PacketsLost)
			}
		})
	}
}

func TestSendStreamStatsJSON(t *testing.T) {
	s := NewSendStream(videoSendConfig(true))
	s.SendPacket(mkPacket(t, 1, 0, false, make([]byte, 500), 0), 0)
	s.ReceiveKeyFrameRequest(false)
	s.ReceiveKeyFrameRequest(true)
	b, _ := json.Marshal(s.Stats(10))
	for _, k := range []string{`"type":"outbound-rtp"`, `"timestamp":10`, `"ssrc":3333`, `"rtxSsrc":4444`, `"kind":"video"`,
		`"mimeType":"video/VP8"`, `"packetsLost":0`, `"fractionLost":0`, `"packetsDiscarded":0`, `"packetsRetransmitted":0`,
		`"packetsRepaired":0`, `"nackCount":0`, `"nackPacketCount":0`, `"pliCount":1`, `"firCount":1`, `"score":10`,
		`"packetCount":1`, `"byteCount":`, `"bitrate":`, `"jitter":0`, `"roundTripTime":0`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("missing %s in %s", k, b)
		}
	}
	if strings.Contains(string(b), `"rid"`) {
		t.Error("empty rid serialized")
	}
}

func TestSendStreamPauseClearsBuffer(t *testing.T) {
	s := NewSendStream(videoSendConfig(true))
	s.SendPacket(mkPacket(t, 1, 0, false, []byte{1}, 0), 0)
	s.Pause()
	n := 0
	s.ReceiveNack(nackOf(1), 10, func([]byte, bool) { n++ })
	if n != 0 {
		t.Fatal("buffer not cleared")
	}
}

func TestSendStreamNoAlloc(t *testing.T) {
	s := NewSendStream(videoSendConfig(true))
	pkt := mkPacket(t, 0, 0, false, make([]byte, 1100), 0)
	nack := &rtcp.TransportLayerNack{Nacks: make([]rtcp.NackPair, 1)}
	var seq uint16
	var ts uint32
	now := int64(0)
	sink := 0
	fn := func(p []byte, _ bool) { sink += len(p) }
	step := func() {
		seq++
		ts += 900
		now += 10
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], ts)
		s.SendPacket(pkt, now)
		if seq%20 == 0 {
			nack.Nacks[0] = rtcp.NackPair{PacketID: seq - 5, LostPackets: 0x3}
			s.ReceiveNack(nack, now, fn)
		}
	}
	for i := 0; i < 5000; i++ {
		step()
	}
	if a := testing.AllocsPerRun(3000, step); a != 0 {
		t.Fatalf("allocs %v", a)
	}
	if sink == 0 {
		t.Fatal("nothing resent")
	}
}

func BenchmarkSendStreamSend(b *testing.B) {
	s := NewSendStream(videoSendConfig(true))
	pkt := mkPacket(b, 0, 0, false, make([]byte, 1100), 0)
	var seq uint16
	var ts uint32
	send := func(now int64) {
		seq++
		ts += 900
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], ts)
		s.SendPacket(pkt, now)
	}
	// Warm up: fill the retransmission buffer once.
	for i := 0; i < 5000; i++ {
		send(int64(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		send(int64(5000 + i))
	}
}

// A NACK for a packet that, resent now, would arrive more than
// MaxNackDelayMs after its newer neighbours gets nothing: under congestion
// it would only add to the queue.
func TestSendStreamNackTooLate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ageMs   uint32
		resends int
	}{
		{"fresh", 100, 1},
		{"just in time", MaxNackDelayMs - DefaultRttMs/2 - 10, 1},
		{"too late", MaxNackDelayMs, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSendStream(videoSendConfig(true))
			s.SendPacket(mkPacket(t, 1, 0, false, []byte{1}, 0), 0)
			s.SendPacket(mkPacket(t, 2, tc.ageMs*90, false, []byte{1}, 0), int64(tc.ageMs))
			n := 0
			s.ReceiveNack(nackOf(1), int64(tc.ageMs)+5, func([]byte, bool) { n++ })
			if n != tc.resends {
				t.Fatalf("resent %d, want %d", n, tc.resends)
			}
			if want := uint64(1 - tc.resends); s.NackTooLate() != want {
				t.Fatalf("NackTooLate = %d, want %d", s.NackTooLate(), want)
			}
		})
	}
}

// After SetResendFloor (a simulcast switch's key frame), NACKs for packets
// of the previous source get nothing for 2 s; the floor's own packet and
// later ones are resent.
func TestSendStreamResendFloor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		nack    []uint16
		atMs    int64
		resends int
	}{
		{"before the floor", []uint16{101, 102}, 200, 0},
		{"across the floor", []uint16{102, 103, 104}, 200, 2},
		{"floor expired", []uint16{101}, 103 + 2*MaxNackDelayMs, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := videoSendConfig(true)
			cfg.MaxRetransmissionDelayMs = 10000
			s := NewSendStream(cfg)
			for seq := uint16(100); seq < 106; seq++ {
				s.SendPacket(mkPacket(t, seq, uint32(seq)*90, false, []byte{1}, 0), int64(seq))
			}
			s.SetResendFloor(103, 103)
			n := 0
			s.ReceiveNack(nackOf(tc.nack...), tc.atMs, func([]byte, bool) { n++ })
			if n != tc.resends {
				t.Fatalf("resent %d, want %d", n, tc.resends)
			}
		})
	}
}
