package ortc

// H264 profile-level-id handling (RFC 6184 section 8.1), with the same
// decisions as the h264-profile-level-id package used by mediasoup: how the
// 3-byte hex string maps to a profile and level, the default when the
// parameter is absent, and how the answer level is chosen.

import "fmt"

// h264Profile enumerates the H264 profiles recognized by the parser.
type h264Profile int

const (
	h264ConstrainedBaseline h264Profile = iota + 1
	h264Baseline
	h264Main
	h264ConstrainedHigh
	h264High
	h264PredictiveHigh444
)

// h264Level is the level_idc value; level 1b gets the otherwise unused 0.
type h264Level int

const h264Level1b h264Level = 0

// Valid level_idc values besides 11 (which may mean 1b).
var h264PlainLevels = map[int]bool{
	10: true, 12: true, 13: true, 20: true, 21: true, 22: true, 30: true,
	31: true, 32: true, 40: true, 41: true, 42: true, 50: true, 51: true, 52: true,
}

type h264ProfileLevelId struct {
	profile h264Profile
	level   h264Level
}

// Profile used when profile-level-id is absent: Constrained Baseline 3.1
// (libwebrtc's backwards-compatible default rather than RFC 6184's).
var h264DefaultProfileLevelId = h264ProfileLevelId{h264ConstrainedBaseline, 31}

// h264ProfileRule recognizes a profile from profile_idc and the
// profile-iop byte. In pattern, '1'/'0' bits must match and 'x' is free.
type h264ProfileRule struct {
	idc     int
	pattern string
	profile h264Profile
}

// Order matters: the first matching rule wins.
var h264ProfileRules = []h264ProfileRule{
	{0x42, "x1xx0000", h264ConstrainedBaseline},
	{0x4d, "1xxx0000", h264ConstrainedBaseline},
	{0x58, "11xx0000", h264ConstrainedBaseline},
	{0x42, "x0xx0000", h264Baseline},
	{0x58, "10xx0000", h264Baseline},
	{0x4d, "0x0x0000", h264Main},
	{0x64, "00000000", h264High},
	{0x64, "00001100", h264ConstrainedHigh},
	{0xf4, "00000000", h264PredictiveHigh444},
}

// matches tests an 8-bit value against the bit pattern (MSB first).
func (r h264ProfileRule) matches(iop int) bool {
	for i := 0; i < 8; i++ {
		bit := (iop >> (7 - i)) & 1
		switch r.pattern[i] {
		case '1':
			if bit != 1 {
				return false
			}
		case '0':
			if bit != 0 {
				return false
			}
		}
	}
	return true
}

