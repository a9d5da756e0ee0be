package engine

// A WebRtcServer's UDP port read by several SO_REUSEPORT sockets, and its
// lock-free routing.

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// Many clients, each from its own source port, on one server port read
// by several sockets: every one is answered from that port and its media
// reaches its own transport; closing the server frees the port.
func TestWebRtcServerManyClients(t *testing.T) {
	// Four readers whatever the machine.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const clients, rtpPerClient = 32, 10
	w, _ := newPionWorker(t)
	routerID, _ := setupPionRouter(t, w)
	pionRequest(t, w, "worker.createWebRtcServer", "", map[string]any{"webRtcServerId": "scale-srv", "listenInfos": []any{
		map[string]any{"protocol": "udp", "ip": "127.0.0.1"},
	}})
	srv := w.webRtcServer("scale-srv")
	if len(srv.udp) != 1 || len(srv.readers) != 4 {
		t.Fatalf("%d listen sockets, %d readers", len(srv.udp), len(srv.readers))
	}
	var dump struct {
		UdpSockets []struct {
			IP   string `json:"ip"`
			Port int    `json:"port"`
		} `json:"udpSockets"`
		TupleHashes []struct {
			Tuple             map[string]any `json:"tuple"`
			WebRtcTransportID string         `json:"webRtcTransportId"`
		} `json:"tupleHashes"`
		PacketsDropped map[string]float64 `json:"packetsDropped"`
	}
	pionRequestInto(t, w, "webRtcServer.dump", "scale-srv", nil, &dump)
	if len(dump.UdpSockets) != 1 || dump.UdpSockets[0].IP != "127.0.0.1" {
		t.Fatalf("udpSockets %+v", dump.UdpSockets)
	}
	port := dump.UdpSockets[0].Port
	srvAddr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}

	ids := make([]string, clients)
	conns := make([]*net.UDPConn, clients)
	for i := range conns {
		id, info := createPionTransport(t, w, routerID, pionCase{server: true}, "scale-srv")
		if info.IceCandidates[0].Port != port {
			t.Fatalf("candidate port %d, server port %d", info.IceCandidates[0].Port, port)
		}
		ids[i] = id
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
		req := stunRequest(t, info.IceParameters.UsernameFragment, info.IceParameters.Password, true, true, true)
		if _, err := c.WriteToUDP(req, srvAddr); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 1500)
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("client %d: no answer: %v", i, err)
		}
		if int(from.Port()) != port {
			t.Fatalf("client %d: answer from port %d, want %d", i, from.Port(), port)
		}
		m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		var xor stun.XORMappedAddress
		if err := m.Decode(); err != nil || m.Type.Class != stun.ClassSuccessResponse || xor.GetFrom(m) != nil ||
			xor.Port != c.LocalAddr().(*net.UDPAddr).Port {
			t.Fatalf("client %d: answer %v (mapped %v, err %v)", i, m, xor, err)
		}
	}

	// Media from the validated tuples: each transport gets its client's
	// packets (counted as dropped: no DTLS yet), and no other.
	for _, c := range conns {
		for k := 0; k < rtpPerClient; k++ {
			if _, err := c.WriteToUDP(plainVP8(uint16(k)), srvAddr); err != nil {
				t.Fatal(err)
			}
		}
	}
	srtpDrops := func(id string) float64 {
		var d struct {
			PacketsDropped map[string]float64 `json:"packetsDropped"`
		}
		pionRequestInto(t, w, "transport.dump", id, nil, &d)
		return d.PacketsDropped["srtp"]
	}
	waitFor(t, "every client's RTP at its transport", 20*time.Second, func() bool {
		for _, id := range ids {
			if srtpDrops(id) < rtpPerClient {
				return false
			}
		}
		return true
	})
	for i, id := range ids {
		if n := srtpDrops(id); n != rtpPerClient {
			t.Errorf("transport %d got %v packets, want %d", i, n, rtpPerClient)
		}
	}
	pionRequestInto(t, w, "webRtcServer.dump", "scale-srv", nil, &dump)
	if len(dump.TupleHashes) != clients || dump.PacketsDropped["unknownTuple"] != 0 || dump.PacketsDropped["unknownUfrag"] != 0 {
		t.Fatalf("server dump: %d tuples, drops %v", len(dump.TupleHashes), dump.PacketsDropped)
	}
	for _, th := range dump.TupleHashes {
		if th.Tuple["localPort"] != float64(port) || th.Tuple["protocol"] != "udp" {
			t.Fatalf("tuple %v", th.Tuple)
		}
	}
	// The kernel shared the clients among the readers.
	used := map[*udpSocket]bool{}
	srv.mu.RLock()
	for p := range srv.byPath {
		used[p.udp] = true
	}
	srv.mu.RUnlock()
	if len(used) < 2 {
		t.Errorf("%d clients read by %d socket(s)", clients, len(used))
	}
	t.Logf("%d clients over %d of %d readers", clients, len(used), len(srv.readers))

	pionRequest(t, w, "worker.closeWebRtcServer", "", map[string]any{"webRtcServerId": "scale-srv"})
	c, err := net.ListenUDP("udp4", srvAddr)
	if err != nil {
		t.Fatalf("port %d not freed: %v", port, err)
	}
	c.Close()
	for _, id := range ids {
		if _, err := w.Request("transport.dump", id, nil); err == nil {
			t.Fatalf("transport %s survived its server", id)
		}
	}
}

