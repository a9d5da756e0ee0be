package engine

import "sync/atomic"

// BoundedEmitter is an Emitter whose queue towards Node is bounded (the C
// shim's). The worker sends droppable events (droppableEvents) through
// TryEmit and every other event through Emit, which always queues: those
// are lifecycle events and request responses, each bounded by the number
// of objects, and losing one would leave Node with a wrong state or a
// promise that never settles.
type BoundedEmitter interface {
	Emitter
	// TryEmit queues the event unless the queue is full; false means it
	// was dropped.
	TryEmit(target, event string, data []byte, binary bool) bool
	// EventQueueLimits is the bound: TryEmit drops once the queue holds
	// maxEvents events or maxBytes bytes, counting every queued event
	// (0: unbounded).
	EventQueueLimits() (maxEvents, maxBytes uint64)
}

// droppableEvents are the events a full queue drops (and the worker
// counts). They are the ones whose rate follows packets or timers rather
// than object lifecycles, and whose loss a later event of the same kind
// makes good (or which are data with loss semantics anyway):
//   - rtp, rtcp: DirectTransport packets, lossy by nature;
//   - message: DirectTransport DataConsumer messages (one per message sent);
//   - trace: diagnostics, up to one per packet;
//   - log: log lines, can follow packets at debug level;
//   - score, volumes: periodic measurements, superseded by the next one;
//   - videoorientationchange: a remote can flip it on every packet;
//   - sctpsendbufferfull: one per failed send.
//
// Everything else (close, pause/resume, state changes, tuples, layerschange,
// dominantspeaker, silence, bufferedamountlow, died, @ok/@error) is never
// dropped.
var droppableEvents = [...]string{
	"rtp", "rtcp", "message", "trace", "log", "score", "volumes",
	"videoorientationchange", "sctpsendbufferfull",
}

// droppableKind returns the index of event in droppableEvents, or -1.
func droppableKind(event string) int {
	switch event {
	case "rtp":
		return 0
	case "rtcp":
		return 1
	case "message":
		return 2
	case "trace":
		return 3
	case "log":
		return 4
	case "score":
		return 5
	case "volumes":
		return 6
	case "videoorientationchange":
		return 7
	case "sctpsendbufferfull":
		return 8
	}
	return -1
}

// eventDrops counts the droppable events a full queue dropped, per kind.
type eventDrops [len(droppableEvents)]atomic.Uint64

// eventQueueDump is the gosfu extension of worker.dump: the bound of the
// event queue towards Node and what it dropped.
func (w *Worker) eventQueueDump() map[string]any {
	var maxEvents, maxBytes uint64
	if w.bounded != nil {
		maxEvents, maxBytes = w.bounded.EventQueueLimits()
	}
	dropped := make(map[string]uint64, len(droppableEvents))
	for i, name := range droppableEvents {
		dropped[name] = w.eventDrops[i].Load()
	}
	return map[string]any{"maxEvents": maxEvents, "maxBytes": maxBytes, "dropped": dropped}
}
