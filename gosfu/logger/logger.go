// Package logger filters the engine's log lines by level and tag, the way
// mediasoup's worker does, and hands the survivors to a sink (the worker's
// event channel towards JavaScript).
package logger

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// Level is a log severity. Higher values are more verbose.
type Level int32

// Levels, in mediasoup's order.
const (
	LevelNone Level = iota
	LevelError
	LevelWarn
	LevelDebug
)

// String returns the mediasoup name of the level.
func (l Level) String() string {
	switch l {
	case LevelError:
		return "error"
	case LevelWarn:
		return "warn"
	case LevelDebug:
		return "debug"
	default:
		return "none"
	}
}

// ParseLevel converts a mediasoup logLevel string.
func ParseLevel(s string) (Level, error) {
	switch s {
	case "debug":
		return LevelDebug, nil
	case "warn":
		return LevelWarn, nil
	case "error":
		return LevelError, nil
	case "none":
		return LevelNone, nil
	}
	return LevelNone, fmt.Errorf("invalid value '%s' for logLevel", s)
}

// Tag is a debug log category, as in mediasoup's logTags.
type Tag uint32

// Tags known to mediasoup; unknown tag names are ignored.
const (
	TagInfo Tag = 1 << iota
	TagIce
	TagDtls
	TagRtp
	TagSrtp
	TagRtcp
	TagRtx
	TagBwe
	TagScore
	TagSimulcast
	TagSvc
	TagSctp
	TagMessage
)

var tagNames = map[string]Tag{
	"info": TagInfo, "ice": TagIce, "dtls": TagDtls, "rtp": TagRtp,
	"srtp": TagSrtp, "rtcp": TagRtcp, "rtx": TagRtx, "bwe": TagBwe,
	"score": TagScore, "simulcast": TagSimulcast, "svc": TagSvc,
	"sctp": TagSctp, "message": TagMessage,
}

// ParseTags converts mediasoup logTags names into a mask, ignoring unknown names.
func ParseTags(names []string) Tag {
	var t Tag
	for _, n := range names {
		t |= tagNames[strings.TrimSpace(n)]
	}
	return t
}

// Sink receives log lines that passed the filters. It must be safe for
// concurrent use.
type Sink func(level Level, name string, msg string)

// Logger is a concurrency-safe, level and tag filtered logger. Its settings
// may be changed at any time (worker.updateSettings()).
type Logger struct {
	level atomic.Int32
	tags  atomic.Uint32
	sink  Sink
}

// New returns a Logger that writes to sink.
func New(level Level, tags Tag, sink Sink) *Logger {
	l := &Logger{sink: sink}
	l.Set(level, tags)
	return l
}

// Set changes level and tags.
func (l *Logger) Set(level Level, tags Tag) {
	l.level.Store(int32(level))
	l.tags.Store(uint32(tags))
}

// Level returns the current level.
func (l *Logger) Level() Level { return Level(l.level.Load()) }

// Enabled tells whether a message of this level (and tag, for debug) would be written.
func (l *Logger) Enabled(level Level, tag Tag) bool {
	if l == nil || Level(l.level.Load()) < level || level == LevelNone {
		return false
	}
	if level == LevelDebug && tag != 0 && Tag(l.tags.Load())&tag == 0 {
		return false
	}
	return true
}

// Named returns a view of the logger that prefixes messages with a component name.
func (l *Logger) Named(name string) *Named { return &Named{l: l, name: name} }

// Named is a component logger.
type Named struct {
	l    *Logger
	name string
}

func (n *Named) log(level Level, tag Tag, format string, args ...any) {
	if n == nil || !n.l.Enabled(level, tag) {
		return
	}
	n.l.sink(level, n.name, fmt.Sprintf(format, args...))
}

// Debug logs a debug line (no tag filter).
func (n *Named) Debug(format string, args ...any) { n.log(LevelDebug, 0, format, args...) }

// DebugTag logs a debug line shown only when tag is enabled.
func (n *Named) DebugTag(tag Tag, format string, args ...any) {
	n.log(LevelDebug, tag, format, args...)
}

// Warn logs a warning.
func (n *Named) Warn(format string, args ...any) { n.log(LevelWarn, 0, format, args...) }

// Error logs an error.
func (n *Named) Error(format string, args ...any) { n.log(LevelError, 0, format, args...) }

// Enabled reports whether a line of this level and tag would be written.
func (n *Named) Enabled(level Level, tag Tag) bool { return n != nil && n.l.Enabled(level, tag) }
