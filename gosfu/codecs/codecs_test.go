package codecs

import "testing"

func TestCodecFromMimeType(t *testing.T) {
	tests := []struct {
		mime string
		want Codec
	}{
		{"video/VP8", CodecVP8}, {"video/vp9", CodecVP9}, {"video/H264", CodecH264},
		{"video/H265", CodecH265}, {"video/AV1", CodecAV1}, {"audio/opus", CodecOpus},
		{"audio/PCMU", CodecUnknown}, {"VP8", CodecVP8}, {"", CodecUnknown},
	}
	for _, tc := range tests {
		if got := CodecFromMimeType(tc.mime); got != tc.want {
			t.Errorf("%q: got %v want %v", tc.mime, got, tc.want)
		}
	}
}

func TestIsKeyFrame(t *testing.T) {
	tests := []struct {
		name    string
		mime    string
		payload []byte
		want    bool
	}{
		// VP8: X=1,S=1,PID=0; I=1,L=1,T=1; 15 bit picture id; tl0; tid; payload header P=0.
		{"vp8 key full descriptor", "video/VP8", []byte{0x90, 0xE0, 0x81, 0x23, 0x05, 0x40, 0x10, 0x02, 0x00}, true},
		{"vp8 delta (P=1)", "video/VP8", []byte{0x90, 0xE0, 0x81, 0x23, 0x05, 0x40, 0x11, 0x02, 0x00}, false},
		{"vp8 key minimal", "video/VP8", []byte{0x10, 0x00, 0x00}, true},
		{"vp8 not start", "video/VP8", []byte{0x00, 0x00, 0x00}, false},
		{"vp8 start, partition 1", "video/VP8", []byte{0x11, 0x00}, false},
		{"vp8 no payload after descriptor", "video/VP8", []byte{0x90, 0x80, 0x11}, false},
		{"vp8 truncated", "video/VP8", []byte{0x90, 0x80}, false},
		{"vp8 empty", "video/VP8", nil, false},
		// VP9: I,L,B,E set, P=0: key frame of SID 0.
		{"vp9 key", "video/VP9", []byte{0xAC, 0x80, 0x01, 0x00, 0x00, 0xAA}, true},
		{"vp9 inter predicted", "video/VP9", []byte{0xEC, 0x80, 0x01, 0x00, 0x00, 0xAA}, false},
		{"vp9 key but SID 1", "video/VP9", []byte{0xAC, 0x80, 0x01, 0x02, 0x00, 0xAA}, false},
		{"vp9 key, not begin of frame", "video/VP9", []byte{0xA4, 0x80, 0x01, 0x00, 0x00, 0xAA}, false},
		{"vp9 truncated", "video/VP9", []byte{0xAC, 0x80}, false},
		// H264.
		{"h264 single SPS", "video/H264", []byte{0x67, 0x42, 0x00, 0x1f}, true},
		{"h264 single IDR", "video/H264", []byte{0x65, 0x88, 0x80}, true},
		{"h264 single non-IDR", "video/H264", []byte{0x41, 0x9a, 0x00}, false},
		{"h264 STAP-A SPS+PPS", "video/H264", []byte{0x78, 0x00, 0x04, 0x67, 0x42, 0x00, 0x1f, 0x00, 0x02, 0x68, 0xce}, true},
		{"h264 STAP-A SEI+slice", "video/H264", []byte{0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x41, 0x9a}, false},
		{"h264 FU-A IDR start", "video/H264", []byte{0x7C, 0x85, 0x88, 0x80}, true},
		{"h264 FU-A IDR middle", "video/H264", []byte{0x7C, 0x05, 0x88, 0x80}, false},
		{"h264 FU-A non-IDR start", "video/H264", []byte{0x7C, 0x81, 0x9a}, false},
		{"h264 empty", "video/H264", nil, false},
		// H265: payload header type in bits 1..6 of byte 0.
		{"h265 VPS", "video/H265", []byte{0x40, 0x01, 0x0c}, true},
		{"h265 IDR_W_RADL", "video/H265", []byte{0x26, 0x01, 0xaf}, true},
		{"h265 TRAIL_R", "video/H265", []byte{0x02, 0x01, 0xd0}, false},
		{"h265 AP VPS/SPS", "video/H265", []byte{0x60, 0x01, 0x00, 0x02, 0x40, 0x01, 0x00, 0x02, 0x42, 0x01}, true},
		{"h265 FU IDR start", "video/H265", []byte{0x62, 0x01, 0x93, 0xaf}, true},
		{"h265 FU IDR middle", "video/H265", []byte{0x62, 0x01, 0x13, 0xaf}, false},
		// AV1: aggregation header N bit, or a sequence header OBU.
		{"av1 N bit", "video/AV1", []byte{0x18, 0x32, 0x00}, true},
		{"av1 sequence header W=2", "video/AV1", []byte{0x20, 0x02, 0x0A, 0x0B, 0x32, 0x00}, true},
		{"av1 sequence header W=0", "video/AV1", []byte{0x00, 0x02, 0x0A, 0x0B, 0x02, 0x32, 0x00}, true},
		{"av1 frame only", "video/AV1", []byte{0x10, 0x32, 0x00, 0x01}, false},
		{"av1 continuation of sequence header bytes", "video/AV1", []byte{0x90, 0x0A, 0x00}, false},
		{"av1 bad leb128", "video/AV1", []byte{0x00, 0xFF, 0xFF}, false},
		// Audio never.
		{"opus", "audio/opus", []byte{0xFC, 0xFF, 0xFE}, false},
		{"unknown", "video/foo", []byte{0x10, 0x00}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsKeyFrame(tc.mime, tc.payload); got != tc.want {
				t.Fatalf("got %v want %v", got, tc.want)
			}
		})
	}
}

