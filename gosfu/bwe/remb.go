package bwe

// Figures of the loss-based rules.
const (
	// MinBitrate is the lowest estimate announced (bps).
	MinBitrate = 30000
	// InitialBitrate is announced before anything was measured.
	InitialBitrate = 300000
	lowLoss        = 0.02
	highLoss       = 0.10
	growth         = 1.08
	// headroom bounds how far the estimate may run ahead of what actually
	// arrives, so an application-limited sender is not promised the moon.
	headroom = 1.5
)

// RembEstimator turns periodic (about 1 s) observations of incoming
// bitrate and loss into an estimate. Not safe for concurrent use.
type RembEstimator struct {
	estimate uint64
}

// Update takes the bitrate received over the last interval (bps) and the
// fraction lost (0–255, as in RTCP) and returns the new estimate (bps).
func (e *RembEstimator) Update(incoming uint64, fractionLost uint8) uint64 {
	if e.estimate == 0 {
		e.estimate = InitialBitrate
	}
	loss := float64(fractionLost) / 256
	switch {
	case loss > highLoss:
		cut := uint64(float64(incoming) * (1 - loss/2))
		if cut < e.estimate {
			e.estimate = cut
		}
	case loss < lowLoss:
		e.estimate = uint64(float64(e.estimate) * growth)
		if ceiling := uint64(float64(incoming)*headroom) + InitialBitrate; e.estimate > ceiling {
			e.estimate = ceiling
		}
	}
	if e.estimate < MinBitrate {
		e.estimate = MinBitrate
	}
	return e.estimate
}

// Estimate returns the current estimate (0 before the first Update).
func (e *RembEstimator) Estimate() uint64 { return e.estimate }
