package bwe

// ackedWindowUs is the span over which the acked (received) bitrate is
// measured, in the remote's arrival time.
const (
	ackedWindowUs    = 500000
	ackedMinWindowUs = 150000
	// ackedMaxSamples bounds memory when arrival times stall (a broken
	// remote clock): half a second at 60 Mbit/s of 1200-byte packets.
	ackedMaxSamples = 4096
)

type ackedSample struct {
	arrivalUs int64
	size      int
}

// ackedRate measures the bitrate the receiver actually got over the last
// half second of arrivals.
type ackedRate struct {
	samples []ackedSample // FIFO; head trimmed by index
	head    int
	bytes   int
	latest  int64
	first   int64
	started bool
}

func (a *ackedRate) add(arrivalUs int64, size int) {
	if !a.started {
		a.first, a.latest, a.started = arrivalUs, arrivalUs, true
	}
	if arrivalUs > a.latest {
		a.latest = arrivalUs
	}
	if arrivalUs < a.latest-ackedWindowUs {
		return // too old to matter
	}
	if a.head > 0 && a.head*2 >= len(a.samples) {
		n := copy(a.samples, a.samples[a.head:])
		a.samples = a.samples[:n]
		a.head = 0
	}
	a.samples = append(a.samples, ackedSample{arrivalUs, size})
	a.bytes += size
	for a.head < len(a.samples) && (a.samples[a.head].arrivalUs < a.latest-ackedWindowUs || len(a.samples)-a.head > ackedMaxSamples) {
		a.bytes -= a.samples[a.head].size
		a.head++
	}
}

// rate returns the acked bitrate (bps), 0 while less than 150 ms of
// arrivals were seen.
func (a *ackedRate) rate() float64 {
	if !a.started || a.latest-a.first < ackedMinWindowUs || a.head >= len(a.samples) {
		return 0
	}
	oldest := a.samples[a.head]
	span := a.latest - oldest.arrivalUs
	if span >= ackedWindowUs/2 {
		// The oldest packet only opens the interval: counting its bytes
		// would overstate the rate by one packet per window.
		return float64(a.bytes-oldest.size) * 8e6 / float64(span)
	}
	// Few packets (low rate or start): spread them over the window.
	w := min(a.latest-a.first, ackedWindowUs)
	return float64(a.bytes) * 8e6 / float64(w)
}
