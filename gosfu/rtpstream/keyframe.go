package rtpstream

// KeyFrameRetransmissionWaitMs is how long a key frame request waits for the
// key frame before being sent once more (mediasoup: 1000 ms).
const KeyFrameRetransmissionWaitMs = 1000

type kfEntry struct {
	ssrc uint32

	// A request was sent and the key frame has not arrived yet.
	pending        bool
	pendingUntilMs int64
	retryOnTimeout bool

	// Requests are being held back (keyFrameRequestDelay).
	delaying       bool
	delayUntilMs   int64
	delayRequested bool
}

// KeyFrameRequestManager decides when key frame requests (PLI/FIR) are
// actually sent to a producer, per producer stream SSRC, following
// mediasoup's KeyFrameRequestManager:
//
//   - A request is sent at once unless one is already pending for that SSRC
//     (sent and no key frame received yet); a pending request that gets more
//     demands is re-sent once if no key frame arrives within
//     KeyFrameRetransmissionWaitMs, then given up.
//   - With a keyFrameRequestDelay > 0, after a request is sent further
//     demands are held back for that delay; if any arrived meanwhile one
//     request is made when the delay expires.
//   - ForceKeyFrameNeeded always sends (used when a consumer needs a key
//     frame right now, e.g. on resume or layer switch).
//
// Time is driven by the caller: call Poll from a timer (NextDeadline tells
// when). Not safe for concurrent use.
type KeyFrameRequestManager struct {
	delayMs int64
	entries []kfEntry
}

// NewKeyFrameRequestManager returns a manager with the given
// keyFrameRequestDelay in ms (0 disables the delay).
func NewKeyFrameRequestManager(keyFrameRequestDelayMs int64) *KeyFrameRequestManager {
	return &KeyFrameRequestManager{delayMs: keyFrameRequestDelayMs, entries: make([]kfEntry, 0, 4)}
}

func (m *KeyFrameRequestManager) entry(ssrc uint32) *kfEntry {
	for i := range m.entries {
		if m.entries[i].ssrc == ssrc {
			return &m.entries[i]
		}
	}
	m.entries = append(m.entries, kfEntry{ssrc: ssrc})
	return &m.entries[len(m.entries)-1]
}

// compact removes idle entries.
func (m *KeyFrameRequestManager) compact() {
	w := 0
	for _, e := range m.entries {
		if e.pending || e.delaying {
			m.entries[w] = e
			w++
		}
	}
	m.entries = m.entries[:w]
}

// KeyFrameNeeded records that a key frame of the stream ssrc is needed and
// reports whether a request must be sent now.
func (m *KeyFrameRequestManager) KeyFrameNeeded(ssrc uint32, nowMs int64) bool {
	e := m.entry(ssrc)
	send := m.needed(e, nowMs)
	m.compact()
	return send
}

func (m *KeyFrameRequestManager) needed(e *kfEntry, nowMs int64) bool {
	if m.delayMs > 0 {
		if e.delaying {
			e.delayRequested = true
			return false
		}
		e.delaying = true
		e.delayUntilMs = nowMs + m.delayMs
		e.delayRequested = false
	}
	if e.pending {
		e.retryOnTimeout = true
		return false
	}
	e.pending = true
	e.pendingUntilMs = nowMs + KeyFrameRetransmissionWaitMs
	e.retryOnTimeout = true
	return true
}

// ForceKeyFrameNeeded records that a key frame is needed right now: a
// request must always be sent (the return value is always true, for
// symmetry with KeyFrameNeeded).
func (m *KeyFrameRequestManager) ForceKeyFrameNeeded(ssrc uint32, nowMs int64) bool {
	e := m.entry(ssrc)
	if m.delayMs > 0 {
		e.delaying = true
		e.delayUntilMs = nowMs + m.delayMs
		e.delayRequested = false
	}
	e.pending = true
	e.retryOnTimeout = true
	e.pendingUntilMs = nowMs + KeyFrameRetransmissionWaitMs
	return true
}

// KeyFrameReceived tells that a key frame of stream ssrc arrived: the
// pending request is satisfied (a running delay is not affected).
func (m *KeyFrameRequestManager) KeyFrameReceived(ssrc uint32) {
	for i := range m.entries {
		if m.entries[i].ssrc == ssrc {
			m.entries[i].pending = false
			m.entries[i].retryOnTimeout = false
			m.compact()
			return
		}
	}
}

// Poll runs the expired timers and appends to out (and returns it) the
// SSRCs for which a request must be sent now.
func (m *KeyFrameRequestManager) Poll(nowMs int64, out []uint32) []uint32 {
	for i := range m.entries {
		e := &m.entries[i]
		if e.pending && nowMs >= e.pendingUntilMs {
			if e.retryOnTimeout {
				// Best effort in case the request was lost: once more only.
				e.retryOnTimeout = false
				e.pendingUntilMs = nowMs + KeyFrameRetransmissionWaitMs
				out = append(out, e.ssrc)
			} else {
				e.pending = false
			}
		}
		if e.delaying && nowMs >= e.delayUntilMs {
			e.delaying = false
			if e.delayRequested {
				e.delayRequested = false
				if m.needed(e, nowMs) {
					out = append(out, e.ssrc)
				}
			}
		}
	}
	m.compact()
	return out
}

// NextDeadline returns the earliest time Poll has something to do.
func (m *KeyFrameRequestManager) NextDeadline() (int64, bool) {
	var best int64
	found := false
	for _, e := range m.entries {
		if e.pending && (!found || e.pendingUntilMs < best) {
			best, found = e.pendingUntilMs, true
		}
		if e.delaying && (!found || e.delayUntilMs < best) {
			best, found = e.delayUntilMs, true
		}
	}
	return best, found
}
