package rtpstream

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

func videoRecvConfig() RecvConfig {
	return RecvConfig{
		SSRC: 1111, PayloadType: 96, ClockRate: 90000, MimeType: "video/VP8",
		RtxSSRC: 2222, RtxPayloadType: 97, UseNack: true, UsePli: true,
	}
}

func recv(s *RecvStream, seq uint16, ts uint32, now int64) bool {
	h := rtp.Header{SequenceNumber: seq, Timestamp: ts, SSRC: 1111, PayloadType: 96}
	return s.ReceivePacket(&h, PacketInfo{Size: 1000, PayloadSize: 988}, now)
}

func TestRecvStreamSequenceValidation(t *testing.T) {
	tests := []struct {
		name      string
		seqs      []uint16
		accepted  []bool
		expected  uint32
		extMax    uint32
		discarded uint64
	}{
		{"in order", []uint16{10, 11, 12}, []bool{true, true, true}, 3, 12, 0},
		{"wrap", []uint16{65534, 65535, 0, 1}, []bool{true, true, true, true}, 4, 65536 + 1, 0},
		{"first seq 0", []uint16{0, 1}, []bool{true, true}, 2, 1, 0},
		{"reorder and duplicate", []uint16{10, 12, 11, 12}, []bool{true, true, true, true}, 3, 12, 0},
		{"gap counts as expected", []uint16{10, 20}, []bool{true, true}, 11, 20, 0},
		{"big jump discarded", []uint16{10, 11, 10000}, []bool{true, true, false}, 2, 11, 1},
		{"big jump then resync", []uint16{10, 11, 10000, 10001, 10002}, []bool{true, true, false, true, true}, 2, 10002, 1},
		{"too old discarded", []uint16{5000, 5001, 2000}, []bool{true, true, false}, 2, 5001, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewRecvStream(videoRecvConfig(), 0)
			for i, seq := range tc.seqs {
				if got := recv(s, seq, uint32(i)*3000, int64(i)*33); got != tc.accepted[i] {
					t.Fatalf("packet %d (seq %d): accepted %v", i, seq, got)
				}
			}
			if got := s.seq.expected(); got != tc.expected {
				t.Errorf("expected %d want %d", got, tc.expected)
			}
			rr := s.ReceiverReport(1000, 0)
			if rr.LastSequenceNumber != tc.extMax {
				t.Errorf("ext max %d want %d", rr.LastSequenceNumber, tc.extMax)
			}
			if st := s.Stats(1000); st.PacketsDiscarded != tc.discarded {
				t.Errorf("discarded %d want %d", st.PacketsDiscarded, tc.discarded)
			}
		})
	}
}

