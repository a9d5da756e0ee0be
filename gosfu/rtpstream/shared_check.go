//go:build !race

package rtpstream

// checkShared is true under the race detector only (shared_check_race.go).
const checkShared = false
