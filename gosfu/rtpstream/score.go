package rtpstream

import "math"

// scoreHistoryLen is the number of per-report scores averaged (mediasoup: 24).
const scoreHistoryLen = 24

// scoreKeeper turns per-interval scores into a stream score: a weighted
// average where the newest sample weighs the most (weights 1..n, oldest to
// newest).
type scoreKeeper struct {
	hist  [scoreHistoryLen]uint8
	n     int
	head  int // index of the oldest sample
	score uint8
}

// add records a sample and returns the new score and whether it changed.
func (k *scoreKeeper) add(sample uint8) (score uint8, changed bool) {
	if k.n < scoreHistoryLen {
		k.hist[(k.head+k.n)%scoreHistoryLen] = sample
		k.n++
	} else {
		k.hist[k.head] = sample
		k.head = (k.head + 1) % scoreHistoryLen
	}
	var weight, samples, total int
	for i := 0; i < k.n; i++ {
		weight++
		samples += weight
		total += weight * int(k.hist[(k.head+i)%scoreHistoryLen])
	}
	prev := k.score
	k.score = uint8(math.Round(float64(total) / float64(samples)))
	return k.score, k.score != prev
}

// reset clears the history and forces the score.
func (k *scoreKeeper) reset(score uint8) (changed bool) {
	k.n = 0
	k.head = 0
	changed = k.score != score
	k.score = score
	return changed
}

// intervalScore computes the score of one reporting interval from the
// packets expected (or sent), lost, repaired and retransmitted in it, the
// way mediasoup does: repaired packets count partially as delivered and the
// delivered ratio is raised to the 4th power.
func intervalScore(total, lost, repaired, retransmitted uint32) uint8 {
	if total == 0 {
		return 10
	}
	repairedRatio := float64(repaired) / float64(total)
	repairedWeight := math.Pow(1/(repairedRatio+1), 4)
	if retransmitted > 0 {
		repairedWeight *= float64(repaired) / float64(retransmitted)
	}
	effLost := float64(lost) - float64(repaired)*repairedWeight
	lostInt := uint32(0)
	if effLost > 0 {
		lostInt = uint32(effLost)
	}
	if lostInt > total {
		lostInt = total
	}
	delivered := float64(total-lostInt) / float64(total)
	return uint8(math.Round(math.Pow(delivered, 4) * 10))
}
