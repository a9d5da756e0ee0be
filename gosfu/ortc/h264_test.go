package ortc

import "testing"

func TestParseH264ProfileLevelId(t *testing.T) {
	valid := []struct {
		in      string
		profile h264Profile
		level   h264Level
	}{
		{"42e01f", h264ConstrainedBaseline, 31},
		{"42E01F", h264ConstrainedBaseline, 31},
		{"4de01f", h264ConstrainedBaseline, 31},
		{"58f01f", h264ConstrainedBaseline, 31},
		{"42001f", h264Baseline, 31},
		{"58801f", h264Baseline, 31},
		{"4d001f", h264Main, 31},
		{"4d0032", h264Main, 50},
		{"64001f", h264High, 31},
		{"640c34", h264ConstrainedHigh, 52},
		{"f4001f", h264PredictiveHigh444, 31},
		{"42f00b", h264ConstrainedBaseline, h264Level1b},
		{"42100b", h264Baseline, h264Level1b},
		{"4d100b", h264Main, h264Level1b},
		{"42e00b", h264ConstrainedBaseline, 11},
		{"64000b", h264High, 11},
		{"42e00a", h264ConstrainedBaseline, 10},
	}
	for _, c := range valid {
		p := parseH264ProfileLevelId(c.in)
		if p == nil || p.profile != c.profile || p.level != c.level {
			t.Errorf("parse(%q) = %+v, want %v/%v", c.in, p, c.profile, c.level)
		}
	}
	invalid := []any{
		"", "42e01", "42e01f0", "zzzzzz", "000000", "42e0ff", "42e000", "ffe01f",
		"0x42e0", " 42e01", "42e01z", "-42e01", "640d1f", "4d201f", "42e01\u00e9",
		42.0, nil, true,
	}
	for _, in := range invalid {
		if p := parseH264ProfileLevelId(in); p != nil {
			t.Errorf("parse(%#v) = %+v, want nil", in, p)
		}
	}
}

func TestH264ProfileLevelIdString(t *testing.T) {
	cases := []struct {
		p    h264ProfileLevelId
		want string
	}{
		{h264ProfileLevelId{h264ConstrainedBaseline, 31}, "42e01f"},
		{h264ProfileLevelId{h264Baseline, 10}, "42000a"},
		{h264ProfileLevelId{h264Main, 52}, "4d0034"},
		{h264ProfileLevelId{h264ConstrainedHigh, 40}, "640c28"},
		{h264ProfileLevelId{h264High, 11}, "64000b"},
		{h264ProfileLevelId{h264PredictiveHigh444, 51}, "f40033"},
		{h264ProfileLevelId{h264ConstrainedBaseline, h264Level1b}, "42f00b"},
		{h264ProfileLevelId{h264Baseline, h264Level1b}, "42100b"},
		{h264ProfileLevelId{h264Main, h264Level1b}, "4d100b"},
		{h264ProfileLevelId{h264High, h264Level1b}, ""},
		{h264ProfileLevelId{h264Profile(99), 31}, ""},
	}
	for _, c := range cases {
		if got := c.p.String(); got != c.want {
			t.Errorf("%+v.String() = %q, want %q", c.p, got, c.want)
		}
	}
}

func TestH264IsSameProfile(t *testing.T) {
	cases := []struct {
		a, b map[string]any
		want bool
	}{
		{map[string]any{}, map[string]any{}, true},
		{nil, map[string]any{"profile-level-id": "42e01f"}, true},
		{map[string]any{"profile-level-id": ""}, map[string]any{"profile-level-id": "4de034"}, true},
		{map[string]any{"profile-level-id": "42e01f"}, map[string]any{"profile-level-id": "42001f"}, false},
		{map[string]any{"profile-level-id": "640c1f"}, map[string]any{"profile-level-id": "640c34"}, true},
		{map[string]any{"profile-level-id": "bad"}, map[string]any{"profile-level-id": "bad"}, false},
		{map[string]any{"profile-level-id": 42.0}, map[string]any{}, false},
		{map[string]any{"profile-level-id": 0.0}, map[string]any{}, true}, // 0 is falsy: default profile
	}
	for i, c := range cases {
		if got := h264IsSameProfile(c.a, c.b); got != c.want {
			t.Errorf("case %d: got %v", i, got)
		}
	}
}

func TestH264AnswerProfileLevelId(t *testing.T) {
	plid := func(v string, laa any) map[string]any {
		m := map[string]any{}
		if v != "" {
			m["profile-level-id"] = v
		}
		if laa != nil {
			m["level-asymmetry-allowed"] = laa
		}
		return m
	}
	cases := []struct {
		name          string
		local, remote map[string]any
		want          string
		ok            bool
		err           string
	}{
		{"both missing", plid("", nil), plid("", nil), "", false, ""},
		{"local missing uses default", plid("", nil), plid("42e01f", nil), "42e01f", true, ""},
		{"remote missing uses default", plid("42e034", nil), plid("", nil), "42e01f", true, ""},
		{"min level", plid("42e034", nil), plid("42e028", nil), "42e028", true, ""},
		{"asymmetry needs both (true)", plid("42e034", true), plid("42e028", 1.0), "42e034", true, ""},
		{"asymmetry needs both", plid("42e034", "1"), plid("42e028", nil), "42e028", true, ""},
		{"asymmetry 0 is not allowed", plid("42e034", 0.0), plid("42e028", 0.0), "42e028", true, ""},
		{"asymmetry string true is not allowed", plid("42e034", "true"), plid("42e028", "true"), "42e028", true, ""},
		{"invalid local", plid("xx", nil), plid("42e01f", nil), "", false, "invalid local_profile_level_id"},
		{"invalid remote", plid("42e01f", nil), plid("42e0ff", nil), "", false, "invalid remote_profile_level_id"},
		{"profile mismatch", plid("42e01f", nil), plid("64001f", nil), "", false, "H264 Profile mismatch"},
		{"local 1b below remote", plid("42f00b", nil), plid("42e01f", nil), "42f00b", true, ""},
		{"remote 1b vs local 3.1 keeps local", plid("42e01f", nil), plid("42f00b", nil), "42e01f", true, ""},
		{"remote 1b vs local 1 gives 1b", plid("42e00a", nil), plid("42f00b", nil), "42f00b", true, ""},
		{"high 1b unrepresentable", plid("64000b", nil), plid("64000b", nil), "64000b", true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok, err := h264AnswerProfileLevelId(c.local, c.remote)
			if c.err != "" {
				assertErr(t, err, "TypeError", c.err)
				return
			}
			if err != nil || got != c.want || ok != c.ok {
				t.Fatalf("got %q, %v, %v", got, ok, err)
			}
		})
	}
}

func TestJSParseIntHex(t *testing.T) {
	cases := []struct {
		in string
		n  int64
		ok bool
	}{
		{"42e01f", 0x42e01f, true}, {"0x1F", 0x1f, true}, {"  ff", 0xff, true},
		{"-a", -10, true}, {"+a", 10, true}, {"12zz", 0x12, true}, {"zz", 0, false},
		{"", 0, false}, {"0x", 0, false}, {"\u00a0\u3000b", 0xb, true},
	}
	for _, c := range cases {
		n, ok := jsParseIntHex(c.in)
		if n != c.n || ok != c.ok {
			t.Errorf("jsParseIntHex(%q) = %d, %v", c.in, n, ok)
		}
	}
}