// newRouteTestServer is a WebRtcServer with n transports, each routed by
// one ufrag and one path, and no sockets.
func newRouteTestServer(n int) (*WebRtcServer, []icePath, []*webrtcLink) {
	s := &WebRtcServer{
		byUfrag: map[string]*webrtcLink{},
		byPath:  map[icePath]*webrtcLink{},
		links:   map[*webrtcLink]*linkRoutes{},
	}
	s.paths.shard = pathShard
	s.ufrags.shard = ufragShard
	sock := &udpSocket{}
	paths := make([]icePath, n)
	links := make([]*webrtcLink, n)
	for i := range paths {
		l := &webrtcLink{t: &Transport{id: fmt.Sprint("t", i)}}
		s.mu.Lock()
		s.links[l] = &linkRoutes{}
		s.setUfragLocked(fmt.Sprintf("ufrag%011d", i), l)
		s.mu.Unlock()
		p := icePath{udp: sock, remote: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(1024+i))}
		s.addPath(p, l)
		paths[i], links[i] = p, l
	}
	return s, paths, links
}

func TestWebRtcServerRouteTable(t *testing.T) {
	s, paths, links := newRouteTestServer(500)
	for i, p := range paths {
		if got := s.route(nil, p); got != links[i] {
			t.Fatalf("path %d routed to %v", i, got)
		}
		if got := s.ufrags.get(fmt.Sprintf("ufrag%011d", i)); got != links[i] {
			t.Fatalf("ufrag %d routed to %v", i, got)
		}
	}
	// Known routes are confirmed without a copy or an allocation.
	shard := s.paths.shards[pathShard(paths[7])].Load()
	if a := testing.AllocsPerRun(100, func() {
		s.addPath(paths[7], links[7])
		_ = s.route(nil, paths[7])
	}); a != 0 {
		t.Fatalf("%v allocations", a)
	}
	if s.paths.shards[pathShard(paths[7])].Load() != shard {
		t.Fatal("addPath of a known route copied its shard")
	}
	// A path taken over by another transport leaves the first one's keys.
	s.addPath(paths[7], links[8])
	if s.route(nil, paths[7]) != links[8] || len(s.links[links[7]].paths) != 0 || len(s.links[links[8]].paths) != 2 {
		t.Fatal("path not moved")
	}
	s.removePath(paths[7], links[7]) // not links[7]'s any more: kept
	if s.route(nil, paths[7]) != links[8] {
		t.Fatal("removePath of another transport's path")
	}
	s.removeLink(links[8])
	if s.route(nil, paths[7]) != nil || s.route(nil, paths[8]) != nil || s.ufrags.get(fmt.Sprintf("ufrag%011d", 8)) != nil {
		t.Fatal("routes of a removed transport remain")
	}
	// A transport removed while one of its binding requests was being
	// handled is not routed again.
	s.addPath(paths[8], links[8])
	if s.route(nil, paths[8]) != nil {
		t.Fatal("addPath revived a removed transport")
	}
	for _, l := range links {
		s.removeLink(l)
	}
	if len(s.byPath) != 0 || len(s.byUfrag) != 0 || len(s.links) != 0 {
		t.Fatalf("left: %d paths, %d ufrags, %d links", len(s.byPath), len(s.byUfrag), len(s.links))
	}
	for i := range s.paths.shards {
		if s.paths.shards[i].Load() != nil || s.ufrags.shards[i].Load() != nil {
			t.Fatalf("shard %d not emptied", i)
		}
	}
}