func TestRecvStreamReceiverReportLoss(t *testing.T) {
	s := NewRecvStream(videoRecvConfig(), 0)
	// 100 packets expected, 90 received.
	for i := 0; i < 100; i++ {
		if i%10 == 5 {
			continue
		}
		recv(s, uint16(1000+i), uint32(i)*3000, int64(i)*33)
	}
	rr := s.ReceiverReport(3300, 0)
	if rr.SSRC != 1111 || rr.TotalLost != 10 || rr.FractionLost != uint8((10*256+50)/100) || rr.LastSequenceNumber != 1099 {
		t.Fatalf("rr %+v", rr)
	}
	if rr.LastSenderReport != 0 || rr.Delay != 0 {
		t.Fatal("LSR without SR")
	}
	// Next interval: no loss.
	for i := 100; i < 150; i++ {
		recv(s, uint16(1000+i), uint32(i)*3000, int64(i)*33)
	}
	rr = s.ReceiverReport(5000, 0)
	if rr.TotalLost != 10 || rr.FractionLost != 0 {
		t.Fatalf("rr2 %+v", rr)
	}
	// Worst remote fraction lost replaces a better local one.
	for i := 150; i < 200; i++ {
		recv(s, uint16(1000+i), uint32(i)*3000, int64(i)*33)
	}
	rr = s.ReceiverReport(7000, 128)
	if rr.FractionLost != 128 || rr.TotalLost != 10+25 {
		t.Fatalf("rr3 %+v", rr)
	}
	st := s.Stats(7000)
	if st.PacketsLost != 10 || st.PacketCount != 190 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRecvStreamSenderReportAndLSR(t *testing.T) {
	s := NewRecvStream(videoRecvConfig(), 0)
	recv(s, 1, 90000, 0)
	ntp := uint64(0xAABBCCDD11223344)
	s.ReceiveSenderReport(&rtcp.SenderReport{SSRC: 1111, NTPTime: ntp, RTPTime: 90000, PacketCount: 1, OctetCount: 988}, 1000)
	rr := s.ReceiverReport(1500, 0)
	if rr.LastSenderReport != 0xCCDD1122 {
		t.Fatalf("LSR %x", rr.LastSenderReport)
	}
	if rr.Delay != 65536/2 {
		t.Fatalf("DLSR %d", rr.Delay)
	}
	// RTP -> NTP mapping: +1 s of RTP time is +1 s of NTP time.
	got, ok := s.RTPToNTP(90000 + 90000)
	if !ok || got != ntp+1<<32 {
		t.Fatalf("mapping %x %v", got, ok)
	}
	got, ok = s.RTPToNTP(90000 - 45000)
	if !ok || got != ntp-1<<31 {
		t.Fatalf("mapping back %x %v", got, ok)
	}
	if _, ok := s.RTPToNTP(90000 + 90000*11); ok {
		t.Fatal("mapping too far")
	}
	info, ok := s.LastSenderReport()
	if !ok || info.ReceivedAtMs != 1000 || info.RTPTime != 90000 {
		t.Fatalf("%+v", info)
	}
}

func TestRecvStreamJitter(t *testing.T) {
	tests := []struct {
		name      string
		arrivalMs []int64
		wantMin   uint32
		wantMax   uint32
	}{
		{"perfect pacing", []int64{0, 20, 40, 60, 80, 100}, 0, 0},
		{"alternating 10 ms late", []int64{0, 30, 40, 70, 80, 110, 120, 150, 160, 190, 200, 230, 240, 270, 280, 310, 320}, 200, 900},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := videoRecvConfig()
			cfg.ClockRate = 48000
			cfg.MimeType = "audio/opus"
			s := NewRecvStream(cfg, 0)
			for i, at := range tc.arrivalMs {
				h := rtp.Header{SequenceNumber: uint16(i), Timestamp: 1000 + uint32(i)*960}
				s.ReceivePacket(&h, PacketInfo{Size: 100, PayloadSize: 88}, 5000+at)
			}
			j := s.ReceiverReport(10000, 0).Jitter
			if j < tc.wantMin || j > tc.wantMax {
				t.Fatalf("jitter %d", j)
			}
		})
	}
}

func TestRecvStreamNackAndRtx(t *testing.T) {
	s := NewRecvStream(videoRecvConfig(), 0)
	recv(s, 100, 0, 0)
	recv(s, 103, 3000, 10)
	ev := s.TakeEvents()
	if ev&EventNackPending == 0 {
		t.Fatalf("events %b", ev)
	}
	var nack rtcp.TransportLayerNack
	if !s.CollectNack(10, &nack) || nack.MediaSSRC != 1111 || len(nack.Nacks) != 1 ||
		nack.Nacks[0].PacketID != 101 || nack.Nacks[0].LostPackets != 1 {
		t.Fatalf("nack %+v", nack)
	}
	if s.CollectNack(20, &nack) {
		t.Fatal("resent before RTT")
	}
	// 101 comes back through RTX.
	rtxHdr := rtp.Header{SequenceNumber: 5000, Timestamp: 0, SSRC: 2222, PayloadType: 97}
	if !s.ReceiveRtxPacket(&rtxHdr, 101, PacketInfo{Size: 1002, PayloadSize: 988}, 30) {
		t.Fatal("rtx not accepted")
	}
	// Same again: already recovered.
	if s.ReceiveRtxPacket(&rtxHdr, 101, PacketInfo{Size: 1002, PayloadSize: 988}, 31) {
		t.Fatal("duplicate rtx accepted")
	}
	// Wrong payload type.
	bad := rtxHdr
	bad.PayloadType = 98
	if s.ReceiveRtxPacket(&bad, 102, PacketInfo{Size: 1002, PayloadSize: 988}, 32) {
		t.Fatal("bad pt accepted")
	}
	st := s.Stats(40)
	if st.NackCount != 1 || st.NackPacketCount != 2 || st.PacketsRetransmitted != 2 || st.PacketsRepaired != 1 || st.RtxPacketsDiscarded != 1 {
		t.Fatalf("stats %+v", st)
	}
	// 102 will be NACKed again after the (default 100 ms) RTT.
	if !s.CollectNack(120, &nack) || len(nack.Nacks) != 1 || nack.Nacks[0].PacketID != 102 {
		t.Fatalf("retry %+v", nack)
	}
}

