package logger

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestFilter(t *testing.T) {
	var got []string
	l := New(LevelWarn, 0, func(level Level, _ Tag, name, msg string) { got = append(got, level.String()+":"+name+":"+msg) })
	n := l.Named("X")
	n.Debug("d")
	n.Warn("w%d", 1)
	n.Error("e")
	l.Set(LevelDebug, ParseTags([]string{"ice", "bogus"}))
	n.DebugTag(TagIce, "ice")
	n.DebugTag(TagDtls, "dtls")
	n.Debug("plain")
	want := []string{"warn:X:w1", "error:X:e", "debug:X:ice", "debug:X:plain"}
	if len(got) != len(want) {
		t.Fatalf("got %v want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v want %v", got, want)
		}
	}
}

func TestParseLevel(t *testing.T) {
	for _, tc := range []struct {
		in  string
		ok  bool
		out Level
	}{{"debug", true, LevelDebug}, {"warn", true, LevelWarn}, {"error", true, LevelError}, {"none", true, LevelNone}, {"foo", false, 0}} {
		l, err := ParseLevel(tc.in)
		if (err == nil) != tc.ok || (tc.ok && l != tc.out) {
			t.Errorf("%q: %v %v", tc.in, l, err)
		}
	}
}

func TestPionFactory(t *testing.T) {
	var got []string
	l := New(LevelDebug, TagDtls, func(level Level, _ Tag, name, msg string) { got = append(got, level.String()+":"+name+":"+msg) })
	pl := l.PionFactory(TagDtls).NewLogger("dtls")
	pl.Tracef("hidden %d", 1)
	pl.Debugf("hello %d", 2)
	pl.Warn("careful")
	l.Set(LevelWarn, 0)
	pl.Infof("dropped")
	pl.Errorf("bad %s", "thing")
	want := []string{"debug:pion:dtls:hello 2", "warn:pion:dtls:careful", "error:pion:dtls:bad thing"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v want %v", got, want)
		}
	}
}

func TestEnabledByLevelAndTag(t *testing.T) {
	for _, tc := range []struct {
		name   string
		level  Level
		tags   []string
		lvl    Level
		tag    Tag
		expect bool
	}{
		{"debug tag on", LevelDebug, []string{"ice"}, LevelDebug, TagIce, true},
		{"debug tag off", LevelDebug, []string{"ice"}, LevelDebug, TagDtls, false},
		{"debug untagged", LevelDebug, nil, LevelDebug, 0, true},
		{"debug at warn level", LevelWarn, []string{"ice"}, LevelDebug, TagIce, false},
		{"any of two tags", LevelDebug, []string{"rtx"}, LevelDebug, TagRtp | TagRtx, true},
		{"none of two tags", LevelDebug, []string{"sctp"}, LevelDebug, TagRtp | TagRtx, false},
		{"tagged warn needs tag", LevelWarn, nil, LevelWarn, TagSrtp, false},
		{"tagged warn with tag", LevelWarn, []string{"srtp"}, LevelWarn, TagSrtp, true},
		{"tagged warn at debug", LevelDebug, []string{"srtp"}, LevelWarn, TagSrtp, true},
		{"untagged warn", LevelWarn, nil, LevelWarn, 0, true},
		{"warn at error level", LevelError, []string{"srtp"}, LevelWarn, TagSrtp, false},
		{"error ignores tags", LevelError, nil, LevelError, TagRtp, true},
		{"level none", LevelNone, []string{"rtp"}, LevelError, 0, false},
		{"every tag name", LevelDebug, []string{"info", "ice", "dtls", "rtp", "srtp", "rtcp", "rtx", "bwe", "score", "simulcast", "svc", "sctp", "message"}, LevelDebug, TagMessage, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lines int
			l := New(tc.level, ParseTags(tc.tags), func(Level, Tag, string, string) { lines++ })
			if got := l.Enabled(tc.lvl, tc.tag); got != tc.expect {
				t.Fatalf("Enabled(%v, %#x) = %v, want %v", tc.lvl, tc.tag, got, tc.expect)
			}
			n := l.Named("X")
			switch tc.lvl {
			case LevelDebug:
				n.Debugf(tc.tag, "line %d", 1)
			case LevelWarn:
				n.Warnf(tc.tag, "line %d", 1)
			case LevelError:
				n.Error("line %d", 1)
			}
			if want := map[bool]int{true: 1, false: 0}[tc.expect]; lines != want {
				t.Fatalf("wrote %d lines, want %d", lines, want)
			}
		})
	}
}

func TestSetSwitchesAtOnce(t *testing.T) {
	l := New(LevelDebug, TagIce, func(Level, Tag, string, string) {})
	if !l.Enabled(LevelDebug, TagIce) || l.Level() != LevelDebug || l.Tags() != TagIce {
		t.Fatal("initial settings not applied")
	}
	l.Set(LevelWarn, TagRtp|TagRtcp)
	if l.Enabled(LevelDebug, TagRtp) || !l.Enabled(LevelWarn, TagRtcp) || l.Enabled(LevelWarn, TagIce) {
		t.Fatal("new settings not applied")
	}
	var nilLogger *Logger
	var nilNamed *Named
	if nilLogger.Enabled(LevelError, 0) || nilNamed.On(LevelError, 0) {
		t.Fatal("nil logger enabled")
	}
	nilNamed.Debugf(TagIce, "no panic %d", 1)
}

func TestRateLimit(t *testing.T) {
	var r RateLimit
	now := int64(1000)
	for i := 0; i < RateBurst; i++ {
		if ok, skipped := r.Allow(now); !ok || skipped != 0 {
			t.Fatalf("burst line %d refused", i)
		}
	}
	for i := 0; i < 100; i++ {
		if ok, _ := r.Allow(now + int64(i)); ok {
			t.Fatalf("line %d past the burst allowed", i)
		}
	}
	ok, skipped := r.Allow(now + RateIntervalMs)
	if !ok || skipped != 100 {
		t.Fatalf("after the interval: ok=%v skipped=%d, want true 100", ok, skipped)
	}
	if ok, _ := r.Allow(now + RateIntervalMs + 1); ok {
		t.Fatal("second line in the interval allowed")
	}
}

func TestRateLimitConcurrent(t *testing.T) {
	var r RateLimit
	var passed atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				if ok, _ := r.Allow(5000); ok {
					passed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := passed.Load(); n != RateBurst {
		t.Fatalf("%d lines passed, want %d", n, RateBurst)
	}
}

func TestTagString(t *testing.T) {
	for _, tc := range []struct {
		tag  Tag
		want string
	}{
		{0, ""},
		{TagIce, "ice"},
		{TagRtcp | TagRtx, "rtcp|rtx"},
		{ParseTags([]string{"message", "info"}), "info|message"},
	} {
		if got := tc.tag.String(); got != tc.want {
			t.Errorf("%#x: %q, want %q", uint32(tc.tag), got, tc.want)
		}
	}
	var gotTag Tag
	l := New(LevelDebug, TagRtx, func(_ Level, tag Tag, _, _ string) { gotTag = tag })
	l.Named("X").Debugf(TagRtcp|TagRtx, "x")
	if gotTag != TagRtcp|TagRtx {
		t.Fatalf("sink got tag %v", gotTag)
	}
}
