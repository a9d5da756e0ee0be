// Package layerselect decides which layers of a scalable video stream a
// consumer forwards: the simulcast stream to switch to, and the VP8
// temporal and VP9 spatial/temporal layers to pass. Its functions and
// state machines are fed packets' metadata (RTP timestamp, key frame flag,
// payload descriptor) and the stream states the caller measured; they
// hold no sockets and no locks, so a caller serialises its calls (the
// engine does so under the consumer's send lock).
//
// Dependency descriptor based selection (AV1, H264 SVC) belongs here too
// when it lands.
package layerselect

import "github.com/gosfu/gosfu/gosfu/seqmanager"

// newFrame tells whether ts starts a frame after the one at last (or the
// first frame, when have is false).
func newFrame(have bool, ts, last uint32) bool {
	return !have || seqmanager.TsIsHigher(ts, last)
}