func TestRecvStreamNackWithoutRtx(t *testing.T) {
	cfg := videoRecvConfig()
	cfg.RtxSSRC = 0
	s := NewRecvStream(cfg, 0)
	recv(s, 1, 0, 0)
	recv(s, 3, 0, 0)
	recv(s, 2, 0, 5) // retransmission on the media SSRC
	st := s.Stats(10)
	if st.PacketsRetransmitted != 1 || st.PacketsRepaired != 1 {
		t.Fatalf("%+v", st)
	}
}

func TestRecvStreamKeyFrameRequest(t *testing.T) {
	s := NewRecvStream(videoRecvConfig(), 0)
	p, ok := s.RequestKeyFrame().(*rtcp.PictureLossIndication)
	if !ok || p.MediaSSRC != 1111 {
		t.Fatal("pli")
	}
	cfg := videoRecvConfig()
	cfg.UsePli = false
	cfg.UseFir = true
	s = NewRecvStream(cfg, 0)
	f, ok := s.RequestKeyFrame().(*rtcp.FullIntraRequest)
	if !ok || f.FIR[0].SequenceNumber != 1 {
		t.Fatal("fir")
	}
	f = s.RequestKeyFrame().(*rtcp.FullIntraRequest)
	if f.FIR[0].SequenceNumber != 2 || s.Stats(0).FirCount != 2 {
		t.Fatal("fir seq")
	}
	cfg.UseFir = false
	if NewRecvStream(cfg, 0).RequestKeyFrame() != nil {
		t.Fatal("no feedback negotiated")
	}
	// NACK list overflow asks for a key frame.
	s = NewRecvStream(videoRecvConfig(), 0)
	recv(s, 1, 0, 0)
	recv(s, 2500, 3000, 10)
	if s.TakeEvents()&EventKeyFrameNeeded == 0 {
		t.Fatal("key frame not needed")
	}
}

func TestRecvStreamScore(t *testing.T) {
	tests := []struct {
		name      string
		lossEvery int // 0: none
		want      uint8
	}{
		{"no loss", 0, 10},
		{"10% loss", 10, 6},
		{"50% loss", 2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewRecvStream(videoRecvConfig(), 0)
			seq := uint16(0)
			now := int64(0)
			for round := 0; round < 30; round++ {
				for i := 0; i < 100; i++ {
					seq++
					now += 10
					if tc.lossEvery > 0 && int(seq)%tc.lossEvery == 0 {
						continue
					}
					recv(s, seq, uint32(now*90), now)
				}
				s.ReceiveSenderReport(&rtcp.SenderReport{NTPTime: 1}, now)
			}
			if got := s.Score(); got != tc.want {
				t.Fatalf("score %d want %d", got, tc.want)
			}
		})
	}
}