func TestVP8Descriptor(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    VP8Descriptor
		err     bool
	}{
		{"two byte picture id", []byte{0x90, 0xE0, 0x81, 0x23, 0x05, 0x60, 0x10},
			VP8Descriptor{Extended: true, Start: true, HasPictureID: true, PictureIDTwoBytes: true, PictureID: 0x123,
				HasTL0PicIdx: true, TL0PicIdx: 5, HasTID: true, TID: 1, LayerSync: true,
				PictureIDOffset: 2, TL0PicIdxOffset: 4, HeaderSize: 6, KeyFrame: true}, false},
		{"one byte picture id, K only", []byte{0xB0, 0x90, 0x11, 0x07, 0x01},
			VP8Descriptor{Extended: true, NonReference: true, Start: true, HasPictureID: true, PictureID: 0x11,
				HasKeyIdx: true, KeyIdx: 7, PictureIDOffset: 2, HeaderSize: 4}, false},
		{"no extension", []byte{0x03, 0xff}, VP8Descriptor{PartitionID: 3, HeaderSize: 1}, false},
		{"missing picture id byte", []byte{0x90, 0x80, 0x80}, VP8Descriptor{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d VP8Descriptor
			err := d.Unmarshal(tc.payload)
			if (err != nil) != tc.err {
				t.Fatalf("err %v", err)
			}
			if !tc.err && d != tc.want {
				t.Fatalf("got %+v\nwant %+v", d, tc.want)
			}
		})
	}
}

func TestVP9Descriptor(t *testing.T) {
	// Non flexible: I, L, B set; SS with 2 spatial layers and resolutions, G=1 with 1 picture.
	p := []byte{0xAA, 0x80, 0x05, 0x22, 0x07,
		0x38, 0x01, 0x40, 0x00, 0xB4, 0x02, 0x80, 0x01, 0x68, 0x01, 0x04, 0x01, 0xEE}
	var d VP9Descriptor
	if err := d.Unmarshal(p); err != nil {
		t.Fatal(err)
	}
	if !d.HasPictureID || d.PictureID != 5 || d.TID != 1 || d.SID != 1 || d.TL0PicIdx != 7 ||
		!d.HasSS || d.NumSpatialLayers != 2 || d.Widths[1] != 640 || d.Heights[0] != 180 || d.HeaderSize != 17 || d.KeyFrame {
		t.Fatalf("%+v", d)
	}
	// Flexible mode with two P_DIFFs.
	p = []byte{0xF8, 0x85, 0x00, 0x20, 0x03, 0x04, 0xEE}
	if err := d.Unmarshal(p); err != nil {
		t.Fatal(err)
	}
	if !d.F || d.HasTL0PicIdx || d.NumPDiffs != 2 || d.PDiffs[0] != 1 || d.PDiffs[1] != 2 || d.TID != 1 || d.HeaderSize != 6 || d.PictureID != 0x500 {
		t.Fatalf("%+v", d)
	}
	if s, tid := CodecVP9.Layers(p); s != 0 || tid != 1 {
		t.Fatal("layers")
	}
}

