// Package seqmanager rewrites wrapping sequence numbers (RTP sequence
// numbers, VP8/VP9 picture ids, TL0PICIDX, ...) so that a consumer emits a
// gap-free output sequence even when the forwarding engine deliberately drops
// some input packets or switches between sources.
//
// The behaviour follows mediasoup's SeqManager: Drop marks an input as not
// forwarded, so later inputs are shifted down to fill the hole; Sync makes
// the next input continue right after the highest output produced so far
// (used on source switches, key-frame resyncs and resume); Input maps one
// input to its output and rejects inputs that were dropped.
//
// Nothing in this package is safe for concurrent use: a SeqManager belongs to
// the goroutine that forwards the packets of one consumer stream.
package seqmanager

// Unsigned lists the integer types a SeqManager can operate on.
type Unsigned interface {
	~uint8 | ~uint16 | ~uint32
}

// SeqManager maps input sequence numbers of type T, using only the low Bits
// bits of T, to continuous output sequence numbers.
//
// The zero value is not usable; create instances with New or NewBits.
type SeqManager[T Unsigned] struct {
	mask          T
	initialOutput T

	started      bool
	base         T
	maxOutput    T // without initialOutput applied
	maxInput     T
	maxDropped   T
	maxForwarded T

	// dropped holds the dropped inputs newer than the last resync, kept in
	// ascending (wrap-aware) order. Its capacity is reused.
	dropped []T
}

// New returns a SeqManager using every bit of T, whose first output equals
// its first input plus initialOutput.
func New[T Unsigned](initialOutput T) *SeqManager[T] {
	var zero T
	return NewBits[T](bitSize(zero), initialOutput)
}

// NewBits returns a SeqManager that only uses the low bits bits of T (for
// instance 15 for VP8/VP9 picture ids). bits must be between 1 and the size
// of T; larger values are clamped to the size of T.
func NewBits[T Unsigned](bits uint8, initialOutput T) *SeqManager[T] {
	var zero T
	size := bitSize(zero)
	if bits == 0 || bits > size {
		bits = size
	}
	mask := T(uint64(1)<<bits - 1)
	return &SeqManager[T]{
		mask:          mask,
		initialOutput: initialOutput & mask,
		dropped:       make([]T, 0, 16),
	}
}

func bitSize[T Unsigned](v T) uint8 {
	v = ^T(0)
	var n uint8
	for v != 0 {
		v >>= 1
		n++
	}
	return n
}

// IsHigher reports whether a is newer than b in a wrapping space of the given
// mask (for instance 0xFFFF for RTP sequence numbers): a is higher when it is
// ahead of b by less than half of the space.
func IsHigher[T Unsigned](a, b, mask T) bool {
	a &= mask
	b &= mask
	half := mask / 2
	return (a > b && a-b <= half) || (b > a && b-a > half)
}

// IsLower reports whether a is older than b in a wrapping space of the given
// mask. See IsHigher.
func IsLower[T Unsigned](a, b, mask T) bool {
	a &= mask
	b &= mask
	half := mask / 2
	return (b > a && b-a <= half) || (a > b && a-b > half)
}

// SeqIsHigher reports whether RTP sequence number a is newer than b.
func SeqIsHigher(a, b uint16) bool { return IsHigher(a, b, 0xFFFF) }

// SeqIsLower reports whether RTP sequence number a is older than b.
func SeqIsLower(a, b uint16) bool { return IsLower(a, b, 0xFFFF) }

// TsIsHigher reports whether RTP timestamp a is newer than b.
func TsIsHigher(a, b uint32) bool { return IsHigher(a, b, 0xFFFFFFFF) }

// TsIsLower reports whether RTP timestamp a is older than b.
func TsIsLower(a, b uint32) bool { return IsLower(a, b, 0xFFFFFFFF) }

func (m *SeqManager[T]) higher(a, b T) bool { return IsHigher(a, b, m.mask) }
func (m *SeqManager[T]) lower(a, b T) bool  { return IsLower(a, b, m.mask) }

