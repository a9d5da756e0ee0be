package engine

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/maphash"
	"maps"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/stun/v4"

	"github.com/gosfu/gosfu/gosfu/netio"
)

// WebRtcServer shares UDP sockets and TCP listeners among many
// WebRtcTransports. STUN requests find their transport by the local ICE
// username fragment; everything after that by the tuple (path) the
// transport validated.
//
// Each UDP listen entry is read by several sockets bound to its port with
// SO_REUSEPORT (one per CPU, netio.ListenUDPReaders), each on its own
// goroutine: the kernel keeps a remote address on one socket, so a
// tuple's packets stay in order, and its path (icePath.udp) is that
// socket, which its replies and media are sent on too. The packet path
// finds its transport in routing snapshots read without a lock (paths,
// ufrags); mu serializes the writers.
type WebRtcServer struct {
	id string
	w  *Worker

	listenInfos []netio.ListenInfo
	// udp is the first socket of each UDP listen entry (what dump()
	// shows); readers holds every UDP socket, those included.
	udp     []*udpSocket
	readers []*udpSocket
	tcp     []*net.TCPListener
	// locals are the bound addresses per listen entry, for candidates.
	locals []netip.AddrPort

	// paths and ufrags are what the packet path reads: copies of byPath
	// and byUfrag, updated with them under mu.
	paths  routeTable[icePath]
	ufrags routeTable[string]

	mu     sync.RWMutex
	closed bool
	// byUfrag and byPath are the writers' routing maps; links has, per
	// transport, the keys routed to it, so that removing it touches only
	// those.
	byUfrag map[string]*webrtcLink
	byPath  map[icePath]*webrtcLink
	links   map[*webrtcLink]*linkRoutes
	tcpConn map[*netio.FramedConn]struct{}

	drops serverDrops
	wg    sync.WaitGroup
}

// linkRoutes are the keys a WebRtcServer routes to one transport (some
// may since have been routed to another one).
type linkRoutes struct {
	ufrags []string
	paths  []icePath
}

// routeShards is how many pieces a routeTable is cut into: a change
// copies one piece, so adding a transport to a server with n of them
// costs O(n/routeShards), not O(n).
const routeShards = 64

// routeTable maps keys to transports for the packet path, which looks
// them up in immutable maps behind atomic pointers, without a lock.
// Writers, serialized by the server's mu, replace the shard they change
// by a modified copy (changes are rare: a transport created or closed, a
// new ICE tuple, an ICE restart).
type routeTable[K comparable] struct {
	shard  func(K) int // pathShard or ufragShard
	shards [routeShards]atomic.Pointer[map[K]*webrtcLink]
}

// shardOf picks a shard from a 64-bit hash (Fibonacci hashing: the top
// bits of the product depend on every bit of h).
func shardOf(h uint64) int {
	return int((h * 0x9e3779b97f4a7c15) >> 58)
}

func pathShard(p icePath) int {
	h := uint64(p.remote.Port())
	// As4 where it can: As16's copy costs a store-forwarding stall.
	if a := p.remote.Addr(); a.Is4() {
		b := a.As4()
		h ^= uint64(binary.LittleEndian.Uint32(b[:])) << 16
	} else {
		b := a.As16()
		h ^= binary.LittleEndian.Uint64(b[:8])*31 ^ binary.LittleEndian.Uint64(b[8:])
	}
	return shardOf(h)
}

var ufragSeed = maphash.MakeSeed()

func ufragShard(u string) int {
	return shardOf(maphash.String(ufragSeed, u))
}

func (t *routeTable[K]) get(k K) *webrtcLink {
	m := t.shards[t.shard(k)].Load()
	if m == nil {
		return nil
	}
	return (*m)[k]
}

// set routes k to l; the server's mu held.
func (t *routeTable[K]) set(k K, l *webrtcLink) {
	sh := &t.shards[t.shard(k)]
	var m map[K]*webrtcLink
	if old := sh.Load(); old != nil {
		m = maps.Clone(*old)
	} else {
		m = make(map[K]*webrtcLink, 1)
	}
	m[k] = l
	sh.Store(&m)
}

// delete forgets k; the server's mu held.
func (t *routeTable[K]) delete(k K) {
	sh := &t.shards[t.shard(k)]
	old := sh.Load()
	if old == nil {
		return
	}
	if _, ok := (*old)[k]; !ok {
		return
	}
	if len(*old) == 1 {
		sh.Store(nil)
		return
	}
	m := maps.Clone(*old)
	delete(m, k)
	sh.Store(&m)
}

