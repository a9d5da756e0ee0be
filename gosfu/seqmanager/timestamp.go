package seqmanager

// TimestampMapper keeps the RTP timestamps a consumer emits monotonic and
// continuous when the source of its packets changes (simulcast layer switch,
// producer replaced, pause/resume of a stream whose clock jumped).
//
// The output timestamp is input - offset (mod 2^32). Within one source the
// offset never changes, so the timing of that source is preserved exactly.
// When the source changes, call one of the Sync methods with the timestamp of
// the first packet of the new source before calling Map for it.
//
// The zero value is ready to use: until the first Sync, Map is the identity.
// Not safe for concurrent use.
type TimestampMapper struct {
	offset  uint32
	maxOut  uint32
	lastOut uint32
	started bool
}

// Map returns the output timestamp for an input timestamp of the current
// source and records it as the highest output if it is newer.
func (t *TimestampMapper) Map(inputTs uint32) uint32 {
	out := inputTs - t.offset
	if !t.started {
		t.started = true
		t.maxOut = out
	} else if TsIsHigher(out, t.maxOut) {
		t.maxOut = out
	}
	t.lastOut = out
	return out
}

// Offset returns the value subtracted from input timestamps.
func (t *TimestampMapper) Offset() uint32 { return t.offset }

// SetOffset forces the offset (output = input - offset).
func (t *TimestampMapper) SetOffset(offset uint32) { t.offset = offset }

// MaxOutput returns the highest timestamp produced so far and whether any was.
func (t *TimestampMapper) MaxOutput() (uint32, bool) { return t.maxOut, t.started }

// SyncTo makes inputTs map to outputTs from now on.
func (t *TimestampMapper) SyncTo(inputTs, outputTs uint32) {
	t.offset = inputTs - outputTs
}

// SyncContinuous re-anchors the mapping for a new source so that its first
// packet (inputTs) comes out elapsedMs after the highest timestamp emitted so
// far, converted with clockRate, and at least minStepMs after it (use about
// one frame, 33 ms for 30 fps video, 20 ms for audio, so the receiver sees a
// new frame rather than a duplicate). elapsedMs is the wall-clock time since
// the last packet was emitted, which keeps the output timeline in step with
// real time across pauses. Before anything was emitted the mapping is the
// identity.
func (t *TimestampMapper) SyncContinuous(inputTs uint32, elapsedMs, minStepMs int64, clockRate uint32) {
	if !t.started {
		t.offset = 0
		return
	}
	if elapsedMs < minStepMs {
		elapsedMs = minStepMs
	}
	if elapsedMs < 0 {
		elapsedMs = 0
	}
	step := uint32(elapsedMs * int64(clockRate) / 1000)
	t.SyncTo(inputTs, t.maxOut+step)
}

// NeedsExtraOffset reports whether mapping inputTs with the current offset
// would not be ahead of the highest emitted timestamp, i.e. the new source
// would go back in time. It returns the extra amount that the offset must be
// decreased by (so that the output lands minStepTs after the highest
// timestamp); callers may compare it against a limit (mediasoup gives up
// switching simulcast layers when more than 75 ms would be needed) before
// applying it with AddToOutput.
func (t *TimestampMapper) NeedsExtraOffset(inputTs, minStepTs uint32) (extra uint32, needed bool) {
	if !t.started {
		return 0, false
	}
	out := inputTs - t.offset
	if TsIsHigher(out, t.maxOut) {
		return 0, false
	}
	return t.maxOut - out + minStepTs, true
}

// AddToOutput shifts every future output timestamp forward by delta.
func (t *TimestampMapper) AddToOutput(delta uint32) { t.offset -= delta }
