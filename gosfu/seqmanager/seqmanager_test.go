package seqmanager

import (
	"encoding/json"
	"os"
	"testing"
)

type step struct {
	Input    uint32 `json:"input"`
	Output   uint32 `json:"output"`
	Sync     bool   `json:"sync"`
	Drop     bool   `json:"drop"`
	MaxInput int64  `json:"maxInput"`
}

type vector struct {
	Name          string `json:"name"`
	Width         int    `json:"width"`
	Bits          uint8  `json:"bits"`
	InitialOutput uint32 `json:"initialOutput"`
	Steps         []step `json:"steps"`
}

// runSteps feeds steps to m: a sync step calls Sync(input-1) first, a drop
// step calls Drop(input), every other step calls Input and checks output.
func runSteps[T Unsigned](t *testing.T, name string, m *SeqManager[T], steps []step) {
	t.Helper()
	// A rejected (previously dropped) input leaves the last output as is, as
	// in mediasoup's test harness.
	var last T
	for i, s := range steps {
		in := T(s.Input)
		if s.Sync {
			m.Sync(in - 1)
		}
		if s.Drop {
			m.Drop(in)
			continue
		}
		out, ok := m.Input(in)
		if !ok {
			out = last
		}
		last = out
		if out != T(s.Output) {
			t.Fatalf("%s: step %d input %d: got output %d, want %d", name, i, s.Input, out, s.Output)
		}
		if s.MaxInput != -1 && int64(m.MaxInput()) != s.MaxInput {
			t.Fatalf("%s: step %d input %d: got maxInput %d, want %d", name, i, s.Input, m.MaxInput(), s.MaxInput)
		}
	}
}

// TestMediasoupVectors replays the input/output tables of mediasoup's
// SeqManager unit tests (extracted to testdata as plain data).
func TestMediasoupVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/mediasoup_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []vector
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors) < 50 {
		t.Fatalf("only %d vectors", len(vectors))
	}
	for _, v := range vectors {
		switch v.Width {
		case 8:
			runSteps(t, v.Name, NewBits(v.Bits, uint8(v.InitialOutput)), v.Steps)
		case 16:
			runSteps(t, v.Name, NewBits(v.Bits, uint16(v.InitialOutput)), v.Steps)
		default:
			t.Fatalf("unexpected width %d", v.Width)
		}
	}
}

