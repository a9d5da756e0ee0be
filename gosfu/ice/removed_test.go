package ice

import (
	"fmt"
	"reflect"
	"testing"
)

// TestIceTupleRemovedCallback: every tuple the server drops (consent
// expired, one too many, RemoveTuple) is reported once to the owner, which
// must release it (mediasoup closes a TCP tuple's connection).
func TestIceTupleRemovedCallback(t *testing.T) {
	req, _ := buildReq(t, reqOpts{})
	for _, tc := range []struct {
		name string
		run  func(s *Server[string])
		want []string
	}{
		{"consent expired", func(s *Server[string]) {
			s.Process(req, "a", remoteOf("a"), 0)
			s.Process(req, "b", remoteOf("b"), 5_000)
			s.Tick(10_001) // a silent for more than 10 s, b not
			s.Tick(15_001)
		}, []string{"a", "b"}},
		{"too many tuples", func(s *Server[string]) {
			for i := 0; i <= MaxTuples; i++ {
				p := fmt.Sprintf("t%d", i)
				s.Process(req, p, remoteOf(p), int64(i))
			}
		}, []string{"t1"}}, // t0 is selected
		{"RemoveTuple", func(s *Server[string]) {
			s.Process(req, "a", remoteOf("a"), 0)
			s.RemoveTuple("a")
			s.RemoveTuple("a")
		}, []string{"a"}},
		{"Close", func(s *Server[string]) {
			s.Process(req, "a", remoteOf("a"), 0)
			s.Close() // the owner releases everything itself
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer[string](tUfrag, tPwd, 10)
			var got []string
			s.SetOnTupleRemoved(func(p string) { got = append(got, p) })
			tc.run(s)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("removed %v, want %v", got, tc.want)
			}
			for _, p := range got {
				if s.HasTuple(p) {
					t.Fatalf("%s reported removed but still a tuple", p)
				}
			}
		})
	}
}
