package logger

import "testing"

func TestFilter(t *testing.T) {
	var got []string
	l := New(LevelWarn, 0, func(level Level, name, msg string) { got = append(got, level.String()+":"+name+":"+msg) })
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
	l := New(LevelDebug, TagDtls, func(level Level, name, msg string) { got = append(got, level.String()+":"+name+":"+msg) })
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
