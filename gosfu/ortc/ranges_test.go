package ortc

import (
	"fmt"
	"math"
	"testing"
)

// Numbers that mediasoup would wrap or truncate into its fixed-width fields
// are refused with a TypeError naming the field; the edges of each range
// still pass.
func TestNumberRanges(t *testing.T) {
	// Values that are never valid for any field: not integers, not finite
	// (as Go callers may build them; JSON cannot carry NaN or Infinity).
	notIntegers := []any{1.5, -0.5, math.NaN(), math.Inf(1), math.Inf(-1)}

	type field struct {
		name string
		// build returns the validator's error for value v.
		build func(v any) error
		msg   string
		bad   []any // besides notIntegers
		good  []any
	}
	opus := func(extra map[string]any) map[string]any {
		c := map[string]any{"mimeType": "audio/opus", "payloadType": 111, "clockRate": 48000, "channels": 2}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	params := func(codec map[string]any, ext []any, enc []any) error {
		raw := map[string]any{"codecs": []any{codec}}
		if ext != nil {
			raw["headerExtensions"] = ext
		}
		if enc != nil {
			raw["encodings"] = enc
		}
		_, err := ValidateRtpParameters(raw)
		return err
	}
	capCodec := func(extra map[string]any) error {
		c := map[string]any{"mimeType": "audio/opus", "clockRate": 48000, "channels": 2}
		for k, v := range extra {
			c[k] = v
		}
		_, err := ValidateRtpCodecCapability(c)
		return err
	}
	fields := []field{
		{
			name:  "payloadType",
			build: func(v any) error { return params(opus(map[string]any{"payloadType": v}), nil, nil) },
			msg:   "invalid codec.payloadType",
			bad:   []any{-1, 128, 255, 300, 1 << 40},
			good:  []any{0, 96, 127, uint8(111)},
		},
		{
			name:  "preferredPayloadType",
			build: func(v any) error { return capCodec(map[string]any{"preferredPayloadType": v}) },
			msg:   "invalid codec.preferredPayloadType",
			bad:   []any{-1, 128, 300},
			good:  []any{0, 100, 127},
		},
		{
			name:  "codec clockRate",
			build: func(v any) error { return params(opus(map[string]any{"clockRate": v}), nil, nil) },
			msg:   "invalid codec.clockRate",
			bad:   []any{-1, 1 << 32, 1 << 40},
			good:  []any{0, 48000, math.MaxUint32},
		},
		{
			name:  "capability clockRate",
			build: func(v any) error { return capCodec(map[string]any{"clockRate": v}) },
			msg:   "invalid codec.clockRate",
			bad:   []any{-48000, 1 << 32},
			good:  []any{8000, 90000},
		},
		{
			name:  "codec channels",
			build: func(v any) error { return params(opus(map[string]any{"channels": v}), nil, nil) },
			msg:   "invalid codec.channels",
			bad:   []any{-1, 256, 258},
			good:  []any{0, 1, 2, 255},
		},
		{
			name:  "capability channels",
			build: func(v any) error { return capCodec(map[string]any{"channels": v}) },
			msg:   "invalid codec.channels",
			bad:   []any{-2, 258},
			good:  []any{1, 8},
		},
		{
			name: "ext.id",
			build: func(v any) error {
				return params(opus(nil), []any{map[string]any{"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": v}}, nil)
			},
			msg:  "invalid ext.id",
			bad:  []any{-1, 256, 257, 1000},
			good: []any{1, 14, 15, 255},
		},
		{
			name: "ext.preferredId",
			build: func(v any) error {
				_, err := ValidateRtpCapabilities(map[string]any{"headerExtensions": []any{
					map[string]any{"kind": "audio", "uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "preferredId": v},
				}})
				return err
			},
			msg:  "invalid ext.preferredId",
			bad:  []any{0, -1, 256, 257},
			good: []any{1, 14, 255},
		},
		{
			name: "encoding.codecPayloadType",
			build: func(v any) error {
				return params(opus(nil), nil, []any{map[string]any{"ssrc": 1, "codecPayloadType": v}})
			},
			msg:  "invalid encoding.codecPayloadType",
			bad:  []any{-1, 128, 367},
			good: []any{0, 111, 127},
		},
		{
			name:  "encoding.maxBitrate",
			build: func(v any) error { return params(opus(nil), nil, []any{map[string]any{"ssrc": 1, "maxBitrate": v}}) },
			msg:   "invalid encoding.maxBitrate",
			bad:   []any{-1, 1 << 53, 1e300},
			good:  []any{0, 500000, 1<<53 - 1},
		},
		{
			name: "sctp streamId",
			build: func(v any) error {
				_, err := ValidateSctpStreamParameters(map[string]any{"streamId": v})
				return err
			},
			msg:  "invalid params.streamId",
			bad:  []any{-1, -65536},
			good: []any{0, 1, 65534},
		},
		{
			name: "sctp maxPacketLifeTime",
			build: func(v any) error {
				_, err := ValidateSctpStreamParameters(map[string]any{"streamId": 1, "maxPacketLifeTime": v})
				return err
			},
			msg:  "invalid params.maxPacketLifeTime",
			bad:  []any{-1, 65536},
			good: []any{1, 65535},
		},
		{
			name: "sctp maxRetransmits",
			build: func(v any) error {
				_, err := ValidateSctpStreamParameters(map[string]any{"streamId": 1, "maxRetransmits": v})
				return err
			},
			msg:  "invalid params.maxRetransmits",
			bad:  []any{-3, 70000},
			good: []any{1, 65535},
		},
	}
	for _, f := range fields {
		for _, v := range append(append([]any{}, notIntegers...), f.bad...) {
			t.Run(fmt.Sprintf("%s=%v refused", f.name, v), func(t *testing.T) {
				assertErr(t, f.build(v), "TypeError", f.msg)
			})
		}
		for _, v := range f.good {
			t.Run(fmt.Sprintf("%s=%v accepted", f.name, v), func(t *testing.T) {
				if err := f.build(v); err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
			})
		}
	}
}

// Where mediasoup itself throws for a value, its message is kept.
func TestNumberRangesMediasoupMessages(t *testing.T) {
	cases := []struct {
		name string
		err  func() error
		msg  string
	}{
		{"ext id 0 (worker message)", func() error {
			_, err := ValidateRtpParameters(map[string]any{
				"codecs":           []any{},
				"headerExtensions": []any{map[string]any{"uri": "urn:x", "id": 0}},
			})
			return err
		}, "invalid id 0"},
		{"streamId 65535 (worker message)", func() error {
			_, err := ValidateSctpStreamParameters(map[string]any{"streamId": 65535})
			return err
		}, "streamId must not be greater than 65534"},
		{"streamId 70000 (not wrapped)", func() error {
			_, err := ValidateSctpStreamParameters(map[string]any{"streamId": 70000})
			return err
		}, "streamId must not be greater than 65534"},
		{"payloadType not a number", func() error {
			_, err := ValidateRtpParameters(map[string]any{"codecs": []any{
				map[string]any{"mimeType": "audio/opus", "payloadType": nil, "clockRate": 48000},
			}})
			return err
		}, "missing codec.payloadType"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assertErr(t, c.err(), "TypeError", c.msg) })
	}
	// A non-numeric channels keeps mediasoup's default rather than failing.
	c, err := ValidateRtpCodecCapability(map[string]any{"mimeType": "audio/opus", "clockRate": 48000, "channels": "2"})
	if err != nil || c.Channels != 1 {
		t.Fatalf("channels default: %v %v", c, err)
	}
	// Video codecs drop channels unchecked, as mediasoup does.
	if _, err := ValidateRtpCodecCapability(map[string]any{"mimeType": "video/VP8", "clockRate": 90000, "channels": 1.5}); err != nil {
		t.Fatal(err)
	}
}