// Readers route while writers add and remove transports (for -race).
func TestWebRtcServerRouteConcurrent(t *testing.T) {
	s, paths, links := newRouteTestServer(64)
	ts := make([]*Transport, len(links))
	for i, l := range links {
		ts[i] = l.t
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				k := i % len(paths)
				// A path routes to its transport or, while it is away,
				// to none.
				if l := s.route(nil, paths[k]); l != nil && l.t != ts[k] {
					t.Errorf("path %d routed to %s", k, l.t.id)
					return
				}
			}
		}()
	}
	for round := 0; round < 200; round++ {
		k := round % len(paths)
		s.removeLink(links[k])
		l := &webrtcLink{t: ts[k]}
		s.mu.Lock()
		s.links[l] = &linkRoutes{}
		s.mu.Unlock()
		links[k] = l
		s.addPath(paths[k], l)
	}
	stop.Store(true)
	wg.Wait()
}

// lockedRoutes is the routing WebRtcServer had before its snapshots: a
// server-wide read lock around map lookups, kept as the benchmark's
// baseline.
type lockedRoutes struct {
	mu      sync.RWMutex
	byPath  map[icePath]*webrtcLink
	byUfrag map[string]*webrtcLink
}

func (r *lockedRoutes) route(b []byte, p icePath) *webrtcLink {
	r.mu.RLock()
	l := r.byPath[p]
	r.mu.RUnlock()
	if l != nil {
		return l
	}
	if classifyPacket(b) != packetStun {
		return nil
	}
	u := stunLocalUfrag(b)
	r.mu.RLock()
	l = r.byUfrag[u]
	r.mu.RUnlock()
	return l
}

// BenchmarkWebRtcServerRoute: one op is one packet routed by its path,
// the readers of all cores looking up paths of routes transports at
// once. Compare locked and snapshot under -cpu 1,2.
func BenchmarkWebRtcServerRoute(b *testing.B) {
	for _, routes := range []int{10, 1000} {
		s, paths, _ := newRouteTestServer(routes)
		locked := &lockedRoutes{byPath: s.byPath, byUfrag: s.byUfrag}
		pkt := plainVP8(1)
		for _, impl := range []struct {
			name  string
			route func([]byte, icePath) *webrtcLink
		}{{"locked", locked.route}, {"snapshot", s.route}} {
			b.Run(fmt.Sprintf("%s/routes=%d", impl.name, routes), func(b *testing.B) {
				var start atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					i := int(start.Add(7919))
					for pb.Next() {
						if impl.route(pkt, paths[i%len(paths)]) == nil {
							panic("no route")
						}
						i++
					}
				})
			})
		}
	}
}

// BenchmarkWebRtcServerAddTransport: one op is a transport added to and
// removed from a server with routes others (its ufrag and one path: the
// copies the snapshots cost the control plane).
func BenchmarkWebRtcServerAddTransport(b *testing.B) {
	for _, routes := range []int{100, 10000} {
		b.Run(fmt.Sprintf("routes=%d", routes), func(b *testing.B) {
			s, _, _ := newRouteTestServer(routes)
			p := icePath{udp: &udpSocket{}, remote: netip.MustParseAddrPort("192.0.2.1:5000")}
			u := strings.Repeat("u", 16)
			b.ReportAllocs()
			for b.Loop() {
				l := &webrtcLink{}
				s.mu.Lock()
				s.links[l] = &linkRoutes{}
				s.setUfragLocked(u, l)
				s.mu.Unlock()
				s.addPath(p, l)
				s.removeLink(l)
			}
		})
	}
}
