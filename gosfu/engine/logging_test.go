package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/gosfu/gosfu/gosfu/logger"
)

// logLine is one "log" event of the worker.
type logLine struct {
	Level string `json:"level"`
	Tag   string `json:"tag"`
	Name  string `json:"name"`
	Msg   string `json:"msg"`
}

func (r *pionEvents) logLines(t *testing.T) []logLine {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []logLine
	for _, e := range r.events {
		if e.target != WorkerTarget || e.name != "log" {
			continue
		}
		var l logLine
		if err := json.Unmarshal(e.data, &l); err != nil {
			t.Fatalf("log event %q: %v", e.data, err)
		}
		out = append(out, l)
	}
	return out
}

// hasTag tells whether a line was logged under tag (alone or with others).
func (l logLine) hasTag(tag string) bool {
	for _, t := range strings.Split(l.Tag, "|") {
		if t == tag {
			return true
		}
	}
	return false
}

var allLogTags = []string{"info", "ice", "dtls", "rtp", "srtp", "rtcp", "rtx", "bwe", "score", "simulcast", "svc", "sctp", "message"}

// TestLogTagsTwoPeerCall runs a pion publisher and subscriber through the
// engine and checks which lines the log settings let through: with every
// tag, ICE, DTLS, SRTP, RTP and RTCP lines (and a rejected STUN request's
// warning); without tags, no tagged line at all, warnings included (as
// mediasoup's MS_WARN_TAG); at warn level, the tagged warning only.
func TestLogTagsTwoPeerCall(t *testing.T) {
	for _, tc := range []struct {
		name     string
		level    string
		tags     []string
		wantTags []string // each must appear on some line
		tagged   bool     // whether tagged lines may appear at all
		debug    bool     // whether debug lines may appear
	}{
		{"debug all tags", "debug", allLogTags, []string{"ice", "dtls", "srtp", "rtp", "rtcp"}, true, true},
		{"debug no tags", "debug", nil, nil, false, true},
		{"warn all tags", "warn", allLogTags, []string{"ice"}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &pionEvents{}
			settings, _ := json.Marshal(map[string]any{"logLevel": tc.level, "logTags": tc.tags, "rtcMinPort": 40000, "rtcMaxPort": 49999})
			w, err := NewWorker(settings, rec)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close(); w.Wait() })
			routerID, caps := setupPionRouter(t, w)
			pubSub(t, w, rec, routerID, caps, pionCase{name: "udp"}, "", 1500*time.Millisecond, func(sendInfo, _ *webrtcTransportInfo) {
				// A request with a wrong password: refused with a 401 and,
				// when ice is on, a warning.
				c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sendInfo.IceCandidates[0].Port}
				bad := stunRequest(t, sendInfo.IceParameters.UsernameFragment, "wrongpassword", true, true, true)
				if r := exchange(t, c, to, bad, time.Second); r == nil || stunErrorCode(t, r) != 401 {
					t.Fatalf("wrong password: reply % x, want a 401", r)
				}
			})

			lines := rec.logLines(t)
			byTag := map[string]int{}
			for _, l := range lines {
				byTag[l.Level+":"+l.Tag]++
				if l.Tag != "" && !tc.tagged {
					t.Errorf("tagged line with logTags off: %+v", l)
				}
				if l.Level == "debug" && !tc.debug {
					t.Errorf("debug line at logLevel %s: %+v", tc.level, l)
				}
			}
			for _, tag := range tc.wantTags {
				found := false
				for _, l := range lines {
					found = found || l.hasTag(tag)
				}
				if !found {
					t.Errorf("no %s line", tag)
				}
			}
			if tc.tagged {
				refused := false
				for _, l := range lines {
					refused = refused || (l.Level == "warn" && l.hasTag("ice") && strings.Contains(l.Msg, "401"))
				}
				if !refused {
					t.Error("no warning for the refused STUN request")
				}
			}
			keys := make([]string, 0, len(byTag))
			for k := range byTag {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var b strings.Builder
			for _, k := range keys {
				fmt.Fprintf(&b, " %s=%d", k, byTag[k])
			}
			t.Logf("%d log lines (level:tag=count):%s", len(lines), b.String())
		})
	}
}

// TestLogHelpersDoNotAllocate: the per-packet log helpers allocate nothing
// when their line is off (by level or tag) or past its rate limit.
func TestLogHelpersDoNotAllocate(t *testing.T) {
	nack := &rtcp.TransportLayerNack{MediaSSRC: 1, Nacks: []rtcp.NackPair{{PacketID: 1, LostPackets: 3}}}
	pli := &rtcp.PictureLossIndication{MediaSSRC: 1}
	errSrtp := errors.New("srtp: failed")
	for _, tc := range []struct {
		name  string
		level logger.Level
		tags  []string
		burst bool // exhaust the rate limits first
	}{
		{"level none", logger.LevelNone, allLogTags, false},
		{"tags off", logger.LevelDebug, nil, false},
		{"rate-limited", logger.LevelDebug, allLogTags, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := 0
			l := logger.New(tc.level, logger.ParseTags(tc.tags), func(logger.Level, logger.Tag, string, string) { lines++ })
			tr := &Transport{id: "t1", log: l.Named("Transport")}
			run := func() {
				tr.logUnknownSsrc(1234, 96, 1000)
				tr.logSrtpError(false, true, errSrtp, 1000)
				tr.logDrop(logger.LevelWarn, logger.TagRtp, &tr.logRL.badRtp, 1000, "bad RTP")
				tr.logRtcpFeedback(pli, 1, nil, 1000)
				tr.logRtcpFeedback(nack, 1, nil, 1000)
			}
			if tc.burst {
				for i := 0; i < logger.RateBurst; i++ {
					run()
				}
				if lines == 0 {
					t.Fatal("nothing logged before the rate limit")
				}
			}
			lines = 0
			if a := testing.AllocsPerRun(100, run); a != 0 {
				t.Fatalf("%v allocations per run", a)
			}
			if lines != 0 {
				t.Fatalf("%d lines written", lines)
			}
		})
	}
}
