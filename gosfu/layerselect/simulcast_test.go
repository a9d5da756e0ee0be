package layerselect

import "testing"

func TestSimulcastTarget(t *testing.T) {
	for _, tc := range []struct {
		name      string
		preferred int
		active    []bool
		bitrates  []uint32
		limit     uint64
		want      int
	}{
		{"preferred active", 2, []bool{true, true, true}, []uint32{1, 2, 3}, 0, 2},
		{"preferred inactive", 2, []bool{true, true, false}, []uint32{1, 2, 0}, 0, 1},
		{"only lowest active", 2, []bool{true, false, false}, []uint32{1, 0, 0}, 0, 0},
		{"none active", 1, []bool{false, false}, []uint32{0, 0}, 0, 1},
		{"higher active ignored", 0, []bool{false, true}, []uint32{0, 5}, 0, 0},
		{"preferred beyond streams", 3, []bool{true, true}, []uint32{1, 2}, 0, 1},
		{"limit skips top", 2, []bool{true, true, true}, []uint32{100, 500, 2000}, 600, 1},
		{"limit at bitrate", 2, []bool{true, true, true}, []uint32{100, 500, 2000}, 2000, 2},
		{"limit below all", 2, []bool{true, true, true}, []uint32{100, 500, 2000}, 50, 0},
		{"limit below all, lowest inactive", 2, []bool{false, true, true}, []uint32{0, 500, 2000}, 50, 1},
		{"no streams", 0, nil, nil, 0, 0},
		{"bitrates short", 1, []bool{true, true}, []uint32{1}, 10, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SimulcastTarget(tc.preferred, tc.active, tc.bitrates, tc.limit); got != tc.want {
				t.Fatalf("SimulcastTarget = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSwitchTimestampOffset(t *testing.T) {
	const second = uint64(1) << 32
	for _, tc := range []struct {
		name            string
		lastOut, newTs  uint32
		oldNtp, newNtp  uint64
		haveNtp         bool
		clockRate       uint32
		wantFirstOutput uint32 // newTs + offset
	}{
		{"no ntp: one frame later", 1000, 50000, 0, 0, false, 90000, 1000 + 3000},
		{"ntp: capture time", 1000, 50000, 10 * second, 10*second + second/2, true, 90000, 1000 + 45000},
		{"ntp older: one frame later", 1000, 50000, 10 * second, 9 * second, true, 90000, 1000 + 3000},
		{"ntp equal: one frame later", 1000, 50000, 10 * second, 10 * second, true, 90000, 1000 + 3000},
		{"wraps", 0xFFFFFF00, 10, 0, 0, false, 90000, 3000 - 0x100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			off := SwitchTimestampOffset(tc.lastOut, tc.newTs, tc.oldNtp, tc.newNtp, tc.haveNtp, tc.clockRate)
			if got := tc.newTs + off; got != tc.wantFirstOutput {
				t.Fatalf("first output timestamp = %d, want %d", got, tc.wantFirstOutput)
			}
		})
	}
}
