package codecs

import "testing"

func addSeeds(f *testing.F, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
}

func FuzzVP8(f *testing.F) {
	addSeeds(f, []byte{0x90, 0xE0, 0x81, 0x23, 0x05, 0x40, 0x10, 0x02, 0x00}, []byte{0x10, 0x00}, []byte{0x90, 0x80, 0x05, 0x00})
	f.Fuzz(func(t *testing.T, p []byte) {
		var d VP8Descriptor
		if d.Unmarshal(p) == nil {
			if d.HeaderSize > len(p) {
				t.Fatal("header beyond payload")
			}
			c := append([]byte(nil), p...)
			VP8Rewrite(c, &d, 0x7FFF, 0xFF)
			var r VP8PictureIDRewriter
			r.Rewrite(c, &d)
			r.IsOld(&d)
			r.Drop(&d)
			r.Map(&d)
			dst := make([]byte, len(p)+1)
			VP8ExpandPictureID(dst, p, &d)
		}
		VP8IsKeyFrame(p)
	})
}

func FuzzVP9(f *testing.F) {
	addSeeds(f, []byte{0xAC, 0x80, 0x01, 0x00, 0x00, 0xAA}, []byte{0xF8, 0x85, 0x00, 0x20, 0x03, 0x04, 0xEE},
		[]byte{0xAA, 0x80, 0x05, 0x22, 0x07, 0x38, 0x01, 0x40, 0x00, 0xB4, 0x02, 0x80, 0x01, 0x68, 0x01, 0x04, 0x01, 0xEE})
	f.Fuzz(func(t *testing.T, p []byte) {
		var d VP9Descriptor
		if d.Unmarshal(p) == nil && d.HeaderSize > len(p) {
			t.Fatal("header beyond payload")
		}
		VP9IsKeyFrame(p)
		CodecVP9.Layers(p)
	})
}

func FuzzH264(f *testing.F) {
	addSeeds(f, []byte{0x67, 0x42, 0x00, 0x1f}, []byte{0x78, 0x00, 0x04, 0x67, 0x42, 0x00, 0x1f, 0x00, 0x02, 0x68, 0xce},
		[]byte{0x7C, 0x85, 0x88, 0x80}, []byte{0x79, 0x00, 0x01, 0x00, 0x02, 0x65, 0x00})
	f.Fuzz(func(t *testing.T, p []byte) {
		_, _ = ParseH264(p)
		H264IsKeyFrame(p)
	})
}

func FuzzH265(f *testing.F) {
	addSeeds(f, []byte{0x40, 0x01, 0x0c}, []byte{0x60, 0x01, 0x00, 0x02, 0x40, 0x01, 0x00, 0x02, 0x42, 0x01}, []byte{0x62, 0x01, 0x93, 0xaf})
	f.Fuzz(func(t *testing.T, p []byte) {
		_, _ = ParseH265(p)
		H265IsKeyFrame(p)
	})
}

func FuzzAV1(f *testing.F) {
	addSeeds(f, []byte{0x18, 0x32, 0x00}, []byte{0x20, 0x02, 0x0A, 0x0B, 0x32, 0x00}, []byte{0x00, 0x02, 0x0A, 0x0B, 0x02, 0x32, 0x00}, []byte{0x00, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, p []byte) {
		_, _ = ParseAV1(p)
		AV1IsKeyFrame(p)
	})
}

func FuzzIsKeyFrame(f *testing.F) {
	f.Add("video/VP8", []byte{0x10, 0x00})
	f.Add("video/H264", []byte{0x7C, 0x85})
	f.Add("audio/opus", []byte{0x01})
	f.Fuzz(func(t *testing.T, mime string, p []byte) {
		c := CodecFromMimeType(mime)
		key := c.IsKeyFrame(p)
		sl, tl := c.Layers(p)
		k2, s2, t2 := c.Inspect(p)
		if k2 != key || s2 != sl || t2 != tl {
			t.Fatalf("Inspect = %v %d %d, IsKeyFrame and Layers = %v %d %d", k2, s2, t2, key, sl, tl)
		}
	})
}
