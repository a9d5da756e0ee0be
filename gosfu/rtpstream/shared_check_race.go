//go:build race

package rtpstream

// checkShared: under the race detector (the tests), every packet stored
// against a shared payload is checked to repeat it beyond PayloadPrefix.
const checkShared = true
