package layerselect

// SimulcastTarget picks the simulcast stream to forward: the preferred
// one, or the highest lower one that is active when it is not (the
// preferred one when none is). When limit (bits/s, 0: none) is set,
// streams whose bitrate exceeds it are skipped, down to the lowest active
// one. active and bitrates are indexed by stream and may be shorter than
// preferred+1; a missing entry is an inactive stream.
func SimulcastTarget(preferred int, active []bool, bitrates []uint32, limit uint64) int {
	fallback := -1
	for i := preferred; i >= 0; i-- {
		if i >= len(active) || !active[i] {
			continue
		}
		if limit == 0 || i >= len(bitrates) || uint64(bitrates[i]) <= limit {
			return i
		}
		fallback = i
	}
	if fallback >= 0 {
		return fallback
	}
	return preferred
}

// SwitchTimestampOffset returns the offset (out = in + offset) that places
// the first frame of a new simulcast stream, RTP timestamp newTs, after
// the last frame sent, lastOutTs on the output: by capture time when both
// streams' NTP times are known (haveNtp, oldNtp of the last frame sent and
// newNtp of the new one, 32.32 fixed point) and the new frame is later,
// else one frame (1/30 s) later.
func SwitchTimestampOffset(lastOutTs, newTs uint32, oldNtp, newNtp uint64, haveNtp bool, clockRate uint32) uint32 {
	delta := uint32(0)
	if haveNtp && newNtp > oldNtp {
		delta = uint32((newNtp - oldNtp) * uint64(clockRate) >> 32)
	}
	if delta == 0 {
		delta = clockRate / 30
	}
	return lastOutTs + delta - newTs
}
