package ice

import (
	"strings"
	"testing"

	"github.com/gosfu/gosfu/gosfu/logger"
)

type logRecord struct {
	level logger.Level
	tag   logger.Tag
	msg   string
}

func recordingLogger(level logger.Level, tags logger.Tag) (*logger.Logger, *[]logRecord) {
	var got []logRecord
	l := logger.New(level, tags, func(lv logger.Level, tag logger.Tag, _, msg string) {
		got = append(got, logRecord{lv, tag, msg})
	})
	return l, &got
}

// TestIceLogRefusedRateLimited floods a server with refused requests: a
// burst of warnings, then one per interval telling how many were
// suppressed.
func TestIceLogRefusedRateLimited(t *testing.T) {
	l, got := recordingLogger(logger.LevelWarn, logger.TagIce)
	s := NewServer[string](tUfrag, tPwd, 30)
	s.SetLogger(l.Named("Transport"), "t1")
	bad, _ := buildReq(t, reqOpts{pwd: "wrongpassword"})
	for i := 0; i < 100; i++ {
		if res := s.Process(bad, "p", remoteOf("p"), 1000); res.Valid {
			t.Fatal("a request with a wrong password was accepted")
		}
	}
	if len(*got) != logger.RateBurst {
		t.Fatalf("%d lines for 100 refused requests in 1 ms, want %d", len(*got), logger.RateBurst)
	}
	for _, r := range *got {
		if r.level != logger.LevelWarn || r.tag != logger.TagIce || !strings.Contains(r.msg, "401") || !strings.Contains(r.msg, "transportId:t1") {
			t.Fatalf("line %+v", r)
		}
	}
	s.Process(bad, "p", remoteOf("p"), 1000+logger.RateIntervalMs)
	if n := len(*got); n != logger.RateBurst+1 || !strings.Contains((*got)[n-1].msg, "suppressed:95") {
		t.Fatalf("after the interval: %+v", (*got)[len(*got)-1])
	}
}

// TestIceLogEvents checks the debug lines of a tuple's life and that
// nothing is written with the ice tag off.
func TestIceLogEvents(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tags  logger.Tag
		lines []string // substrings, in order
	}{
		{"ice on", logger.TagIce, []string{"ICE tuple added", "ICE consent expired"}},
		{"ice off", logger.TagDtls, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, got := recordingLogger(logger.LevelDebug, tc.tags)
			s := NewServer[string](tUfrag, tPwd, 10)
			s.SetLogger(l.Named("Transport"), "t1")
			b, _ := buildReq(t, reqOpts{useCandidate: true})
			if res := s.Process(b, "p", remoteOf("p"), 0); !res.Valid || !res.StateChanged {
				t.Fatalf("valid request: %+v", res)
			}
			if sc, _ := s.Tick(11_000); !sc || s.State() != StateDisconnected {
				t.Fatalf("consent did not expire: %s", s.State())
			}
			if len(*got) != len(tc.lines) {
				t.Fatalf("lines %+v, want %q", *got, tc.lines)
			}
			for i, want := range tc.lines {
				if !strings.Contains((*got)[i].msg, want) {
					t.Fatalf("line %d %q, want %q", i, (*got)[i].msg, want)
				}
			}
		})
	}
}