// jsParseIntHex mimics JavaScript's parseInt(s, 16): leading white space, an
// optional sign and an optional 0x prefix are skipped, then as many hex
// digits as possible are read. ok=false stands for NaN.
func jsParseIntHex(s string) (int64, bool) {
	rs := []rune(s)
	i := 0
	for i < len(rs) && isJSWhitespace(rs[i]) {
		i++
	}
	neg := false
	if i < len(rs) && (rs[i] == '+' || rs[i] == '-') {
		neg = rs[i] == '-'
		i++
	}
	if i+1 < len(rs) && rs[i] == '0' && (rs[i+1] == 'x' || rs[i+1] == 'X') {
		i += 2
	}
	var n int64
	digits := 0
	for ; i < len(rs); i++ {
		var d int64
		c := rs[i]
		switch {
		case c >= '0' && c <= '9':
			d = int64(c - '0')
		case c >= 'a' && c <= 'f':
			d = int64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = int64(c-'A') + 10
		default:
			i = len(rs)
			continue
		}
		n = n*16 + d
		digits++
	}
	if digits == 0 {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseH264ProfileLevelId parses a profile-level-id value. Only strings of
// exactly six (UTF-16) characters are considered; nil is returned for
// anything unrecognized.
func parseH264ProfileLevelId(v any) *h264ProfileLevelId {
	s, ok := v.(string)
	if !ok || utf16Len(s) != 6 {
		return nil
	}
	n, ok := jsParseIntHex(s)
	if !ok || n == 0 {
		// NaN behaves like 0 in the bit operations below and would be
		// rejected as level_idc 0 anyway.
		return nil
	}
	// Bitwise operators work on int32 in JavaScript.
	x := int32(n)
	levelIdc := int(x & 0xff)
	iop := int((x >> 8) & 0xff)
	idc := int((x >> 16) & 0xff)

	var level h264Level
	switch {
	case levelIdc == 11:
		// With constraint_set3_flag, level_idc 11 means level 1b.
		if iop&0x10 != 0 {
			level = h264Level1b
		} else {
			level = 11
		}
	case h264PlainLevels[levelIdc]:
		level = h264Level(levelIdc)
	default:
		return nil
	}
	for _, rule := range h264ProfileRules {
		if rule.idc == idc && rule.matches(iop) {
			return &h264ProfileLevelId{profile: rule.profile, level: level}
		}
	}
	return nil
}

// String renders the canonical 6-hex-digit form; "" when not representable.
func (p h264ProfileLevelId) String() string {
	if p.level == h264Level1b {
		switch p.profile {
		case h264ConstrainedBaseline:
			return "42f00b"
		case h264Baseline:
			return "42100b"
		case h264Main:
			return "4d100b"
		}
		return ""
	}
	var prefix string
	switch p.profile {
	case h264ConstrainedBaseline:
		prefix = "42e0"
	case h264Baseline:
		prefix = "4200"
	case h264Main:
		prefix = "4d00"
	case h264ConstrainedHigh:
		prefix = "640c"
	case h264High:
		prefix = "6400"
	case h264PredictiveHigh444:
		prefix = "f400"
	default:
		return ""
	}
	return fmt.Sprintf("%s%02x", prefix, int(p.level))
}

// parseSdpH264ProfileLevelId reads profile-level-id from codec parameters:
// the default profile when the value is falsy, nil when it is invalid.
func parseSdpH264ProfileLevelId(params map[string]any) *h264ProfileLevelId {
	v, ok := params["profile-level-id"]
	if !truthy(v, ok) {
		d := h264DefaultProfileLevelId
		return &d
	}
	return parseH264ProfileLevelId(v)
}

// h264IsSameProfile reports whether both parameter sets carry valid and equal
// H264 profiles (levels are not compared).
func h264IsSameProfile(a, b map[string]any) bool {
	pa := parseSdpH264ProfileLevelId(a)
	pb := parseSdpH264ProfileLevelId(b)
	return pa != nil && pb != nil && pa.profile == pb.profile
}

// h264LevelAsymmetryAllowed: level-asymmetry-allowed is true, 1 or "1".
func h264LevelAsymmetryAllowed(params map[string]any) bool {
	switch v := params["level-asymmetry-allowed"].(type) {
	case bool:
		return v
	case string:
		return v == "1"
	default:
		f, ok := toNumber(v)
		return ok && f == 1
	}
}

// h264LevelLess orders levels, placing 1b between 1 and 1.1.
func h264LevelLess(a, b h264Level) bool {
	if a == h264Level1b {
		return b != 10 && b != h264Level1b
	}
	if b == h264Level1b {
		return a != 10
	}
	return a < b
}

// h264AnswerProfileLevelId computes the profile-level-id to answer with, given
// the local (supported) and remote (offered) codec parameters. ok=false with
// a nil error means neither side has a profile-level-id (nothing to answer).
// An error is returned when either side is invalid or the profiles differ.
// The answer keeps the local level when both sides allow level asymmetry,
// otherwise the lower of the two levels; its string may be "" when that
// combination has no canonical form.
func h264AnswerProfileLevelId(local, remote map[string]any) (string, bool, error) {
	lv, lok := local["profile-level-id"]
	rv, rok := remote["profile-level-id"]
	if !truthy(lv, lok) && !truthy(rv, rok) {
		return "", false, nil
	}
	lp := parseSdpH264ProfileLevelId(local)
	rp := parseSdpH264ProfileLevelId(remote)
	if lp == nil {
		return "", false, typeErr("invalid local_profile_level_id")
	}
	if rp == nil {
		return "", false, typeErr("invalid remote_profile_level_id")
	}
	if lp.profile != rp.profile {
		return "", false, typeErr("H264 Profile mismatch")
	}
	level := lp.level
	if !(h264LevelAsymmetryAllowed(local) && h264LevelAsymmetryAllowed(remote)) {
		// Minimum of both levels; on ties (including 1 vs 1b) the remote wins.
		if !h264LevelLess(lp.level, rp.level) {
			level = rp.level
		}
	}
	return h264ProfileLevelId{profile: lp.profile, level: level}.String(), true, nil
}
