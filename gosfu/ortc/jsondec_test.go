package ortc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// sameAny compares decoded trees, telling -0 from 0.
func sameAny(a, b any) bool {
	if !reflect.DeepEqual(a, b) {
		return false
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// checkParse: whatever ParseJSON accepts, encoding/json decodes to the same
// value without error; whatever encoding/json rejects, ParseJSON rejects.
func checkParse(t *testing.T, in []byte) bool {
	t.Helper()
	got, ok := ParseJSON(in)
	var want any
	err := json.Unmarshal(in, &want)
	if ok && (err != nil || !sameAny(got, want)) {
		t.Fatalf("%q: fast %#v, encoding/json %#v (%v)", in, got, want, err)
	}
	return ok
}

var jsonDecodeSeeds = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `-0.0`, `1e400`, `-1e-400`, `123456789012345678901`, `0.1`, `1E+2`, `1e-7`,
	`""`, `"a\"b"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"é"`, "\"\xff\"", "\"\x01\"", `"\x"`, `"\u12"`, `"\/"`,
	` { "a" : [ 1 , 2 , { "b" : null } ] } `, `{"a":1,"a":2}`, `{"a":1,}`, `[1,]`, `01`, `1.`, `.5`, `-`, `+1`, `1e`,
	`{"a" 1}`, `{1:2}`, `[1 2]`, `nul`, `truex`, `[` + strings.Repeat(`[`, 300) + strings.Repeat(`]`, 301),
	`{"consumerId":"c","producerId":"p","rtpCapabilities":{"codecs":[{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2,"parameters":{"useinbandfec":1},"rtcpFeedback":[{"type":"nack","parameter":""}]}],"headerExtensions":[]},"paused":false,"ignoreDtx":false,"pipe":false}`,
}

func randJSON(r *rand.Rand, depth int) string {
	switch n := r.IntN(10); {
	case n == 0 && depth < 4:
		var parts []string
		for k := r.IntN(4); k > 0; k-- {
			parts = append(parts, randJSON(r, depth+1))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case n == 1 && depth < 4:
		var parts []string
		for k := r.IntN(4); k > 0; k-- {
			key, _ := json.Marshal(randString(r))
			parts = append(parts, string(key)+":"+randJSON(r, depth+1))
		}
		return "{" + strings.Join(parts, ",") + "}"
	case n == 2:
		return []string{"true", "false", "null"}[r.IntN(3)]
	case n == 3:
		s, _ := json.Marshal(randString(r))
		return string(s)
	case n == 4:
		return `"` + randString(r) + `"`
	case n == 5:
		return fmt.Sprint(r.IntN(1000000) - 500000)
	default:
		f := jsonTestFloats[r.IntN(len(jsonTestFloats))]
		return []string{fmt.Sprint(f), fmt.Sprintf("%e", f), fmt.Sprintf("%E", -f), fmt.Sprintf("%.3f", f)}[r.IntN(4)]
	}
}

func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonDecodeSeeds {
		checkParse(t, []byte(s))
	}
	r := rand.New(rand.NewPCG(5, 6))
	accepted := 0
	for i := 0; i < 50000; i++ {
		s := randJSON(r, 0)
		if r.IntN(4) == 0 && len(s) > 0 {
			// A mutation: drop or change a byte.
			b := []byte(s)
			j := r.IntN(len(b))
			if r.IntN(2) == 0 {
				b = append(b[:j], b[j+1:]...)
			} else {
				const bytesSet = " \t\"\\{}[],:0e-.nx\xff"
				b[j] = bytesSet[r.IntN(len(bytesSet))]
			}
			s = string(b)
		}
		if checkParse(t, []byte(s)) {
			accepted++
		}
	}
	if accepted < 25000 {
		t.Fatalf("fast path took only %d of 50000 inputs", accepted)
	}
	// Valid, ASCII JSON as JSON.stringify writes it is always handled.
	for _, s := range []string{`{"a":[1,-2.5,1e-7,"x\ny",null,true,{}],"b":{"c":[]}}`, jsonDecodeSeeds[len(jsonDecodeSeeds)-1]} {
		if _, ok := ParseJSON([]byte(s)); !ok {
			t.Fatalf("not handled: %s", s)
		}
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonDecodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkParse(t, in)
	})
}

