package rtpstream

import (
	"reflect"
	"testing"
)

func TestKeyFrameRequestManager(t *testing.T) {
	type step struct {
		at     int64
		op     string // need, force, recv, poll
		ssrc   uint32
		send   bool     // for need/force
		polled []uint32 // for poll
	}
	tests := []struct {
		name  string
		delay int64
		steps []step
	}{
		{"once, not received: retried once then given up", 0, []step{
			{0, "need", 1, true, nil},
			{999, "poll", 0, false, nil},
			{1000, "poll", 0, false, []uint32{1}},
			{2000, "poll", 0, false, nil},
			{2100, "need", 1, true, nil},
		}},
		{"many demands, one request", 0, []step{
			{0, "need", 1, true, nil}, {10, "need", 1, false, nil}, {20, "need", 1, false, nil},
			{1000, "poll", 0, false, []uint32{1}}, {2000, "poll", 0, false, nil},
		}},
		{"received on time", 0, []step{
			{0, "need", 1, true, nil}, {100, "recv", 1, false, nil}, {1000, "poll", 0, false, nil},
			{1001, "need", 1, true, nil},
		}},
		{"forced", 0, []step{
			{0, "need", 1, true, nil}, {10, "force", 1, true, nil}, {20, "recv", 1, false, nil},
			{2000, "poll", 0, false, nil},
		}},
		{"independent ssrcs", 0, []step{
			{0, "need", 1, true, nil}, {0, "need", 2, true, nil}, {5, "recv", 2, false, nil},
			{1000, "poll", 0, false, []uint32{1}},
		}},
		{"delay holds demands back", 500, []step{
			{0, "need", 1, true, nil},
			{10, "recv", 1, false, nil},
			{100, "need", 1, false, nil}, // within delay: remembered
			{499, "poll", 0, false, nil},
			{500, "poll", 0, false, []uint32{1}}, // delay expired with a demand
			{600, "recv", 1, false, nil},
			{700, "need", 1, false, nil}, // new delay window started at 500
			{1000, "poll", 0, false, []uint32{1}},
		}},
		{"delay without demand", 500, []step{
			{0, "need", 1, true, nil}, {10, "recv", 1, false, nil}, {500, "poll", 0, false, nil},
			{501, "need", 1, true, nil},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewKeyFrameRequestManager(tc.delay)
			for i, s := range tc.steps {
				switch s.op {
				case "need":
					if got := m.KeyFrameNeeded(s.ssrc, s.at); got != s.send {
						t.Fatalf("step %d: need=%v", i, got)
					}
				case "force":
					if got := m.ForceKeyFrameNeeded(s.ssrc, s.at); got != s.send {
						t.Fatalf("step %d: force=%v", i, got)
					}
				case "recv":
					m.KeyFrameReceived(s.ssrc)
				case "poll":
					if got := m.Poll(s.at, nil); !reflect.DeepEqual(got, s.polled) {
						t.Fatalf("step %d: poll=%v want %v", i, got, s.polled)
					}
				}
			}
		})
	}
}

func TestKeyFrameRequestManagerDeadline(t *testing.T) {
	m := NewKeyFrameRequestManager(300)
	if _, ok := m.NextDeadline(); ok {
		t.Fatal("deadline on idle manager")
	}
	m.KeyFrameNeeded(7, 100)
	if d, ok := m.NextDeadline(); !ok || d != 400 {
		t.Fatalf("deadline %d %v", d, ok)
	}
}
