package engine

import (
	"encoding/json"
	"errors"
	"net"
	"net/netip"
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
type WebRtcServer struct {
	id string
	w  *Worker

	listenInfos []netio.ListenInfo
	udp         []*udpSocket
	tcp         []*net.TCPListener
	// locals are the bound addresses per listen entry, for candidates.
	locals []netip.AddrPort

	mu      sync.RWMutex
	closed  bool
	byUfrag map[string]*webrtcLink
	byPath  map[icePath]*webrtcLink
	links   map[*webrtcLink]struct{}
	tcpConn map[*netio.FramedConn]struct{}

	drops serverDrops
	wg    sync.WaitGroup
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
		links:   map[*webrtcLink]struct{}{},
		tcpConn: map[*netio.FramedConn]struct{}{},
	}
	fail := func(err error) (any, error) {
		s.closeSockets()
		return nil, listenError(err)
	}
	for _, info := range req.ListenInfos {
		switch info.Protocol {
		case "udp":
			conn, err := netio.ListenUDP(info, w.Settings.RtcMinPort, w.Settings.RtcMaxPort)
			if err != nil {
				return fail(err)
			}
			sock, err := newUdpSocket(conn, info.AnnouncedAddress)
			if err != nil {
				return fail(err)
			}
			s.udp = append(s.udp, sock)
			s.locals = append(s.locals, sock.local)
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
	for _, sock := range s.udp {
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
	s.links[l] = struct{}{}
	s.byUfrag[u] = l
	s.mu.Unlock()
}

func (s *WebRtcServer) addUfrag(u string, l *webrtcLink) {
	s.mu.Lock()
	s.byUfrag[u] = l
	s.mu.Unlock()
}

func (s *WebRtcServer) addPath(p icePath, l *webrtcLink) {
	s.mu.RLock()
	cur := s.byPath[p]
	s.mu.RUnlock()
	if cur == l {
		return
	}
	s.mu.Lock()
	s.byPath[p] = l
	s.mu.Unlock()
}

func (s *WebRtcServer) removeLink(l *webrtcLink) {
	var conns []*netio.FramedConn
	s.mu.Lock()
	delete(s.links, l)
	for k, v := range s.byUfrag {
		if v == l {
			delete(s.byUfrag, k)
		}
	}
	for k, v := range s.byPath {
		if v == l {
			delete(s.byPath, k)
			if k.tcp != nil {
				conns = append(conns, k.tcp)
			}
		}
	}
	s.mu.Unlock()
	// As mediasoup, the transport's TCP connections end with it (their
	// readers then forget them); closed outside s.mu, which the packet
	// path takes.
	for _, c := range conns {
		c.Close()
	}
}

// removePath forgets the route of a tuple l's ICE dropped.
func (s *WebRtcServer) removePath(p icePath, l *webrtcLink) {
	s.mu.Lock()
	if s.byPath[p] == l {
		delete(s.byPath, p)
	}
	s.mu.Unlock()
}

// route finds the transport of a packet: by path, else (STUN) by ufrag.
// A packet it finds none for is counted.
func (s *WebRtcServer) route(b []byte, p icePath) *webrtcLink {
	s.mu.RLock()
	l := s.byPath[p]
	s.mu.RUnlock()
	if l != nil {
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
	s.mu.RLock()
	l = s.byUfrag[u]
	s.mu.RUnlock()
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
		delete(s.byPath, p)
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
	for _, u := range s.udp {
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