type listItem struct {
	X string `json:"x"`
	Y int    `json:"y,omitempty"`
}

type decodeTarget struct {
	S string          `json:"s"`
	B bool            `json:"b"`
	P *bool           `json:"p"`
	F float64         `json:"f"`
	Q *float64        `json:"q"`
	R json.RawMessage `json:"r"`
	A any             `json:"a"`
	L []listItem      `json:"l"`
}

// sliceField decodes a field with encoding/json into the slice in place,
// as encoding/json decodes it when it meets the field.
type sliceField struct{ p *[]listItem }

func (f sliceField) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, f.p) }

func (d *decodeTarget) fields() []JSONField {
	return []JSONField{{"s", &d.S}, {"b", &d.B}, {"p", &d.P}, {"f", &d.F}, {"q", &d.Q}, {"r", &d.R}, {"a", &d.A},
		{"l", sliceField{&d.L}}}
}

// checkDecodeObject: whatever DecodeJSONObject accepts, json.Unmarshal into
// the equivalent struct decodes the same way without error.
func checkDecodeObject(t *testing.T, in []byte) bool {
	t.Helper()
	var got, want decodeTarget
	if !DecodeJSONObject(in, got.fields()) {
		return false
	}
	if err := json.Unmarshal(in, &want); err != nil {
		t.Fatalf("%q: fast path accepted, encoding/json: %v", in, err)
	}
	gotA, wantA := got.A, want.A
	got.A, want.A = nil, nil
	if !reflect.DeepEqual(got, want) || !sameAny(gotA, wantA) {
		t.Fatalf("%q:\nfast %+v %#v\njson %+v %#v", in, got, gotA, want, wantA)
	}
	return true
}

var decodeObjectSeeds = []string{
	`{"s":"x","b":true,"p":false,"f":1.5,"r":{"a":[1]},"a":[1,"2"]}`,
	`{"s":null,"b":null,"p":null,"f":null,"r":null,"a":null}`,
	`{"s":"x","s":null}`, `{"p":true,"p":null}`, `{"S":"x"}`, `{"s\u0000":1}`, `{"\u0073":"x"}`, `{"ſ":"x"}`,
	`{"s":1}`, `{"b":"true"}`, `{"p":0}`, `{"f":"1"}`, `{"f":1e400}`, `{"x":1e400,"y":{"z":[true]}}`,
	`{"a":{"b":1e400}}`, ` {"s":"\u00e9"} `, `{"s":"a"} x`, `null`, `[]`, `{"s":"a",}`,
	`{"q":1,"q":null}`, `{"q":-0}`, `{"q":"1"}`, `{"l":[{"x":"a","y":2}],"l":[{"x":"b"}]}`, `{"l":null}`, `{"l":[{"x":1}]}`,
}

func TestDecodeJSONObjectMatchesEncodingJSON(t *testing.T) {
	for _, s := range decodeObjectSeeds {
		checkDecodeObject(t, []byte(s))
	}
	if !checkDecodeObject(t, []byte(decodeObjectSeeds[0])) || !checkDecodeObject(t, []byte(decodeObjectSeeds[1])) {
		t.Fatal("plain objects not handled")
	}
	r := rand.New(rand.NewPCG(7, 8))
	names := []string{"s", "b", "p", "f", "q", "r", "a", "l", "x", "S", "B"}
	for i := 0; i < 30000; i++ {
		var parts []string
		for k := r.IntN(5); k > 0; k-- {
			parts = append(parts, `"`+names[r.IntN(len(names))]+`":`+randJSON(r, 1))
		}
		checkDecodeObject(t, []byte("{"+strings.Join(parts, ",")+"}"))
	}
}