func TestVP8Rewriter(t *testing.T) {
	mk := func(pic uint16, tl0 uint8, key bool) []byte {
		b := byte(0x01)
		if key {
			b = 0x00
		}
		return []byte{0x90, 0xC0, 0x80 | byte(pic>>8), byte(pic), tl0, b}
	}
	var r VP8PictureIDRewriter
	var d VP8Descriptor
	check := func(p []byte, wantPic uint16, wantTl0 uint8) {
		t.Helper()
		if err := d.Unmarshal(p); err != nil {
			t.Fatal(err)
		}
		if !r.Rewrite(p, &d) {
			t.Fatal("rewrite failed")
		}
		var d2 VP8Descriptor
		_ = d2.Unmarshal(p)
		if d2.PictureID != wantPic || d2.TL0PicIdx != wantTl0 || d.PictureID != wantPic {
			t.Fatalf("got pic %d tl0 %d, want %d %d", d2.PictureID, d2.TL0PicIdx, wantPic, wantTl0)
		}
	}
	check(mk(100, 10, true), 100, 10)
	check(mk(101, 11, false), 101, 11)
	r.Sync() // switch to another source
	check(mk(32760, 200, true), 102, 12)
	check(mk(32767, 201, false), 109, 13)
	check(mk(0, 202, false), 110, 14) // wraps in the input space
	// Seven bit picture ids get the low bits.
	p := []byte{0x90, 0x80, 0x05, 0x00}
	_ = d.Unmarshal(p)
	out := make([]byte, 8)
	n := VP8ExpandPictureID(out, p, &d)
	if n != 5 || out[2] != 0x80 || out[3] != 0x05 || out[4] != 0x00 {
		t.Fatalf("expand %d % x", n, out)
	}
}

func TestNoAlloc(t *testing.T) {
	payloads := [][]byte{
		{0x90, 0xE0, 0x81, 0x23, 0x05, 0x40, 0x10, 0x02, 0x00},
		{0x78, 0x00, 0x04, 0x67, 0x42, 0x00, 0x1f, 0x00, 0x02, 0x68, 0xce},
		{0xAC, 0x80, 0x01, 0x00, 0x00, 0xAA},
		{0x20, 0x02, 0x0A, 0x0B, 0x32, 0x00},
	}
	mimes := []string{"video/VP8", "video/H264", "video/VP9", "video/AV1"}
	a := testing.AllocsPerRun(100, func() {
		for i, p := range payloads {
			if !IsKeyFrame(mimes[i], p) {
				panic("not key")
			}
		}
	})
	if a != 0 {
		t.Fatalf("allocs %v", a)
	}
}

func BenchmarkIsKeyFrameVP8(b *testing.B) {
	p := []byte{0x90, 0xE0, 0x81, 0x23, 0x05, 0x40, 0x10, 0x02, 0x00}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		IsKeyFrame("video/VP8", p)
	}
}