func TestRecvStreamInactivity(t *testing.T) {
	s := NewRecvStream(videoRecvConfig(), 0)
	recv(s, 1, 0, 0)
	s.TakeEvents()
	if s.CheckInactivity(1000) {
		t.Fatal("inactive too early")
	}
	if !s.CheckInactivity(1500) || s.Score() != 0 || s.TakeEvents()&EventScoreChanged == 0 {
		t.Fatal("not inactive")
	}
	recv(s, 2, 3000, 1600)
	if s.Score() != 10 || s.TakeEvents()&EventScoreChanged == 0 || !s.Active() {
		t.Fatal("not reactivated")
	}
	// Padding only packets do not count as activity.
	h := rtp.Header{SequenceNumber: 3, Timestamp: 3000}
	s.ReceivePacket(&h, PacketInfo{Size: 255, PayloadSize: 0}, 3000)
	if !s.CheckInactivity(3100) {
		t.Fatal("padding counted as media")
	}
	s2 := NewRecvStream(videoRecvConfig(), 0)
	s2.Pause()
	if s2.CheckInactivity(10000) {
		t.Fatal("paused stream marked inactive")
	}
}

func TestRecvStreamStatsJSON(t *testing.T) {
	cfg := videoRecvConfig()
	cfg.Rid = "r0"
	cfg.SpatialLayers = 1
	cfg.TemporalLayers = 3
	s := NewRecvStream(cfg, 0)
	for i := 0; i < 100; i++ {
		h := rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(i) * 3000}
		s.ReceivePacket(&h, PacketInfo{Size: 1000, PayloadSize: 988, TemporalLayer: uint8(i % 2)}, int64(i*10))
	}
	st := s.Stats(1000)
	if st.Bitrate == 0 || st.BitrateByLayer["0.0"] == 0 || st.BitrateByLayer["0.1"] <= st.BitrateByLayer["0.0"] || st.BitrateByLayer["0.2"] != 0 {
		t.Fatalf("layers %+v", st.BitrateByLayer)
	}
	if st.ByteCount != 100*1000 {
		t.Fatalf("bytes %d", st.ByteCount)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"type":"inbound-rtp"`, `"timestamp":1000`, `"ssrc":1111`, `"rtxSsrc":2222`, `"rid":"r0"`,
		`"kind":"video"`, `"mimeType":"video/VP8"`, `"packetsLost":`, `"fractionLost":`, `"packetsDiscarded":`,
		`"packetsRetransmitted":`, `"packetsRepaired":`, `"nackCount":`, `"nackPacketCount":`, `"pliCount":`,
		`"firCount":`, `"score":10`, `"packetCount":100`, `"byteCount":100000`, `"bitrate":`, `"bitrateByLayer":`,
		`"jitter":`, `"roundTripTime":`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("missing %s in %s", k, b)
		}
	}
}

func TestRecvStreamNoAlloc(t *testing.T) {
	s := NewRecvStream(videoRecvConfig(), 0)
	h := rtp.Header{SSRC: 1111, PayloadType: 96}
	var nack rtcp.TransportLayerNack
	nack.Nacks = make([]rtcp.NackPair, 0, 8)
	now := int64(0)
	step := func() {
		h.SequenceNumber++
		if h.SequenceNumber%100 == 0 {
			h.SequenceNumber++ // loss
		}
		h.Timestamp += 900
		now += 5
		s.ReceivePacket(&h, PacketInfo{Size: 1200, PayloadSize: 1188}, now)
		if s.TakeEvents()&EventNackPending != 0 {
			s.CollectNack(now, &nack)
		}
	}
	for i := 0; i < 3000; i++ {
		step()
	}
	if a := testing.AllocsPerRun(3000, step); a != 0 {
		t.Fatalf("allocs %v", a)
	}
}

func BenchmarkRecvStreamReceive(b *testing.B) {
	s := NewRecvStream(videoRecvConfig(), 0)
	h := rtp.Header{SSRC: 1111, PayloadType: 96}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h.SequenceNumber++
		h.Timestamp += 900
		s.ReceivePacket(&h, PacketInfo{Size: 1200, PayloadSize: 1188}, int64(i))
		s.TakeEvents()
	}
}
