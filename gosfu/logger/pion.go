package logger

import (
	"fmt"

	"github.com/pion/logging"
)

// PionFactory adapts the logger to pion's LoggerFactory, so the logs of
// pion/dtls and friends reach JavaScript (never stderr). pion's debug and
// info lines are debug lines under tag; trace lines are dropped.
func (l *Logger) PionFactory(tag Tag) logging.LoggerFactory {
	return pionFactory{l: l, tag: tag}
}

type pionFactory struct {
	l   *Logger
	tag Tag
}

func (f pionFactory) NewLogger(scope string) logging.LeveledLogger {
	return &pionLogger{n: f.l.Named("pion:" + scope), tag: f.tag}
}

type pionLogger struct {
	n   *Named
	tag Tag
}

func (p *pionLogger) Trace(string)          {}
func (p *pionLogger) Tracef(string, ...any) {}
func (p *pionLogger) Debug(msg string)      { p.n.DebugTag(p.tag, "%s", msg) }
func (p *pionLogger) Debugf(format string, args ...any) {
	if p.n.Enabled(LevelDebug, p.tag) {
		p.n.DebugTag(p.tag, "%s", fmt.Sprintf(format, args...))
	}
}
func (p *pionLogger) Info(msg string)                   { p.Debug(msg) }
func (p *pionLogger) Infof(format string, args ...any)  { p.Debugf(format, args...) }
func (p *pionLogger) Warn(msg string)                   { p.n.Warn("%s", msg) }
func (p *pionLogger) Warnf(format string, args ...any)  { p.n.Warn(format, args...) }
func (p *pionLogger) Error(msg string)                  { p.n.Error("%s", msg) }
func (p *pionLogger) Errorf(format string, args ...any) { p.n.Error(format, args...) }
