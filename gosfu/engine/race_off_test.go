//go:build !race

package engine

// raceEnabled tells tests built with the race detector, under which
// sync.Pool drops objects at random and allocation counts mean nothing.
const raceEnabled = false
