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

// tagOrder lists the tags in bit order, for String.
var tagOrder = [...]string{"info", "ice", "dtls", "rtp", "srtp", "rtcp", "rtx", "bwe", "score", "simulcast", "svc", "sctp", "message"}

// String returns the mediasoup names of the tags in t, joined by "|" (""
// for none).
func (t Tag) String() string {
	var b strings.Builder
	for i, name := range tagOrder {
		if t&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(name)
		}
	}
	return b.String()
}

// ParseTags converts mediasoup logTags names into a mask, ignoring unknown names.
func ParseTags(names []string) Tag {
	var t Tag
	for _, n := range names {
		t |= tagNames[strings.TrimSpace(n)]
	}
	return t
}

// Sink receives log lines that passed the filters, with the tag they were
// logged under (0: untagged). It must be safe for concurrent use and must
// not block: lines are written from packet paths, some under their locks
// (the worker's sink queues an event).
type Sink func(level Level, tag Tag, name, msg string)

// Logger is a concurrency-safe, level and tag filtered logger. Its settings
// may be changed at any time (worker.updateSettings()).
type Logger struct {
	// state packs the level (high 32 bits) and the tag mask (low 32 bits)
	// so that a filter check is one atomic load.
	state atomic.Uint64
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
	l.state.Store(uint64(uint32(level))<<32 | uint64(tags))
}

// Level returns the current level.
func (l *Logger) Level() Level { return Level(l.state.Load() >> 32) }

// Tags returns the enabled tags.
func (l *Logger) Tags() Tag { return Tag(l.state.Load()) }

// Enabled tells whether a line of this level and tag would be written. As
// in mediasoup (MS_DEBUG_TAG, MS_WARN_TAG), a tagged debug or warn line
// needs its tag enabled too; a mask of several tags needs any of them
// (MS_DEBUG_2TAGS). Tag 0 means untagged; errors are never tagged.
func (l *Logger) Enabled(level Level, tag Tag) bool {
	if l == nil || level == LevelNone {
		return false
	}
	s := l.state.Load()
	return Level(s>>32) >= level && (tag == 0 || level == LevelError || Tag(s)&tag != 0)
}

// Named returns a view of the logger that prefixes messages with a component name.
func (l *Logger) Named(name string) *Named { return &Named{l: l, name: name} }

// Named is a component logger.
//
// Its methods check the filters before formatting, but Go builds the
// variadic arguments (boxing non-constant values, which allocates) before
// the call: on a per-packet path guard the call with On so that a disabled
// line costs one atomic load and no allocation:
//
//	if log.On(logger.LevelWarn, logger.TagRtp) && limiter.Allow(now) { log.Warnf(...) }
type Named struct {
	l    *Logger
	name string
}

// On reports whether a line of this level and tag would be written.
func (n *Named) On(level Level, tag Tag) bool { return n != nil && n.l.Enabled(level, tag) }

// Enabled is On (kept for existing callers).
func (n *Named) Enabled(level Level, tag Tag) bool { return n.On(level, tag) }

func (n *Named) log(level Level, tag Tag, format string, args ...any) {
	if !n.On(level, tag) {
		return
	}
	n.l.sink(level, tag, n.name, fmt.Sprintf(format, args...))
}

// Debugf logs a debug line under tag (0: shown whenever the level is debug).
func (n *Named) Debugf(tag Tag, format string, args ...any) {
	if n.On(LevelDebug, tag) {
		n.l.sink(LevelDebug, tag, n.name, fmt.Sprintf(format, args...))
	}
}

// Warnf logs a warning under tag (0: shown whenever the level is warn or debug).
func (n *Named) Warnf(tag Tag, format string, args ...any) {
	if n.On(LevelWarn, tag) {
		n.l.sink(LevelWarn, tag, n.name, fmt.Sprintf(format, args...))
	}
}

// Debug logs an untagged debug line.
func (n *Named) Debug(format string, args ...any) { n.log(LevelDebug, 0, format, args...) }

// DebugTag logs a debug line shown only when tag is enabled (= Debugf).
func (n *Named) DebugTag(tag Tag, format string, args ...any) {
	n.log(LevelDebug, tag, format, args...)
}

// Warn logs an untagged warning.
func (n *Named) Warn(format string, args ...any) { n.log(LevelWarn, 0, format, args...) }

// Error logs an error.
func (n *Named) Error(format string, args ...any) { n.log(LevelError, 0, format, args...) }
