package engine

import (
	"testing"

	"github.com/pion/rtp"

	"github.com/gosfu/gosfu/gosfu/streamallocator"
)

// A simulcast ladder as simulcastConsumer.bweSteps builds it: the lowest
// stream from its base temporal layer, the higher ones from their second.
var testLadder = []streamallocator.Step{
	{Spatial: 0, Temporal: 0, Bitrate: 60_000},
	{Spatial: 0, Temporal: 1, Bitrate: 100_000},
	{Spatial: 0, Temporal: 2, Bitrate: 150_000},
	{Spatial: 1, Temporal: 1, Bitrate: 330_000},
	{Spatial: 1, Temporal: 2, Bitrate: 500_000},
	{Spatial: 2, Temporal: 1, Bitrate: 900_000},
	{Spatial: 2, Temporal: 2, Bitrate: 1_400_000},
}

func TestUpgradeLimit(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		cur, upTemporal, upSpatial int
		want                       int
	}{
		{"temporal steps within the layer", 0, 2, 0, 2},
		{"a spatial step needs the spatial headroom", 2, 4, 2, 2},
		{"a spatial step that has it", 2, 4, 3, 3},
		{"every step into a higher layer needs it", 2, 4, 4, 4},
		{"stops before the first step it lacks", 2, 6, 4, 4},
		{"paused: what fits with the temporal headroom", -1, 3, 0, 3},
		{"nothing above", 6, 6, 6, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := upgradeLimit(testLadder, tc.cur, tc.upTemporal, tc.upSpatial); got != tc.want {
				t.Fatalf("upgradeLimit(cur %d, temporal %d, spatial %d) = %d, want %d", tc.cur, tc.upTemporal, tc.upSpatial, got, tc.want)
			}
		})
	}
}

func TestAllocatedStep(t *testing.T) {
	c := &Consumer{}
	for _, tc := range []struct {
		name              string
		spatial, temporal int32
		want              int
	}{
		{"unconstrained: the top", -2, -2, 6},
		{"paused", -1, -1, -1},
		{"exact", 1, 2, 4},
		{"a layer not on the ladder: the highest below it", 2, 0, 4},
		{"below every step", 0, -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.allocSpatial.Store(tc.spatial)
			c.allocTemporal.Store(tc.temporal)
			if got := c.allocatedStep(testLadder); got != tc.want {
				t.Fatalf("allocatedStep = %d, want %d", got, tc.want)
			}
		})
	}
}

// Probation packets parse as RTP with the consumer's extension ids: the
// probator with mid "probator" and zeros, RTX padding without mid, its
// padding length in the last byte; the transport-wide sequence number is
// written in place.
func TestProbationPackets(t *testing.T) {
	const midID, absID, twccID = 1, 4, 5
	g := newProbationGenerator(midID, absID, twccID)
	var h rtp.Header

	b := g.probator(1000, 0x123456)
	g.setTwcc(b, 0xBEEF)
	n, err := h.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 1000 || h.SSRC != probationSsrc || h.PayloadType != probationPayloadType || h.Padding {
		t.Fatalf("probator: %d bytes, %+v", len(b), h)
	}
	if string(h.GetExtension(midID)) != probationMid {
		t.Fatalf("probator mid %q", h.GetExtension(midID))
	}
	if v := h.GetExtension(twccID); len(v) != 2 || v[0] != 0xBE || v[1] != 0xEF {
		t.Fatalf("transport-wide seq % x", v)
	}
	if v := h.GetExtension(absID); len(v) != 3 || v[0] != 0x12 || v[2] != 0x56 {
		t.Fatalf("abs-send-time % x", v)
	}
	for _, x := range b[n:] {
		if x != 0 {
			t.Fatal("probator payload not zeros")
		}
	}
	seq := h.SequenceNumber
	b = g.probator(1000, 0)
	if _, _ = h.Unmarshal(b); h.SequenceNumber != seq+1 {
		t.Fatalf("probator sequence %d after %d", h.SequenceNumber, seq)
	}

	pad := newProbationGenerator(0, absID, twccID)
	b = pad.rtxPadding(1200, 777, 97, 42, 9000, 0)
	pad.setTwcc(b, 7)
	n, err = h.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.SSRC != 777 || h.PayloadType != 97 || h.SequenceNumber != 42 || h.Timestamp != 9000 || !h.Padding {
		t.Fatalf("RTX padding header %+v", h)
	}
	if h.GetExtension(midID) != nil {
		t.Fatal("RTX padding carries a mid")
	}
	if p := int(b[len(b)-1]); p != maxPadding || n+p != len(b) {
		t.Fatalf("padding length %d, header %d, packet %d", p, n, len(b))
	}
	// As the engine's own parser sees it: nothing but padding.
	var back rtp.Header
	if hl, ok := unmarshalRtp(b, &back); !ok || hl+int(b[len(b)-1]) != len(b) {
		t.Fatal("unmarshalRtp rejects the RTX padding packet")
	}
}