// TestVP8RewriterDrop: pictures of dropped frames leave no gap in the
// output picture ids; TL0PICIDX follows the TID 0 frames; late packets of a
// dropped picture are refused, late packets of a forwarded one keep their
// value.
func TestVP8RewriterDrop(t *testing.T) {
	// 15 bit picture id, TL0PICIDX, TID/Y.
	mk := func(pic uint16, tl0, tid uint8, y bool) []byte {
		tk := tid << 6
		if y {
			tk |= 0x20
		}
		return []byte{0x90, 0xE0, 0x80 | byte(pic>>8), byte(pic), tl0, tk, 0x01}
	}
	type step struct {
		pic     uint16
		tl0     uint8
		tid     uint8
		drop    bool   // the caller drops it
		sync    bool   // Sync before it
		ok      bool   // Map result
		wantPic uint16 // when ok
		wantTl0 uint8
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"keep TL0 only", []step{
			{pic: 32766, tl0: 7, tid: 0, ok: true, wantPic: 32766, wantTl0: 7},
			{pic: 32767, tl0: 7, tid: 2, drop: true},
			{pic: 32767, tl0: 7, tid: 2, drop: true}, // second packet of the frame
			{pic: 0, tl0: 7, tid: 1, drop: true},
			{pic: 1, tl0: 7, tid: 2, drop: true},
			{pic: 2, tl0: 8, tid: 0, ok: true, wantPic: 32767, wantTl0: 8},
			{pic: 2, tl0: 8, tid: 0, ok: true, wantPic: 32767, wantTl0: 8},
			{pic: 3, tl0: 8, tid: 2, drop: true},
			{pic: 0, tl0: 7, tid: 1, ok: false}, // late packet of a dropped picture
			{pic: 4, tl0: 8, tid: 1, drop: true},
			{pic: 5, tl0: 8, tid: 2, drop: true},
			{pic: 6, tl0: 9, tid: 0, ok: true, wantPic: 0, wantTl0: 9},
		}},
		{"back to all layers", []step{
			{pic: 100, tl0: 1, tid: 0, ok: true, wantPic: 100, wantTl0: 1},
			{pic: 101, tl0: 1, tid: 2, drop: true},
			{pic: 102, tl0: 1, tid: 1, drop: true},
			{pic: 103, tl0: 1, tid: 2, drop: true},
			{pic: 104, tl0: 2, tid: 0, ok: true, wantPic: 101, wantTl0: 2},
			{pic: 105, tl0: 2, tid: 2, ok: true, wantPic: 102, wantTl0: 2},
			{pic: 106, tl0: 2, tid: 1, ok: true, wantPic: 103, wantTl0: 2},
			{pic: 104, tl0: 2, tid: 0, ok: true, wantPic: 101, wantTl0: 2}, // retransmission
			{pic: 107, tl0: 2, tid: 2, ok: true, wantPic: 104, wantTl0: 2},
		}},
		{"sync after drops", []step{
			{pic: 10, tl0: 200, tid: 0, ok: true, wantPic: 10, wantTl0: 200},
			{pic: 11, tl0: 200, tid: 2, drop: true},
			{pic: 12, tl0: 200, tid: 1, drop: true},
			{pic: 5000, tl0: 3, tid: 0, sync: true, ok: true, wantPic: 11, wantTl0: 201},
			{pic: 5001, tl0: 3, tid: 2, ok: true, wantPic: 12, wantTl0: 201},
			{pic: 5002, tl0: 3, tid: 1, drop: true},
			{pic: 5003, tl0: 3, tid: 2, drop: true},
			{pic: 5004, tl0: 4, tid: 0, ok: true, wantPic: 13, wantTl0: 202},
		}},
		{"TID 0 drop moves TL0PICIDX", []step{
			{pic: 1, tl0: 50, tid: 0, ok: true, wantPic: 1, wantTl0: 50},
			{pic: 2, tl0: 51, tid: 0, drop: true},
			{pic: 3, tl0: 52, tid: 0, ok: true, wantPic: 2, wantTl0: 51},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r VP8PictureIDRewriter
			var d VP8Descriptor
			for i, s := range tc.steps {
				p := mk(s.pic, s.tl0, s.tid, false)
				if err := d.Unmarshal(p); err != nil {
					t.Fatal(err)
				}
				if s.sync {
					r.Sync()
				}
				if s.drop {
					r.Drop(&d)
					continue
				}
				ok := r.Rewrite(p, &d)
				if ok != s.ok {
					t.Fatalf("step %d (pic %d): ok %v, want %v", i, s.pic, ok, s.ok)
				}
				if !ok {
					continue
				}
				var d2 VP8Descriptor
				_ = d2.Unmarshal(p)
				if d2.PictureID != s.wantPic || d2.TL0PicIdx != s.wantTl0 {
					t.Fatalf("step %d (pic %d): got pic %d tl0 %d, want %d %d",
						i, s.pic, d2.PictureID, d2.TL0PicIdx, s.wantPic, s.wantTl0)
				}
			}
		})
	}
}

func TestVP8RewriterIsOld(t *testing.T) {
	var r VP8PictureIDRewriter
	var d VP8Descriptor
	at := func(pic uint16) *VP8Descriptor {
		_ = d.Unmarshal([]byte{0x90, 0xA0, 0x80 | byte(pic>>8), byte(pic), 0x00, 0x01})
		return &d
	}
	if r.IsOld(at(5)) {
		t.Fatal("nothing seen yet")
	}
	r.Map(at(5))
	r.Drop(at(6))
	if !r.IsOld(at(5)) || r.IsOld(at(6)) || r.IsOld(at(7)) {
		t.Fatal("IsOld around the newest picture")
	}
	r.Sync()
	if r.IsOld(at(1)) {
		t.Fatal("old after Sync")
	}
}
