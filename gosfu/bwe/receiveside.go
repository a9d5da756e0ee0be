package bwe

// absSendTime is 6.18 fixed-point seconds in 24 bits: it wraps every 64 s.
const (
	absSendTimeBits = 24
	absSendTimeHz   = 1 << 18
)

// ReceiveSide is a delay-based estimate computed where the media arrives,
// for senders that negotiated goog-remb rather than transport-cc: the
// abs-send-time header extension gives the send times, the local clock the
// arrival times, and the same grouping, trendline and AIMD as SendSide turn
// them into a bitrate to announce with REMB. It is not safe for concurrent
// use.
type ReceiveSide struct {
	arrival  interArrival
	trend    *trendline
	aimd     *aimd
	incoming ackedRate
	usage    Usage

	lastAbs   uint32
	sendUnits int64 // unwrapped abs-send-time
	started   bool
}

// NewReceiveSide returns an estimator that starts at initial bps (0 =
// 300 kbit/s).
func NewReceiveSide(initial uint64) *ReceiveSide {
	if initial == 0 {
		initial = defaultInitialBps
	}
	return &ReceiveSide{
		trend: newTrendline(),
		aimd:  newAimd(float64(initial), defaultMinBps, 0),
	}
}

// OnPacket takes one received packet: its local arrival time, its
// abs-send-time extension (24 bits used) and its size in bytes.
func (r *ReceiveSide) OnPacket(arrivalUs int64, absSendTime uint32, size int) {
	abs := absSendTime & (1<<absSendTimeBits - 1)
	if !r.started {
		r.started = true
	} else {
		d := int64((abs - r.lastAbs) & (1<<absSendTimeBits - 1))
		if d >= 1<<(absSendTimeBits-1) {
			d -= 1 << absSendTimeBits // reordered: a step back
		}
		r.sendUnits += d
	}
	r.lastAbs = abs
	sendUs := r.sendUnits * 1000000 / absSendTimeHz
	r.incoming.add(arrivalUs, size)
	if sd, ad, ok := r.arrival.add(sendUs, arrivalUs, size); ok {
		r.usage = r.trend.update(sd, ad, arrivalUs)
		in := r.incoming.rate()
		r.aimd.update(r.usage, in, in, arrivalUs)
	}
}

// Estimate returns the bitrate to announce (bps). nowUs is taken for
// symmetry with the engine's timers; the estimate only moves with packets.
func (r *ReceiveSide) Estimate(nowUs int64) uint64 {
	return uint64(r.aimd.rate)
}
