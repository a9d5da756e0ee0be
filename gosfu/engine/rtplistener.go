package engine

import (
	"sort"
	"sync"

	"github.com/pion/rtp"
)

// rtpListener maps incoming RTP packets of a transport to producers: by
// SSRC first, then by MID header extension, then by RID, as mediasoup's
// RtpListener does. Lookups take a read lock that only this transport
// uses; writes happen when producers come and go or SSRCs are learned.
type rtpListener struct {
	mu   sync.RWMutex
	ssrc map[uint32]*Producer
	mid  map[string]*Producer
	rid  map[string]*Producer
	// midExtID and ridExtIDs are the header extension ids producers of this
	// transport use for MID, RID and repaired RID (0 when none).
	midExtIDs map[uint8]struct{}
	ridExtIDs map[uint8]struct{}
}

func newRtpListener() rtpListener {
	return rtpListener{
		ssrc:      map[uint32]*Producer{},
		mid:       map[string]*Producer{},
		rid:       map[string]*Producer{},
		midExtIDs: map[uint8]struct{}{},
		ridExtIDs: map[uint8]struct{}{},
	}
}

// add registers a producer's SSRCs, MID and RIDs; it fails without
// changing anything when one is taken.
func (l *rtpListener) add(p *Producer) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ssrcs := p.knownSsrcs()
	for _, s := range ssrcs {
		if _, ok := l.ssrc[s]; ok {
			return Errorf("ssrc already exists in RTP listener [ssrc:%d]", s)
		}
	}
	mid := p.rtpParameters.Mid
	if mid != "" {
		if _, ok := l.mid[mid]; ok {
			return Errorf("MID already exists in RTP listener [mid:%s]", mid)
		}
	}
	var rids []string
	if mid == "" {
		for _, e := range p.rtpParameters.Encodings {
			if e.Rid == "" {
				continue
			}
			if _, ok := l.rid[e.Rid]; ok {
				return Errorf("RID already exists in RTP listener and no MID is given [rid:%s]", e.Rid)
			}
			rids = append(rids, e.Rid)
		}
	}
	for _, s := range ssrcs {
		l.ssrc[s] = p
	}
	if mid != "" {
		l.mid[mid] = p
	}
	for _, r := range rids {
		l.rid[r] = p
	}
	if p.midExtID != 0 {
		l.midExtIDs[p.midExtID] = struct{}{}
	}
	if p.ridExtID != 0 {
		l.ridExtIDs[p.ridExtID] = struct{}{}
	}
	if p.rridExtID != 0 {
		l.ridExtIDs[p.rridExtID] = struct{}{}
	}
	return nil
}

func (l *rtpListener) remove(p *Producer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, v := range l.ssrc {
		if v == p {
			delete(l.ssrc, k)
		}
	}
	for k, v := range l.mid {
		if v == p {
			delete(l.mid, k)
		}
	}
	for k, v := range l.rid {
		if v == p {
			delete(l.rid, k)
		}
	}
}

// learn maps a newly seen SSRC to p.
func (l *rtpListener) learn(ssrc uint32, p *Producer) {
	l.mu.Lock()
	if _, ok := l.ssrc[ssrc]; !ok {
		l.ssrc[ssrc] = p
	}
	l.mu.Unlock()
}

func (l *rtpListener) findBySsrc(ssrc uint32) *Producer {
	l.mu.RLock()
	p := l.ssrc[ssrc]
	l.mu.RUnlock()
	return p
}

// find returns the producer of an RTP packet or nil.
func (l *rtpListener) find(hdr *rtp.Header) *Producer {
	l.mu.RLock()
	p := l.ssrc[hdr.SSRC]
	if p == nil && len(l.mid) > 0 {
		for id := range l.midExtIDs {
			if v := hdr.GetExtension(id); len(v) > 0 {
				// The map lookup with string(v) does not allocate.
				if p = l.mid[string(v)]; p != nil {
					break
				}
			}
		}
	}
	if p == nil && len(l.rid) > 0 {
		for id := range l.ridExtIDs {
			if v := hdr.GetExtension(id); len(v) > 0 {
				if p = l.rid[string(v)]; p != nil {
					break
				}
			}
		}
	}
	l.mu.RUnlock()
	return p
}

func (l *rtpListener) dump() map[string]any {
	l.mu.RLock()
	defer l.mu.RUnlock()
	ssrcs := make([]uint32, 0, len(l.ssrc))
	for s := range l.ssrc {
		ssrcs = append(ssrcs, s)
	}
	sort.Slice(ssrcs, func(i, j int) bool { return ssrcs[i] < ssrcs[j] })
	ssrcTable := []map[string]any{}
	for _, s := range ssrcs {
		ssrcTable = append(ssrcTable, map[string]any{"key": s, "value": l.ssrc[s].id})
	}
	midTable := []map[string]any{}
	for _, k := range sortedKeys(l.mid) {
		midTable = append(midTable, map[string]any{"key": k, "value": l.mid[k].id})
	}
	ridTable := []map[string]any{}
	for _, k := range sortedKeys(l.rid) {
		ridTable = append(ridTable, map[string]any{"key": k, "value": l.rid[k].id})
	}
	return map[string]any{"ssrcTable": ssrcTable, "midTable": midTable, "ridTable": ridTable}
}
