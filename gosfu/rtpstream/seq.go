package rtpstream

import "github.com/gosfu/gosfu/gosfu/seqmanager"

// RFC 3550 appendix A.1 figures.
const (
	maxDropout  = 3000
	maxMisorder = 1500
	rtpSeqMod   = 1 << 16
)

// seqState implements the sequence number validation of RFC 3550 A.1 (as
// mediasoup does it: no probation, resync after two consecutive packets
// following a large jump).
type seqState struct {
	started bool
	baseSeq uint16
	maxSeq  uint16
	cycles  uint32
	badSeq  uint32
	maxTs   uint32
	maxTsAt int64
}

func (s *seqState) init(seq uint16) {
	s.baseSeq = seq
	s.maxSeq = seq
	s.cycles = 0
	s.badSeq = rtpSeqMod + 1
}

// update validates seq. It returns ok=false when the packet must be ignored
// and reset=true when the stream was resynchronised (the sender restarted
// its sequence numbers).
func (s *seqState) update(seq uint16, ts uint32, nowMs int64) (ok, reset bool) {
	if !s.started {
		s.started = true
		s.init(seq)
		s.maxTs = ts
		s.maxTsAt = nowMs
		return true, false
	}
	udelta := seq - s.maxSeq
	switch {
	case udelta < maxDropout:
		if seq < s.maxSeq {
			s.cycles += rtpSeqMod
		}
		s.maxSeq = seq
		// In order but the timestamp went back (e.g. the sender was paused for
		// a very long time): take the new timestamp as reference.
		if seqmanager.TsIsLower(ts, s.maxTs) {
			s.maxTs = ts
			s.maxTsAt = nowMs
		}
	case uint32(udelta) <= rtpSeqMod-maxMisorder:
		if uint32(seq) == s.badSeq {
			// Two sequential packets after a big jump: the sender restarted.
			s.init(seq)
			s.maxTs = ts
			s.maxTsAt = nowMs
			reset = true
		} else {
			s.badSeq = (uint32(seq) + 1) & (rtpSeqMod - 1)
			return false, false
		}
	default:
		// Duplicate or acceptable reordering.
	}
	if seqmanager.TsIsHigher(ts, s.maxTs) {
		s.maxTs = ts
		s.maxTsAt = nowMs
	}
	return true, reset
}

// expected returns the number of packets expected since the first one.
func (s *seqState) expected() uint32 {
	if !s.started {
		return 0
	}
	return s.cycles + uint32(s.maxSeq) - uint32(s.baseSeq) + 1
}

// extendedMax returns the extended highest sequence number received.
func (s *seqState) extendedMax() uint32 { return s.cycles + uint32(s.maxSeq) }