func FuzzDecodeJSONObject(f *testing.F) {
	for _, s := range decodeObjectSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkDecodeObject(t, in)
	})
}

func TestValidateRtpCapabilitiesJSONCache(t *testing.T) {
	caps := fuzzRouterCaps(t)
	raw, _ := json.Marshal(caps)
	a, ok, err := ValidateRtpCapabilitiesJSON(raw)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	b, _, _ := ValidateRtpCapabilitiesJSON(append([]byte(nil), raw...))
	if a != b {
		t.Fatal("not served from the cache")
	}
	want, _ := ValidateRtpCapabilities(decode(t, string(raw)))
	if !reflect.DeepEqual(a, want) {
		t.Fatal("cached capabilities differ")
	}
	// Errors are ValidateRtpCapabilities's, and not cached.
	for _, bad := range []string{``, `null`, `1`, `{"codecs":1}`, `{"codecs":[{"mimeType":"x"}]}`, `{"headerExtensions":[null]}`} {
		_, ok, err := ValidateRtpCapabilitiesJSON([]byte(bad))
		_, werr := ValidateRtpCapabilities(decode(t, bad))
		if !ok || err == nil || err.Error() != werr.Error() || JSErrorClass(err) != JSErrorClass(werr) {
			t.Fatalf("%s: %v / %v", bad, err, werr)
		}
	}
	if _, ok, _ := ValidateRtpCapabilitiesJSON([]byte(`{"codecs":[1e400]}`)); ok {
		t.Fatal("out-of-range number handled")
	}
	// Bounded.
	for i := 0; i < 3*capsCacheEntries; i++ {
		if _, _, err := ValidateRtpCapabilitiesJSON([]byte(fmt.Sprintf(`{"codecs":[],"x":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	capsCache.mu.Lock()
	n := len(capsCache.m)
	capsCache.mu.Unlock()
	if n > capsCacheEntries {
		t.Fatalf("%d entries", n)
	}
	if c, _, _ := ValidateRtpCapabilitiesJSON([]byte(fmt.Sprintf(`{"codecs":[],"x":%d}`, 3*capsCacheEntries-1))); c != cachedCaps([]byte(fmt.Sprintf(`{"codecs":[],"x":%d}`, 3*capsCacheEntries-1))) {
		t.Fatal("recent entry evicted")
	}
}

func BenchmarkConsumeCapabilities(b *testing.B) {
	caps := SupportedRtpCapabilities()
	raw, _ := json.Marshal(caps)
	body := []byte(`{"consumerId":"c","producerId":"p","rtpCapabilities":` + string(raw) + `,"paused":false,"ignoreDtx":false,"pipe":false}`)
	b.Logf("%d bytes", len(body))
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			var req struct {
				ConsumerID      string `json:"consumerId"`
				RtpCapabilities any    `json:"rtpCapabilities"`
			}
			_ = json.Unmarshal(body, &req)
			if _, err := ValidateRtpCapabilities(req.RtpCapabilities); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast-parse", func(b *testing.B) {
		for b.Loop() {
			var id string
			var capsRaw []byte
			if !DecodeJSONObject(body, []JSONField{{"consumerId", &id}, {"rtpCapabilities", &capsRaw}}) {
				b.Fatal("not handled")
			}
			v, _ := ParseJSON(capsRaw)
			if _, err := ValidateRtpCapabilities(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast-cached", func(b *testing.B) {
		for b.Loop() {
			var id string
			var capsRaw []byte
			if !DecodeJSONObject(body, []JSONField{{"consumerId", &id}, {"rtpCapabilities", &capsRaw}}) {
				b.Fatal("not handled")
			}
			if _, _, err := ValidateRtpCapabilitiesJSON(capsRaw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