// Mask returns the largest value of the sequence space (2^bits - 1).
func (m *SeqManager[T]) Mask() T { return m.mask }

// Sync makes the input following the given one (input+1) produce the output
// following the highest output produced so far. Call it with
// "first new input - 1" when switching source, on a key-frame resync, or on
// resume; passing "first new input - 2" leaves a one number hole, which tells
// the receiver that the previous frame is incomplete. Sync forgets every
// dropped input.
func (m *SeqManager[T]) Sync(input T) {
	input &= m.mask
	m.base = (m.maxOutput - input) & m.mask
	m.maxInput = input
	m.dropped = m.dropped[:0]
}

// Drop records that input will not be forwarded, so that later inputs are
// renumbered to leave no hole for it. Dropping an input older than the newest
// forwarded one has no effect (its output number was already reserved).
func (m *SeqManager[T]) Drop(input T) {
	input &= m.mask
	switch {
	case m.higher(input, m.maxInput):
		m.maxInput = input
		m.maxDropped = input
		m.insertDropped(input)
		m.clearDropped()
	case m.maxInput == m.maxDropped && m.higher(input, m.maxForwarded):
		// Nothing was forwarded since the newest drop: late drops between the
		// last forwarded input and it still count.
		m.insertDropped(input)
		m.clearDropped()
	}
}

// Input returns the output for the given input. ok is false if the input was
// previously dropped (it must not be sent then).
func (m *SeqManager[T]) Input(input T) (output T, ok bool) {
	input &= m.mask
	base := m.base

	if len(m.dropped) > 0 {
		if m.started && m.higher(input, m.maxInput) {
			m.maxInput = input
			m.maxForwarded = input
		}
		m.clearDropped()
		base = m.base

		if len(m.dropped) > 0 {
			idx := m.searchDropped(input)
			if idx < len(m.dropped) && m.dropped[idx] == input {
				return 0, false
			}
			// Every dropped input older than this one shifts it down.
			base = (m.base - T(idx)) & m.mask
		}
	}

	output = (input + base) & m.mask

	if !m.started {
		m.started = true
		m.maxInput = input
		m.maxForwarded = input
		m.maxOutput = output
	} else {
		if m.higher(input, m.maxInput) {
			m.maxInput = input
			m.maxForwarded = input
		}
		if m.higher(output, m.maxOutput) {
			m.maxOutput = output
		}
	}

	return (output + m.initialOutput) & m.mask, true
}

// MaxInput returns the highest input seen (forwarded, dropped or synced).
func (m *SeqManager[T]) MaxInput() T { return m.maxInput }

// MaxOutput returns the highest output produced so far.
func (m *SeqManager[T]) MaxOutput() T { return (m.maxOutput + m.initialOutput) & m.mask }

// Started reports whether Input was called at least once.
func (m *SeqManager[T]) Started() bool { return m.started }

// searchDropped returns the index of the first dropped value not lower than v.
func (m *SeqManager[T]) searchDropped(v T) int {
	lo, hi := 0, len(m.dropped)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if m.lower(m.dropped[mid], v) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

func (m *SeqManager[T]) insertDropped(v T) {
	idx := m.searchDropped(v)
	if idx < len(m.dropped) && m.dropped[idx] == v {
		return
	}
	var zero T
	m.dropped = append(m.dropped, zero)
	copy(m.dropped[idx+1:], m.dropped[idx:])
	m.dropped[idx] = v
}

// clearDropped forgets the leading dropped values that are ahead of maxInput,
// which can only belong to a previous wrap of the sequence space, and gives
// their reserved numbers back to the base.
func (m *SeqManager[T]) clearDropped() {
	n := 0
	for n < len(m.dropped) && m.higher(m.dropped[n], m.maxInput) {
		n++
	}
	if n == 0 {
		return
	}
	copy(m.dropped, m.dropped[n:])
	m.dropped = m.dropped[:len(m.dropped)-n]
	m.base = (m.base - T(n)) & m.mask
}