func TestTable(t *testing.T) {
	tests := []struct {
		name    string
		bits    uint8
		initial uint16
		steps   []step
	}{
		{"ordered", 16, 0, []step{{0, 0, false, false, -1}, {1, 1, false, false, -1}, {2, 2, false, false, -1}}},
		{"wrap", 16, 0, []step{{65534, 65534, false, false, -1}, {65535, 65535, false, false, -1}, {0, 0, false, false, 0}, {1, 1, false, false, 1}}},
		{"drop fills hole", 16, 0, []step{{10, 10, false, false, -1}, {11, 0, false, true, -1}, {12, 11, false, false, -1}, {13, 12, false, false, -1}}},
		{"older packet before drop keeps its number", 16, 0, []step{{10, 10, false, false, -1}, {11, 11, false, false, -1}, {13, 13, false, false, -1}, {14, 0, false, true, -1}, {15, 14, false, false, -1}, {12, 12, false, false, -1}}},
		{"sync after switch", 16, 0, []step{{100, 100, false, false, -1}, {101, 101, false, false, -1}, {5000, 102, true, false, -1}, {5001, 103, false, false, -1}, {4999, 101, false, false, -1}}},
		{"initial output", 16, 1000, []step{{0, 1000, false, false, -1}, {1, 1001, false, false, -1}, {65535, 999, false, false, -1}}},
		{"15 bits wrap", 15, 0, []step{{32766, 32766, false, false, -1}, {32767, 32767, false, false, -1}, {0, 0, false, false, -1}}},
		{"drop across wrap", 16, 0, []step{{65534, 65534, false, false, -1}, {65535, 0, false, true, -1}, {0, 65535, false, false, -1}, {1, 0, false, false, -1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runSteps(t, tc.name, NewBits(tc.bits, tc.initial), tc.steps)
		})
	}
}

func TestDroppedInputRejected(t *testing.T) {
	m := New[uint16](0)
	m.Input(1)
	m.Drop(2)
	if _, ok := m.Input(2); ok {
		t.Fatal("dropped input accepted")
	}
	if out, ok := m.Input(3); !ok || out != 2 {
		t.Fatalf("got %d %v", out, ok)
	}
}

func TestManyRollOvers(t *testing.T) {
	for _, bits := range []uint8{16, 15} {
		m := NewBits[uint16](bits, 100)
		mask := uint16(1<<bits - 1)
		m.Sync(0xFFFF & mask)
		if out, _ := m.Input(0); out != 101 {
			t.Fatalf("bits %d: got %d", bits, out)
		}
		for j := 0; j < 3; j++ {
			for i := uint16(1); i < mask; i++ {
				out, ok := m.Input(i)
				want := (i + 1 + 100) & mask
				if !ok || out != want || m.MaxInput() != i {
					t.Fatalf("bits %d round %d input %d: got %d want %d (max %d)", bits, j, i, out, want, m.MaxInput())
				}
			}
		}
	}
}

func TestUint32(t *testing.T) {
	m := New[uint32](0)
	m.Input(0xFFFFFFFF)
	m.Drop(0)
	if out, _ := m.Input(1); out != 0 {
		t.Fatalf("got %d", out)
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b   uint16
		higher bool
	}{
		{0, 65000, true},
		{65000, 0, false},
		{1, 0, true},
		{0, 0, false},
		{32768, 0, false},
		{32767, 0, true},
	}
	for _, tc := range tests {
		if got := SeqIsHigher(tc.a, tc.b); got != tc.higher {
			t.Errorf("SeqIsHigher(%d,%d)=%v", tc.a, tc.b, got)
		}
		if tc.a != tc.b {
			if got := SeqIsLower(tc.b, tc.a); got != tc.higher {
				t.Errorf("SeqIsLower(%d,%d)=%v", tc.b, tc.a, got)
			}
		}
	}
	if !IsHigher[uint16](0, 32500, 0x7FFF) {
		t.Error("0 should be higher than 32500 in 15 bits")
	}
	if !TsIsHigher(5, 0xFFFFFFF0) || TsIsLower(5, 0xFFFFFFF0) {
		t.Error("timestamp wrap")
	}
}

func TestSteadyStateNoAlloc(t *testing.T) {
	m := New[uint16](0)
	var seq uint16
	allocs := testing.AllocsPerRun(1000, func() {
		seq++
		if seq%7 == 0 {
			m.Drop(seq)
			return
		}
		m.Input(seq)
	})
	if allocs != 0 {
		t.Fatalf("allocs %v", allocs)
	}
}

func BenchmarkInput(b *testing.B) {
	m := New[uint16](0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s := uint16(i)
		if i%10 == 0 {
			m.Drop(s)
			continue
		}
		m.Input(s)
	}
}

func TestTimestampMapper(t *testing.T) {
	var tm TimestampMapper
	if got := tm.Map(1000); got != 1000 {
		t.Fatalf("identity: %d", got)
	}
	tm.Map(4000)
	// New source starts at a totally different timestamp, 100 ms later.
	tm.SyncContinuous(900000, 100, 33, 90000)
	if got := tm.Map(900000); got != 4000+9000 {
		t.Fatalf("continuous: %d", got)
	}
	if got := tm.Map(903000); got != 16000 {
		t.Fatalf("after sync: %d", got)
	}
	// Tiny elapsed time still advances by the minimum step.
	tm.SyncContinuous(5, 0, 33, 90000)
	if got := tm.Map(5); got != 16000+2970 {
		t.Fatalf("min step: %d", got)
	}
	// Going back in time is detected.
	tm.SyncTo(100, 100) // offset 0
	extra, needed := tm.NeedsExtraOffset(100, 2970)
	if !needed || extra != 18970-100+2970 {
		t.Fatalf("extra %d %v", extra, needed)
	}
	tm.AddToOutput(extra)
	if got := tm.Map(100); got != 18970+2970 {
		t.Fatalf("after extra: %d", got)
	}
	if _, needed := tm.NeedsExtraOffset(100+3000, 1); needed {
		t.Fatal("should not need extra")
	}
	// Wrap-around.
	var w TimestampMapper
	w.SyncTo(10, 0xFFFFFFFF)
	if got := w.Map(11); got != 0 {
		t.Fatalf("wrap %d", got)
	}
}
