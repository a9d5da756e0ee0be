package engine

import (
	"strings"

	"github.com/gosfu/gosfu/gosfu/codecs"
	"github.com/gosfu/gosfu/gosfu/layerselect"
	"github.com/gosfu/gosfu/gosfu/streamallocator"
)

// svcConsumer (type "svc") forwards the single stream of an SVC producer,
// cut to the preferred layers: VP9 spatial and temporal layers
// (layerselect.VP9SVC: lower spatial layers are always forwarded, in K-SVC
// too, so that going down needs no key frame; the marker bit is set at the
// end of the current spatial layer's frame), or VP8 temporal layers.
type svcConsumer struct {
	singleStream
	vp8     *vp8Filter          // VP8 with temporal layers, else nil
	svc     *layerselect.VP9SVC // VP9 with layers, else nil
	vp9Desc codecs.VP9Descriptor
}

func newSvcConsumer(c *Consumer, mimeType string) *svcConsumer {
	s := &svcConsumer{singleStream: singleStream{c}}
	if strings.EqualFold(mimeType, "video/VP8") && c.maxTemporal > 0 {
		s.vp8 = newVP8Filter(c)
	}
	if strings.EqualFold(mimeType, "video/VP9") && (c.maxSpatial > 0 || c.maxTemporal > 0) {
		s.svc = layerselect.NewVP9SVC()
	}
	return s
}

func (s *svcConsumer) sendRtp(p *rtpPacket, now int64) { s.c.forwardRtp(p, now, s) }

func (s *svcConsumer) filter(p *rtpPacket) (bool, bool) {
	if s.c.bwePaused.Load() {
		if s.vp8 != nil {
			s.vp8.drop(p)
		}
		return false, false
	}
	if s.vp8 != nil {
		return s.vp8.filter(p), false
	}
	if s.svc != nil {
		payload := unpadded(p)
		if len(payload) > 0 && s.vp9Desc.Unmarshal(payload) == nil && s.vp9Desc.HasLayerIndices {
			c := s.c
			return s.svc.Forward(p.hdr.Timestamp, &s.vp9Desc, c.targetSpatial(), c.targetTemporal())
		}
	}
	return true, false
}

func (s *svcConsumer) rewrite(payload []byte) {
	if s.vp8 != nil {
		s.vp8.rewrite(payload)
	}
}

func (s *svcConsumer) sync() {
	if s.vp8 != nil {
		s.vp8.sync()
	}
	if s.svc != nil {
		s.svc.Reset()
	}
}

func (s *svcConsumer) layers() (int, int) {
	spatial, temporal := s.c.encodingIdx, s.c.maxTemporal
	if s.vp8 != nil && s.vp8.temporal && s.vp8.tl.Current() >= 0 {
		temporal = s.vp8.tl.Current()
	}
	if s.svc != nil {
		if sl, tl, ok := s.svc.Layers(); ok {
			spatial, temporal = sl, tl
		}
	}
	return spatial, temporal
}

// preferredLayersSet asks for a key frame when the preferred spatial layer
// goes up: going up waits for one.
func (s *svcConsumer) preferredLayersSet(now int64) {
	if s.svc == nil {
		return
	}
	c := s.c
	c.mu.Lock()
	cur := s.svc.Spatial()
	c.mu.Unlock()
	if cur >= 0 && c.targetSpatial() > cur && c.active() {
		c.producer.requestKeyFrame(0, now)
	}
}

// updateTarget follows a new allocation: a higher spatial layer needs a key
// frame (preferredLayersSet), lower ones are dropped at the next frame.
func (s *svcConsumer) updateTarget(now int64) { s.preferredLayersSet(now) }

// bweSteps lists the spatial/temporal layers allocation may choose, up to
// the preferred ones, with the cumulative bitrate of each (an SVC layer
// needs the layers below it).
func (s *svcConsumer) bweSteps(now int64) []streamallocator.Step {
	c := s.c
	_, rates := c.producer.layerBitrates(now)
	if len(rates) == 0 {
		return nil
	}
	maxS := min(int(c.preferredSpatial.Load()), maxLayers-1)
	maxT := min(int(c.preferredTemporal.Load()), maxLayers-1)
	if s.svc == nil {
		maxS = 0
	}
	if s.svc == nil && s.vp8 == nil {
		maxT = 0
	}
	r := rates[0]
	var steps []streamallocator.Step
	for sl := 0; sl <= maxS; sl++ {
		for tl := 0; tl <= maxT; tl++ {
			var cum uint64
			for i := 0; i <= sl; i++ {
				for j := 0; j <= tl; j++ {
					cum += r[i][j]
				}
			}
			if sl == maxS && tl == maxT {
				cum = 0
				for i := range r {
					for j := range r[i] {
						cum += r[i][j]
					}
				}
			}
			if cum == 0 {
				continue
			}
			if n := len(steps); n > 0 && cum < steps[n-1].Bitrate {
				cum = steps[n-1].Bitrate // steps must not get cheaper
			}
			steps = append(steps, streamallocator.Step{Spatial: sl, Temporal: tl, Bitrate: cum})
		}
	}
	return steps
}
