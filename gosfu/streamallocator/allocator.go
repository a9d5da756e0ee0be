// Package streamallocator shares a transport's estimated outgoing bitrate
// among its consumers, with mediasoup's rule: bitrate that cannot be
// adapted (audio, single-layer video) is taken first, then video consumers
// climb their layer ladders step by step, visited from the highest
// priority down. A first round gives every consumer one step so that all
// get their lowest layer before anyone gets a second; each later round lets
// a consumer take up to priority steps. A consumer only takes a step whose
// extra bitrate fits in what is left (it never skips a step to take a
// cheaper one above it), and rounds go on until nobody takes anything.
//
// The package is pure logic: callers gather layer bitrates and priorities,
// call Allocate, and apply the chosen layers.
package streamallocator

// Step is one rung of a consumer's layer ladder.
type Step struct {
	Spatial, Temporal int
	// Bitrate is what the consumer receives at this layer, in bps (for
	// simulcast the one stream up to Temporal; for SVC the lower spatial
	// layers included).
	Bitrate uint64
}

// Track is one consumer's demand.
type Track struct {
	// Priority is 1..255 (higher is served first and climbs faster; above
	// 255 counts as 255); 0 or less leaves the track out entirely: no
	// Fixed, no steps, choice -1.
	Priority int
	// Fixed is bitrate taken whole before any step (audio, single-layer
	// video), 0 if none.
	Fixed uint64
	// Steps is the ladder in the order layers are climbed, already capped
	// by preferred layers and active streams (see Ladder); empty means the
	// track has no steps to take.
	Steps []Step
}

// Result is an allocation.
type Result struct {
	// Choice[i] indexes tracks[i].Steps; -1 means paused (or no steps,
	// or left out).
	Choice []int
	// Used is the bitrate allocated: the Fixed of allocated tracks plus
	// the Bitrate of each chosen step. It exceeds the available bitrate
	// only when the Fixed bitrates alone do (they are never cut; every
	// video track is paused then).
	Used uint64
	// Desired is what the allocated tracks would use with no limit: their
	// Fixed plus the Bitrate of their top step.
	Desired uint64
}

// Allocator holds scratch space so that repeated allocations do not
// allocate. The zero value is ready to use; it is not goroutine-safe.
type Allocator struct {
	order  []int
	choice []int
}

// Allocate distributes available bps among tracks. The returned
// Result.Choice is a fresh slice.
func Allocate(available uint64, tracks []Track) Result {
	var a Allocator
	return a.Allocate(available, tracks)
}

// Allocate distributes available bps among tracks. The returned
// Result.Choice aliases a's scratch space and is valid until the next
// call on a.
func (a *Allocator) Allocate(available uint64, tracks []Track) Result {
	n := len(tracks)
	if cap(a.choice) < n {
		a.choice = make([]int, n)
		a.order = make([]int, n)
	}
	choice, order := a.choice[:n], a.order[:0]

	// Counting sort by priority, highest first, ties in track order.
	var count [256]int
	var res Result
	for i := range tracks {
		choice[i] = -1
		p := priority(tracks[i].Priority)
		if p == 0 {
			continue
		}
		count[p]++
		res.Used = addSat(res.Used, tracks[i].Fixed)
		res.Desired = addSat(res.Desired, tracks[i].Fixed)
		if s := tracks[i].Steps; len(s) > 0 {
			res.Desired = addSat(res.Desired, s[len(s)-1].Bitrate)
		}
	}
	start := 0
	for p := 255; p > 0; p-- {
		c := count[p]
		count[p] = start
		start += c
	}
	order = order[:start]
	for i := range tracks {
		if p := priority(tracks[i].Priority); p > 0 {
			order[count[p]] = i
			count[p]++
		}
	}

	var left uint64
	if res.Used < available {
		left = available - res.Used
	}
	for round := 0; ; round++ {
		progressed := false
		for _, i := range order {
			t := &tracks[i]
			steps := 1
			if round > 0 {
				steps = priority(t.Priority)
			}
			for ; steps > 0 && choice[i]+1 < len(t.Steps); steps-- {
				var cur uint64
				if choice[i] >= 0 {
					cur = t.Steps[choice[i]].Bitrate
				}
				next := t.Steps[choice[i]+1].Bitrate
				if next > cur {
					if next-cur > left {
						break
					}
					left -= next - cur
				} else {
					// A rung may cost less than the one below it
					// (simulcast streams measured apart); moving up
					// frees bitrate.
					left += cur - next
				}
				choice[i]++
				progressed = true
			}
		}
		if !progressed {
			break
		}
	}
	for _, i := range order {
		if c := choice[i]; c >= 0 {
			res.Used = addSat(res.Used, tracks[i].Steps[c].Bitrate)
		}
	}
	res.Choice = choice
	return res
}

func priority(p int) int {
	return max(0, min(p, 255))
}

func addSat(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}

// Ladder builds the steps of a layered consumer from the bitrate of each
// layer: spatialBitrates[s][t] is what receiving spatial layer s up to
// temporal layer t costs (cumulative over temporal layers); 0 marks an
// inactive layer, which is skipped. Steps go S0T0, S0T1, ..., S1T0, ...
// up to maxSpatial and maxTemporal (a negative max means no limit). If no
// spatial layer up to maxSpatial is active, the lowest active one above it
// is offered instead, so that the consumer can still receive something.
func Ladder(spatialBitrates [][]uint64, maxSpatial, maxTemporal int) []Step {
	return AppendLadder(nil, spatialBitrates, maxSpatial, maxTemporal)
}

// AppendLadder is Ladder appending to dst, to reuse its storage.
func AppendLadder(dst []Step, spatialBitrates [][]uint64, maxSpatial, maxTemporal int) []Step {
	n := len(dst)
	for s, temporal := range spatialBitrates {
		for t, br := range temporal {
			if maxTemporal >= 0 && t > maxTemporal {
				break
			}
			if br > 0 {
				dst = append(dst, Step{Spatial: s, Temporal: t, Bitrate: br})
			}
		}
		if maxSpatial >= 0 && s >= maxSpatial && len(dst) > n {
			break
		}
	}
	return dst
}
