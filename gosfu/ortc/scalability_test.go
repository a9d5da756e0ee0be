package ortc

import (
	"regexp"
	"strconv"
	"testing"
)

// refScalabilityMode is the regexp ParseScalabilityMode used to be.
var refScalabilityModeRegexp = regexp.MustCompile(`^[LS]([1-9][0-9]?)T([1-9][0-9]?)(_KEY)?`)

func refParseScalabilityMode(s string) ScalabilityMode {
	m := refScalabilityModeRegexp.FindStringSubmatch(s)
	if m == nil {
		return ScalabilityMode{SpatialLayers: 1, TemporalLayers: 1}
	}
	spatial, _ := strconv.Atoi(m[1])
	temporal, _ := strconv.Atoi(m[2])
	return ScalabilityMode{SpatialLayers: spatial, TemporalLayers: temporal, Ksvc: m[3] != ""}
}

var scalabilitySeeds = []string{"", "L1T1", "L1T3", "S3T3", "L3T3_KEY", "L3T3_KEY_SHIFT", "L10T20", "L0T1", "L1T0", "L123T1",
	"L12T34_KEY", "L1T345", "l1t3", "X1T1", "L1", "L1T", "LT1", "L1T3_KE", "S2T1h", "L09T1", "L9T09", "L1T1 _KEY"}

func TestParseScalabilityModeMatchesRegexp(t *testing.T) {
	for _, s := range scalabilitySeeds {
		if got, want := ParseScalabilityMode(s), refParseScalabilityMode(s); got != want {
			t.Fatalf("%q: %+v, want %+v", s, got, want)
		}
	}
	alphabet := "LST_KEY019"
	for n := 0; n < 200000; n++ {
		b := make([]byte, n%9)
		x := n
		for i := range b {
			b[i] = alphabet[x%len(alphabet)]
			x /= len(alphabet)
		}
		if got, want := ParseScalabilityMode(string(b)), refParseScalabilityMode(string(b)); got != want {
			t.Fatalf("%q: %+v, want %+v", b, got, want)
		}
	}
}

func FuzzParseScalabilityMode(f *testing.F) {
	for _, s := range scalabilitySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ParseScalabilityMode(s), refParseScalabilityMode(s); got != want {
			t.Fatalf("%q: %+v, want %+v", s, got, want)
		}
	})
}