// serverDrops counts what a WebRtcServer received and could give to no
// transport, per cause (dump()'s packetsDropped, a gosfu extension). What
// reaches a transport is counted by the transport.
type serverDrops struct {
	// unknownUfrag: STUN whose USERNAME names no transport's ufrag.
	unknownUfrag atomic.Uint64
	// unknownTuple: other packets from a tuple no transport validated.
	unknownTuple atomic.Uint64
	// stunInvalid: STUN that does not decode or has no USERNAME.
	stunInvalid atomic.Uint64
	// tcpFraming: ICE-TCP connections that broke RFC 4571 framing (ended
	// inside a frame) or whose first frame was not STUN.
	tcpFraming atomic.Uint64
}

func (w *Worker) webRtcServer(id string) *WebRtcServer {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.webRtcServers[id]
}

func (w *Worker) createWebRtcServer(data []byte) (any, error) {
	var req struct {
		WebRtcServerID string             `json:"webRtcServerId"`
		ListenInfos    []netio.ListenInfo `json:"listenInfos"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	if len(req.ListenInfos) == 0 {
		return nil, TypeErrorf("empty listenInfos")
	}
	s := &WebRtcServer{
		id:      req.WebRtcServerID,
		w:       w,
		byUfrag: map[string]*webrtcLink{},
		byPath:  map[icePath]*webrtcLink{},
		links:   map[*webrtcLink]*linkRoutes{},
		tcpConn: map[*netio.FramedConn]struct{}{},
	}
	s.paths.shard = pathShard
	s.ufrags.shard = ufragShard
	readers := netio.UDPReaders(runtime.GOMAXPROCS(0))
	fail := func(err error) (any, error) {
		s.closeSockets()
		return nil, listenError(err)
	}
	for _, info := range req.ListenInfos {
		switch info.Protocol {
		case "udp":
			conns, extraErr, err := netio.ListenUDPReaders(info, w.Settings.RtcMinPort, w.Settings.RtcMaxPort, readers)
			if err != nil {
				return fail(err)
			}
			var socks []*udpSocket
			for i, conn := range conns {
				sock, err := newUdpSocket(conn, info.AnnouncedAddress)
				if err != nil {
					if i == 0 {
						for _, c := range conns[1:] {
							c.Close()
						}
						return fail(err)
					}
					extraErr = err
					continue
				}
				socks = append(socks, sock)
			}
			if len(socks) < readers {
				// Fewer readers only cost throughput.
				w.log.Named("WebRtcServer").Debug("%d UDP readers of %d on %v [webRtcServerId:%s]: %v",
					len(socks), readers, socks[0].local, s.id, extraErr)
			}
			s.udp = append(s.udp, socks[0])
			s.readers = append(s.readers, socks...)
			s.locals = append(s.locals, socks[0].local)
		case "tcp":
			ln, err := netio.ListenTCP(info, w.Settings.RtcMinPort, w.Settings.RtcMaxPort)
			if err != nil {
				return fail(err)
			}
			s.tcp = append(s.tcp, ln)
			s.locals = append(s.locals, ln.Addr().(*net.TCPAddr).AddrPort())
		default:
			return fail(errors.New("invalid listen protocol"))
		}
		s.listenInfos = append(s.listenInfos, info)
	}
	if err := w.register(s.id, s); err != nil {
		s.closeSockets()
		return nil, err
	}
	w.mu.Lock()
	w.webRtcServers[s.id] = s
	w.mu.Unlock()
	for _, sock := range s.readers {
		sock := sock
		s.wg.Add(1)
		w.Go(func() {
			defer s.wg.Done()
			s.readUDP(sock)
		})
	}
	for _, ln := range s.tcp {
		ln := ln
		s.wg.Add(1)
		w.Go(func() {
			defer s.wg.Done()
			s.acceptTCP(ln)
		})
	}
	return map[string]any{}, nil
}

// candidates lists the server's ICE candidates for one transport.
func (s *WebRtcServer) candidates(enableUDP, enableTCP, preferUDP, preferTCP bool) []IceCandidate {
	var out []IceCandidate
	for i, info := range s.listenInfos {
		pref := iceDefaultLocalPreference - 100*i
		switch info.Protocol {
		case "udp":
			if !enableUDP {
				continue
			}
			if preferUDP {
				pref += 1000
			}
		case "tcp":
			if !enableTCP {
				continue
			}
			if preferTCP {
				pref += 1000
			}
		}
		out = append(out, candidates(info.Protocol, s.locals[i], info, pref)...)
	}
	return out
}

func (s *WebRtcServer) addLink(l *webrtcLink) {
	u, _ := l.ice.Credentials()
	s.mu.Lock()
	s.links[l] = &linkRoutes{}
	s.setUfragLocked(u, l)
	s.mu.Unlock()
}

func (s *WebRtcServer) addUfrag(u string, l *webrtcLink) {
	s.mu.Lock()
	if s.links[l] != nil {
		s.setUfragLocked(u, l)
	}
	s.mu.Unlock()
}

func (s *WebRtcServer) setUfragLocked(u string, l *webrtcLink) {
	old := s.byUfrag[u]
	if old == l {
		return
	}
	if r := s.links[old]; r != nil {
		r.ufrags = removeKey(r.ufrags, u)
	}
	s.byUfrag[u] = l
	r := s.links[l]
	r.ufrags = append(r.ufrags, u)
	s.ufrags.set(u, l)
}

// addPath routes a tuple l's ICE validated to l. It runs on every valid
// binding request (consent checks, every few seconds per tuple), so it
// takes mu and copies a shard only when the snapshot routes p elsewhere:
// on a new tuple.
func (s *WebRtcServer) addPath(p icePath, l *webrtcLink) {
	if s.paths.get(p) == l {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.links[l]
	if r == nil {
		return // l was removed meanwhile: routing to it would leak
	}
	old := s.byPath[p]
	if old == l {
		return
	}
	if or := s.links[old]; or != nil {
		or.paths = removeKey(or.paths, p)
	}
	s.byPath[p] = l
	r.paths = append(r.paths, p)
	s.paths.set(p, l)
}

func (s *WebRtcServer) removeLink(l *webrtcLink) {
	var conns []*netio.FramedConn
	s.mu.Lock()
	r := s.links[l]
	delete(s.links, l)
	if r != nil {
		for _, u := range r.ufrags {
			if s.byUfrag[u] == l {
				delete(s.byUfrag, u)
				s.ufrags.delete(u)
			}
		}
		for _, p := range r.paths {
			if s.byPath[p] == l {
				delete(s.byPath, p)
				s.paths.delete(p)
				if p.tcp != nil {
					conns = append(conns, p.tcp)
				}
			}
		}
	}
	s.mu.Unlock()
	// As mediasoup, the transport's TCP connections end with it (their
	// readers then forget them); closed outside s.mu: Close waits for the
	// connection's writer.
	for _, c := range conns {
		c.Close()
	}
}

// removePath forgets the route of a tuple l's ICE dropped.
func (s *WebRtcServer) removePath(p icePath, l *webrtcLink) {
	s.mu.Lock()
	if s.byPath[p] == l {
		s.deletePathLocked(p)
	}
	s.mu.Unlock()
}

// deletePathLocked forgets the route of p, whichever transport it goes to.
func (s *WebRtcServer) deletePathLocked(p icePath) {
	l, ok := s.byPath[p]
	if !ok {
		return
	}
	if r := s.links[l]; r != nil {
		r.paths = removeKey(r.paths, p)
	}
	delete(s.byPath, p)
	s.paths.delete(p)
}

// removeKey removes k from keys, in place.
func removeKey[K comparable](keys []K, k K) []K {
	if i := slices.Index(keys, k); i >= 0 {
		return slices.Delete(keys, i, i+1)
	}
	return keys
}

// route finds the transport of a packet: by path, else (STUN) by ufrag,
// without a lock. A packet it finds none for is counted.
func (s *WebRtcServer) route(b []byte, p icePath) *webrtcLink {
	if l := s.paths.get(p); l != nil {
		return l
	}
	if classifyPacket(b) != packetStun {
		s.drops.unknownTuple.Add(1)
		return nil
	}
	u := stunLocalUfrag(b)
	if u == "" {
		s.drops.stunInvalid.Add(1)
		return nil
	}
	l := s.ufrags.get(u)
	if l == nil {
		s.drops.unknownUfrag.Add(1)
	}
	return l
}

// stunLocalUfrag extracts the part of USERNAME before ':'.
func stunLocalUfrag(b []byte) string {
	var m stun.Message
	m.Raw = append(m.Raw[:0], b...)
	if m.Decode() != nil {
		return ""
	}
	v, err := m.Get(stun.AttrUsername)
	if err != nil {
		return ""
	}
	u, _, _ := strings.Cut(string(v), ":")
	return u
}

func (s *WebRtcServer) readUDP(sock *udpSocket) {
	sock.serve(func(b []byte, p icePath, hdr *rtp.Header) {
		l := s.route(b, p)
		if l == nil {
			return
		}
		l.handlePacket(b, p, hdr, s.w.nowMs())
	})
}

func (s *WebRtcServer) acceptTCP(ln *net.TCPListener) {
	gate := &tcpGate{}
	acceptFramed(ln, gate, s.w.Go, func(fc *netio.FramedConn, pc *pendingConn) {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			pc.done()
			fc.Close()
			return
		}
		s.tcpConn[fc] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		s.w.Go(func() {
			defer s.wg.Done()
			s.readTCP(fc, pc)
		})
	})
}

func (s *WebRtcServer) readTCP(fc *netio.FramedConn, pc *pendingConn) {
	buf := make([]byte, netio.MaxFrameSize)
	var hdr rtp.Header
	p := icePath{tcp: fc, remote: fc.Remote}
	var owner *webrtcLink
	defer func() {
		pc.done()
		fc.Close()
		s.mu.Lock()
		delete(s.tcpConn, fc)
		s.deletePathLocked(p)
		s.mu.Unlock()
		if owner != nil {
			owner.tcpClosed(fc, p)
		}
	}()
	for {
		b, err := fc.ReadFrame(buf)
		if err != nil {
			if tcpFramingError(err) {
				s.drops.tcpFraming.Add(1)
			}
			return
		}
		if pc.notIce(b) {
			s.drops.tcpFraming.Add(1)
			continue
		}
		if len(b) == 0 {
			continue // an RFC 4571 null packet
		}
		l := s.route(b, p)
		if l == nil {
			continue
		}
		owner = l
		l.handlePacket(b, p, &hdr, s.w.nowMs())
		if pc.pending() && l.validPath(p) {
			pc.admit()
		}
	}
}

func (s *WebRtcServer) handleRequest(method string, data []byte) (any, error) {
	switch method {
	case "webRtcServer.dump":
		return s.dump(), nil
	}
	return nil, Errorf("unknown method '%s'", method)
}

func (s *WebRtcServer) dump() any {
	udp := []map[string]any{}
	for _, u := range s.udp {
		udp = append(udp, map[string]any{"ip": u.local.Addr().Unmap().String(), "port": u.local.Port()})
	}
	tcp := []map[string]any{}
	for _, ln := range s.tcp {
		a := ln.Addr().(*net.TCPAddr).AddrPort()
		tcp = append(tcp, map[string]any{"ip": a.Addr().Unmap().String(), "port": a.Port()})
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := []string{}
	for l := range s.links {
		ids = append(ids, l.t.id)
	}
	ufrags := []map[string]any{}
	for u, l := range s.byUfrag {
		ufrags = append(ufrags, map[string]any{"localIceUsernameFragment": u, "webRtcTransportId": l.t.id})
	}
	tuples := []map[string]any{}
	for p, l := range s.byPath {
		tuples = append(tuples, map[string]any{"tuple": p.tuple(), "webRtcTransportId": l.t.id})
	}
	return map[string]any{
		"id":                        s.id,
		"udpSockets":                udp,
		"tcpServers":                tcp,
		"webRtcTransportIds":        ids,
		"localIceUsernameFragments": ufrags,
		"tupleHashes":               tuples,
		// gosfu extension.
		"packetsDropped": map[string]any{
			"unknownUfrag": s.drops.unknownUfrag.Load(),
			"unknownTuple": s.drops.unknownTuple.Load(),
			"stunInvalid":  s.drops.stunInvalid.Load(),
			"tcpFraming":   s.drops.tcpFraming.Load(),
		},
	}
}

// close closes the server's sockets and the transports using it.
func (s *WebRtcServer) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	links := make([]*webrtcLink, 0, len(s.links))
	for l := range s.links {
		links = append(links, l)
	}
	s.mu.Unlock()
	for _, l := range links {
		l.t.Close()
	}
	s.closeSockets()
	s.wg.Wait()
	s.w.unregister(s.id)
	s.w.mu.Lock()
	delete(s.w.webRtcServers, s.id)
	s.w.mu.Unlock()
}

func (s *WebRtcServer) closeSockets() {
	for _, u := range s.readers {
		u.conn.Close()
	}
	for _, ln := range s.tcp {
		ln.Close()
	}
	s.mu.Lock()
	conns := make([]*netio.FramedConn, 0, len(s.tcpConn))
	for c := range s.tcpConn {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	// Closed outside s.mu: Close waits for each connection's writer.
	for _, c := range conns {
		c.Close()
	}
}
