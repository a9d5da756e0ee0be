package engine

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/pion/dtls/v3"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/gosfu/gosfu/gosfu/ice"
	"github.com/gosfu/gosfu/gosfu/logger"
	"github.com/gosfu/gosfu/gosfu/netio"
	"github.com/gosfu/gosfu/gosfu/ortc"
)

// ICE candidate priority as mediasoup computes it: host type preference
// 64, component 1, local preference decreasing by 100 per listen entry.
const (
	iceTypePreference         = 64
	iceDefaultLocalPreference = 10000
)

func icePriority(localPreference int) uint32 {
	return uint32(iceTypePreference)<<24 + uint32(localPreference)<<8 + (256 - 1)
}

// udpSocket is a UDP socket of a WebRtcTransport or a WebRtcServer.
type udpSocket struct {
	conn      *net.UDPConn
	sender    *netio.UDPSender // sends on conn, never waiting
	local     netip.AddrPort
	announced string
}

// newUdpSocket wraps a bound socket; on error conn is closed.
func newUdpSocket(conn *net.UDPConn, announced string) (*udpSocket, error) {
	sender, err := netio.NewUDPSender(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &udpSocket{conn: conn, sender: sender, local: conn.LocalAddr().(*net.UDPAddr).AddrPort(), announced: announced}, nil
}

// useSendSocket gives a transport's own UDP socket a send socket
// (netio.UDPSender.UseSendSocket: sends then wake no Go poller thread),
// unless its port is shared on purpose (udpReusePort). Without one, it
// sends on conn as before.
func useSendSocket(t *Transport, sender *netio.UDPSender, conn *net.UDPConn, info netio.ListenInfo) {
	if info.Flags != nil && info.Flags.UDPReusePort {
		return
	}
	if err := sender.UseSendSocket(conn); err != nil {
		t.log.Debug("no send socket, sending on the reading one [transportId:%s]: %v", t.id, err)
	}
}

// icePath is where a packet came from and where replies go: a UDP socket
// and remote address, or a TCP connection.
type icePath struct {
	udp    *udpSocket
	tcp    *netio.FramedConn
	remote netip.AddrPort
}

func (p icePath) send(b []byte) error {
	if p.tcp != nil {
		return p.tcp.WriteFrame(b)
	}
	if p.udp == nil {
		return net.ErrClosed
	}
	return p.udp.sender.TrySendTo(b, p.remote)
}

func (p icePath) tuple() netio.Tuple {
	if p.tcp != nil {
		return netio.LocalTuple(p.tcp.Local, "", "tcp").WithRemote(p.remote)
	}
	return netio.LocalTuple(p.udp.local, p.udp.announced, "udp").WithRemote(p.remote)
}

// IceCandidate is mediasoup's IceCandidate.
type IceCandidate struct {
	Foundation string `json:"foundation"`
	Priority   uint32 `json:"priority"`
	IP         string `json:"ip"`
	Address    string `json:"address"`
	Protocol   string `json:"protocol"`
	Port       int    `json:"port"`
	Type       string `json:"type"`
	TcpType    string `json:"tcpType,omitempty"`
}

// webrtcLink is the network half of a WebRtcTransport: ICE-lite over its
// own UDP sockets and TCP listeners (or a WebRtcServer's), DTLS, SRTP.
type webrtcLink struct {
	t          *Transport
	server     *WebRtcServer
	udp        []*udpSocket
	tcp        []*net.TCPListener
	candidates []IceCandidate

	iceMu    sync.Mutex
	ice      *ice.Server[icePath]
	selected atomic.Pointer[icePath]
	tcpConns map[*netio.FramedConn]struct{}

	dtlsMu             sync.Mutex
	connectCalled      bool
	dtlsRole           string // local role: auto, client, server
	remoteFingerprints []DtlsFingerprint
	dtlsStarted        bool
	dtlsState          atomic.Value // string
	dtlsPC             *dtlsPacketConn
	dtlsConn           *dtls.Conn
	identity           *dtlsIdentity

	srtpReady atomic.Bool
	recvMu    sync.Mutex
	srtpRecv  *srtp.Context
	sendMu    sync.Mutex
	srtpSend  *srtp.Context
	sendBuf   []byte
	// sendHdr is the header EncryptRTP parses into (guarded by sendMu): a
	// nil header makes pion allocate one, and its extensions, per packet.
	sendHdr rtp.Header

	closed atomic.Bool

	// droppedTcpSendQueue counts packets dropped because the ICE-TCP
	// connection they were sent on does not drain (its queue was full).
	droppedTcpSendQueue atomic.Uint64
	// droppedUdpSendBuffer counts packets dropped because the UDP
	// socket's send buffer was full (never waited for).
	droppedUdpSendBuffer atomic.Uint64
	// tcpFraming counts ICE-TCP connections of the transport's own
	// listeners that broke RFC 4571 framing or did not start with STUN.
	tcpFraming atomic.Uint64

	// removed collects the paths ICE dropped (guarded by iceMu); they are
	// released (TCP closed, server routes forgotten) outside the lock.
	removed []icePath
}

func randomString(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

type webrtcTransportRequest struct {
	TransportID       string             `json:"transportId"`
	WebRtcServerID    string             `json:"webRtcServerId"`
	ListenInfos       []netio.ListenInfo `json:"listenInfos"`
	EnableUDP         *bool              `json:"enableUdp"`
	EnableTCP         *bool              `json:"enableTcp"`
	PreferUDP         bool               `json:"preferUdp"`
	PreferTCP         bool               `json:"preferTcp"`
	IceConsentTimeout *float64           `json:"iceConsentTimeout"`
	// InitialAvailableOutgoingBitrate is the estimate before any feedback.
	InitialAvailableOutgoingBitrate float64 `json:"initialAvailableOutgoingBitrate"`
}

// listenInfosField decodes listenInfos with encoding/json, in place, as
// encoding/json decodes the field when it meets it in the request.
type listenInfosField struct{ p *[]netio.ListenInfo }

func (f listenInfosField) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, f.p) }

// decodeWebRtcTransportRequest: ortc's fast path, else encoding/json (same
// results and errors).
func decodeWebRtcTransportRequest(data []byte) (*webrtcTransportRequest, error) {
	req := &webrtcTransportRequest{}
	if ortc.DecodeJSONObject(data, []ortc.JSONField{
		{Name: "transportId", Dest: &req.TransportID},
		{Name: "webRtcServerId", Dest: &req.WebRtcServerID},
		{Name: "listenInfos", Dest: listenInfosField{&req.ListenInfos}},
		{Name: "enableUdp", Dest: &req.EnableUDP},
		{Name: "enableTcp", Dest: &req.EnableTCP},
		{Name: "preferUdp", Dest: &req.PreferUDP},
		{Name: "preferTcp", Dest: &req.PreferTCP},
		{Name: "iceConsentTimeout", Dest: &req.IceConsentTimeout},
		{Name: "initialAvailableOutgoingBitrate", Dest: &req.InitialAvailableOutgoingBitrate},
	}) {
		return req, nil
	}
	req = &webrtcTransportRequest{}
	if err := json.Unmarshal(data, req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	return req, nil
}

func (r *Router) createWebRtcTransport(data []byte) (any, error) {
	req, err := decodeWebRtcTransportRequest(data)
	if err != nil {
		return nil, err
	}
	sctpCfg, err := decodeSctpOptions(data, true)
	if err != nil {
		return nil, err
	}
	identity, err := r.w.dtlsIdentity()
	if err != nil {
		return nil, Errorf("DTLS certificate unavailable: %v", err)
	}
	consent := ice.DefaultConsentTimeoutSec
	if req.IceConsentTimeout != nil {
		consent = ice.ClampConsentTimeout(int(*req.IceConsentTimeout))
	}
	t := newTransport(r, req.TransportID, "webrtc")
	if b := req.InitialAvailableOutgoingBitrate; b > 0 && b <= absoluteMaxBitrate {
		t.initialOutgoing = uint64(b)
	}
	l := &webrtcLink{
		t:        t,
		identity: identity,
		ice:      ice.NewServer[icePath](randomString(16), randomString(32), consent),
		tcpConns: map[*netio.FramedConn]struct{}{},
		dtlsRole: "auto",
		sendBuf:  make([]byte, 1600),
	}
	l.dtlsState.Store("new")
	l.ice.SetLogger(t.log, t.id)
	l.ice.SetOnTupleRemoved(func(p icePath) { l.removed = append(l.removed, p) })
	t.link = l
	if sctpCfg != nil {
		t.sctp = newSctpAssociation(t, *sctpCfg)
	}

	if req.WebRtcServerID != "" {
		srv := r.w.webRtcServer(req.WebRtcServerID)
		if srv == nil {
			return nil, &Error{Name: "NotFoundError", Message: "WebRtcServer not found"}
		}
		enableUDP := req.EnableUDP == nil || *req.EnableUDP
		enableTCP := req.EnableTCP == nil || *req.EnableTCP
		l.server = srv
		l.candidates = srv.candidates(enableUDP, enableTCP, req.PreferUDP, req.PreferTCP)
		if len(l.candidates) == 0 {
			return nil, TypeErrorf("empty iceCandidates")
		}
	} else {
		if len(req.ListenInfos) == 0 {
			return nil, TypeErrorf("empty listenInfos")
		}
		s := r.w.Settings
		for i, info := range req.ListenInfos {
			pref := iceDefaultLocalPreference - 100*i
			switch info.Protocol {
			case "udp":
				conn, err := netio.ListenUDP(info, s.RtcMinPort, s.RtcMaxPort)
				if err != nil {
					l.close()
					return nil, listenError(err)
				}
				sock, err := newUdpSocket(conn, info.AnnouncedAddress)
				if err != nil {
					l.close()
					return nil, listenError(err)
				}
				l.udp = append(l.udp, sock)
				useSendSocket(t, sock.sender, conn, info)
				l.candidates = append(l.candidates, candidates("udp", sock.local, info, pref)...)
			case "tcp":
				ln, err := netio.ListenTCP(info, s.RtcMinPort, s.RtcMaxPort)
				if err != nil {
					l.close()
					return nil, listenError(err)
				}
				l.tcp = append(l.tcp, ln)
				l.candidates = append(l.candidates, candidates("tcp", ln.Addr().(*net.TCPAddr).AddrPort(), info, pref)...)
			default:
				l.close()
				return nil, TypeErrorf("invalid listen protocol")
			}
		}
	}
	if err := t.register(); err != nil {
		l.close()
		return nil, err
	}
	if l.server != nil {
		l.server.addLink(l)
	}
	for _, sock := range l.udp {
		sock := sock
		t.wg.Add(1)
		r.w.Go(func() {
			defer t.wg.Done()
			l.readUDP(sock)
		})
	}
	for _, ln := range l.tcp {
		ln := ln
		t.wg.Add(1)
		r.w.Go(func() {
			defer t.wg.Done()
			l.acceptTCP(ln)
		})
	}
	return jsonResponse(l.info(), 1536), nil
}

// candidates gives the candidate of a listen entry: the announced address
// if any, plus the local one (1000 lower) when exposeInternalIp asks for it.
func candidates(protocol string, local netip.AddrPort, info netio.ListenInfo, pref int) []IceCandidate {
	out := []IceCandidate{candidate(protocol, local, info.AnnouncedAddress, pref)}
	if info.AnnouncedAddress != "" && info.ExposeInternalIP {
		c := candidate(protocol, local, "", pref)
		c.Priority -= 1000
		out = append(out, c)
	}
	return out
}

func candidate(protocol string, local netip.AddrPort, announced string, pref int) IceCandidate {
	addr := local.Addr().Unmap().String()
	if announced != "" {
		addr = announced
	}
	c := IceCandidate{
		Foundation: protocol + "candidate",
		Priority:   icePriority(pref),
		IP:         addr,
		Address:    addr,
		Protocol:   protocol,
		Port:       int(local.Port()),
		Type:       "host",
	}
	if protocol == "tcp" {
		c.TcpType = "passive"
	}
	return c
}

func (l *webrtcLink) iceParameters() map[string]any {
	l.iceMu.Lock()
	u, p := l.ice.Credentials()
	l.iceMu.Unlock()
	return map[string]any{"usernameFragment": u, "password": p, "iceLite": true}
}

func (l *webrtcLink) info() map[string]any {
	l.iceMu.Lock()
	state := l.ice.State()
	l.iceMu.Unlock()
	if l.closed.Load() {
		state = ice.StateClosed
	}
	m := map[string]any{
		"iceRole":       "controlled",
		"iceParameters": l.iceParameters(),
		"iceCandidates": l.candidates,
		"iceState":      string(state),
		"dtlsParameters": map[string]any{
			"fingerprints": l.identity.fingerprints,
			"role":         l.localRole(),
		},
		"dtlsState": l.dtlsState.Load().(string),
	}
	if sel := l.selected.Load(); sel != nil {
		m["iceSelectedTuple"] = sel.tuple()
	}
	l.t.fillSctpInfo(m)
	return m
}

func (l *webrtcLink) localRole() string {
	l.dtlsMu.Lock()
	defer l.dtlsMu.Unlock()
	return l.dtlsRole
}

func (l *webrtcLink) connected() bool {
	return l.srtpReady.Load() && l.selected.Load() != nil
}

func (l *webrtcLink) handleRequest(method string, data []byte) (any, bool, error) {
	switch method {
	case "transport.connect":
		out, err := l.connect(data)
		return out, true, err
	case "transport.restartIce":
		u, p := randomString(16), randomString(32)
		l.iceMu.Lock()
		l.ice.RestartIce(u, p)
		l.iceMu.Unlock()
		l.t.log.Debugf(logger.TagIce, "ICE restart: new local credentials [transportId:%s, usernameFragment:%s]", l.t.id, u)
		if l.server != nil {
			l.server.addUfrag(u, l)
		}
		return map[string]any{"usernameFragment": u, "password": p, "iceLite": true}, true, nil
	}
	return nil, false, nil
}

func (l *webrtcLink) connect(data []byte) (any, error) {
	var req struct {
		DtlsParameters *struct {
			Role         string            `json:"role"`
			Fingerprints []DtlsFingerprint `json:"fingerprints"`
		} `json:"dtlsParameters"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	l.dtlsMu.Lock()
	if l.connectCalled {
		l.dtlsMu.Unlock()
		return nil, Errorf("connect() already called")
	}
	if req.DtlsParameters == nil {
		l.dtlsMu.Unlock()
		return nil, TypeErrorf("missing dtlsParameters")
	}
	if len(req.DtlsParameters.Fingerprints) == 0 {
		l.dtlsMu.Unlock()
		return nil, TypeErrorf("empty dtlsParameters.fingerprints array")
	}
	switch req.DtlsParameters.Role {
	case "client":
		l.dtlsRole = "server"
	case "server", "auto", "":
		l.dtlsRole = "client"
	default:
		l.dtlsMu.Unlock()
		return nil, TypeErrorf("invalid dtlsParameters.role")
	}
	l.connectCalled = true
	l.remoteFingerprints = req.DtlsParameters.Fingerprints
	role := l.dtlsRole
	l.dtlsMu.Unlock()
	l.t.log.Debugf(logger.TagDtls, "connect(): DTLS local role %s [transportId:%s, remote role:%s, remote fingerprints:%d]",
		role, l.t.id, req.DtlsParameters.Role, len(req.DtlsParameters.Fingerprints))
	l.maybeStartDtls()
	return map[string]any{"dtlsLocalRole": role}, nil
}

// serve reads the socket until it is closed, handing each packet (valid
// until handle returns) with its path. It is the packet path: nothing
// leaves this goroutine on the way to the consumers.
func (s *udpSocket) serve(handle func(b []byte, path icePath, hdr *rtp.Header)) {
	rb := netio.NewReadBuffer()
	defer rb.Release()
	debug.SetPanicOnFault(true) // a fault in the mapped buffer panics, not aborts
	buf := rb.B
	var hdr rtp.Header
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		handle(buf[:n], icePath{udp: s, remote: from}, &hdr)
	}
}

func (l *webrtcLink) readUDP(sock *udpSocket) {
	sock.serve(func(b []byte, path icePath, hdr *rtp.Header) {
		l.handlePacket(b, path, hdr, l.t.w.nowMs())
	})
}

func (l *webrtcLink) acceptTCP(ln *net.TCPListener) {
	gate := &tcpGate{}
	acceptFramed(ln, gate, l.t.w.Go, func(fc *netio.FramedConn, pc *pendingConn) {
		l.iceMu.Lock()
		l.tcpConns[fc] = struct{}{}
		l.iceMu.Unlock()
		l.t.wg.Add(1)
		l.t.w.Go(func() {
			defer l.t.wg.Done()
			l.readTCP(fc, pc)
		})
	})
}

func (l *webrtcLink) readTCP(fc *netio.FramedConn, pc *pendingConn) {
	buf := make([]byte, netio.MaxFrameSize)
	var hdr rtp.Header
	path := icePath{tcp: fc, remote: fc.Remote}
	defer l.tcpClosed(fc, path)
	defer pc.done()
	for {
		b, err := fc.ReadFrame(buf)
		if err != nil {
			if tcpFramingError(err) {
				l.tcpFraming.Add(1)
			}
			return
		}
		if pc.notIce(b) {
			l.tcpFraming.Add(1)
			continue
		}
		l.handlePacket(b, path, &hdr, l.t.w.nowMs())
		if pc.pending() && l.validPath(path) {
			pc.admit()
		}
	}
}

func (l *webrtcLink) tcpClosed(fc *netio.FramedConn, path icePath) {
	fc.Close()
	l.iceMu.Lock()
	delete(l.tcpConns, fc)
	sc, sel := l.ice.RemoveTuple(path)
	removed := l.takeRemoved()
	l.iceMu.Unlock()
	l.releaseTuples(removed)
	l.afterIceChange(sc, sel)
}

// takeRemoved returns the paths ICE dropped since the last call; iceMu
// held.
func (l *webrtcLink) takeRemoved() []icePath {
	r := l.removed
	l.removed = nil
	return r
}

// releaseTuples releases what the paths ICE dropped (consent expired, too
// many tuples, connection closed) hold, as mediasoup does: a WebRtcServer
// forgets their route and a TCP connection is closed, its writer goroutine
// with it (the reader then ends). Called without iceMu: closing waits for
// the writer.
func (l *webrtcLink) releaseTuples(paths []icePath) {
	for _, p := range paths {
		if l.server != nil {
			l.server.removePath(p, l)
		}
		if p.tcp != nil {
			p.tcp.Close()
		}
	}
}

// handlePacket demultiplexes one packet (RFC 7983) from any path. It may
// be called from several goroutines (sockets, TCP connections).
func (l *webrtcLink) handlePacket(b []byte, path icePath, hdr *rtp.Header, now int64) {
	if len(b) == 0 || l.closed.Load() {
		return
	}
	drops := &l.t.drops
	switch kind := classifyPacket(b); kind {
	case packetStun:
		l.handleStun(b, path, now)
	case packetDtls:
		if !l.validPath(path) {
			drops.unknownTuple.Add(1)
			l.t.logDrop(logger.LevelWarn, logger.TagDtls, &l.t.logRL.unknownTuple, now, "ignoring DTLS data from an unknown ICE tuple")
			return
		}
		if len(b) > maxPionDatagram {
			drops.oversized.Add(1)
			l.t.logDrop(logger.LevelWarn, logger.TagDtls, &l.t.logRL.dtlsDrop, now, "ignoring oversized DTLS datagram")
			return
		}
		if !dtlsDatagramValid(b) {
			drops.dtlsInvalid.Add(1)
			l.t.logDrop(logger.LevelWarn, logger.TagDtls, &l.t.logRL.dtlsDrop, now, "ignoring DTLS datagram with an invalid ChangeCipherSpec")
			return
		}
		l.dtlsMu.Lock()
		pc := l.dtlsPC
		l.dtlsMu.Unlock()
		if pc == nil {
			drops.dtlsQueue.Add(1)
			l.t.logDrop(logger.LevelWarn, logger.TagDtls, &l.t.logRL.dtlsDrop, now, "ignoring DTLS data received before connect()")
			return
		}
		pc.push(b)
	case packetRtp, packetRtcp:
		if !l.validPath(path) {
			drops.unknownTuple.Add(1)
			if kind == packetRtcp {
				l.t.logDrop(logger.LevelWarn, logger.TagRtcp, &l.t.logRL.unknownTuple, now, "ignoring RTCP packet from an unknown ICE tuple")
			} else {
				l.t.logDrop(logger.LevelWarn, logger.TagRtp, &l.t.logRL.unknownTuple, now, "ignoring RTP packet from an unknown ICE tuple")
			}
			return
		}
		rtcpPacket := kind == packetRtcp
		if !l.srtpReady.Load() {
			drops.srtp.Add(1)
			l.t.logDrop(logger.LevelDebug, logger.TagSrtp, &l.t.logRL.srtpNotReady, now, "ignoring RTP/RTCP packet: no SRTP receiving session yet")
			return
		}
		if rtcpPacket {
			l.recvMu.Lock()
			out, err := l.srtpRecv.DecryptRTCP(b[:0], b, nil)
			l.recvMu.Unlock()
			if err != nil {
				drops.srtp.Add(1)
				l.t.logSrtpError(true, true, err, now)
				return
			}
			l.t.ReceiveRtcp(out, now)
			return
		}
		// Checked before decryption, which parses the header into hdr
		// (given: a nil header makes pion allocate one per packet); the
		// transport then uses that parse.
		n, ok := rtpHeaderLen(b)
		if !ok {
			l.t.dropBadRtp(now)
			return
		}
		l.recvMu.Lock()
		out, err := l.srtpRecv.DecryptRTP(b[:0], b, hdr)
		l.recvMu.Unlock()
		if err != nil {
			drops.srtp.Add(1)
			l.t.logSrtpError(false, true, err, now)
			return
		}
		l.t.receiveDecryptedRtp(out, hdr, n, now)
	default:
		drops.unknownType.Add(1)
	}
}

func (l *webrtcLink) validPath(path icePath) bool {
	if sel := l.selected.Load(); sel != nil && *sel == path {
		return true
	}
	l.iceMu.Lock()
	ok := l.ice.HasTuple(path)
	l.iceMu.Unlock()
	return ok
}

func (l *webrtcLink) handleStun(b []byte, path icePath, now int64) {
	l.iceMu.Lock()
	res := l.ice.Process(b, path, path.remote, now)
	var resp []byte
	if res.Response != nil {
		resp = append([]byte(nil), res.Response...)
	}
	removed := l.takeRemoved()
	l.iceMu.Unlock()
	l.releaseTuples(removed)
	if !res.Valid {
		l.t.drops.stun.Add(1)
	}
	if resp != nil {
		_ = l.send(path, resp)
	}
	if res.Valid && l.server != nil {
		l.server.addPath(path, l)
	}
	l.afterIceChange(res.StateChanged, res.SelectedChanged)
}

// afterIceChange publishes ICE transitions and starts DTLS when possible.
func (l *webrtcLink) afterIceChange(stateChanged, selectedChanged bool) {
	if !stateChanged && !selectedChanged {
		return
	}
	l.iceMu.Lock()
	state := l.ice.State()
	path, _, ok := l.ice.Selected()
	l.iceMu.Unlock()
	if selectedChanged {
		if ok {
			p := path
			l.selected.Store(&p)
		} else {
			l.selected.Store(nil)
		}
	}
	if stateChanged {
		if state == ice.StateDisconnected {
			l.t.log.Warnf(logger.TagIce, "ICE disconnected: no valid tuple left [transportId:%s]", l.t.id)
		} else {
			l.t.log.Debugf(logger.TagIce, "ICE state %s [transportId:%s]", state, l.t.id)
		}
		l.t.w.EmitJSON(l.t.id, "icestatechange", map[string]any{"iceState": string(state)})
	}
	if selectedChanged && ok {
		tup := path.tuple()
		l.t.log.Debugf(logger.TagIce, "ICE selected tuple [transportId:%s, protocol:%s, local:%s:%d, remote:%s:%d]",
			l.t.id, tup.Protocol, tup.LocalAddress, tup.LocalPort, tup.RemoteIP, tup.RemotePort)
		l.t.w.EmitJSON(l.t.id, "iceselectedtuplechange", map[string]any{"iceSelectedTuple": tup})
	}
	if state == ice.StateConnected || state == ice.StateCompleted {
		l.maybeStartDtls()
	}
}

// tick runs consent freshness.
func (l *webrtcLink) tick(now int64) {
	l.iceMu.Lock()
	sc, sel := l.ice.Tick(now)
	removed := l.takeRemoved()
	l.iceMu.Unlock()
	l.releaseTuples(removed)
	l.afterIceChange(sc, sel)
}

// sendRaw sends an already protected packet (DTLS) on the selected path.
func (l *webrtcLink) sendRaw(b []byte) error {
	// A record that cannot be sent (no selected tuple while ICE is
	// disconnected, a full TCP queue, a transient socket error) is lost
	// like a datagram: DTLS and SCTP retransmit, whereas an error would
	// end pion's SCTP write loop, and with it the association (mediasoup
	// drops such packets too).
	if sel := l.selected.Load(); sel != nil {
		_ = l.send(*sel, b)
	}
	return nil
}

// send sends b on path. Neither path blocks: a packet the TCP queue or the
// UDP socket's send buffer has no room for is dropped and counted here
// (SRTP, DTLS and STUN recover).
func (l *webrtcLink) send(path icePath, b []byte) error {
	err := path.send(b)
	switch err {
	case netio.ErrSendQueueFull:
		l.droppedTcpSendQueue.Add(1)
	case netio.ErrSendBufferFull:
		l.droppedUdpSendBuffer.Add(1)
	}
	return err
}

func (l *webrtcLink) sendRtp(_ *Consumer, b []byte) bool {
	return l.sendProtected(b, false)
}

func (l *webrtcLink) sendRtcp(b []byte) bool {
	return l.sendProtected(b, true)
}

func (l *webrtcLink) sendProtected(b []byte, rtcpPacket bool) bool {
	sel := l.selected.Load()
	if sel == nil || !l.srtpReady.Load() {
		return false
	}
	l.sendMu.Lock()
	defer l.sendMu.Unlock()
	var (
		out []byte
		err error
	)
	if rtcpPacket {
		out, err = l.srtpSend.EncryptRTCP(l.sendBuf[:0], b, nil)
	} else {
		out, err = l.srtpSend.EncryptRTP(l.sendBuf[:0], b, &l.sendHdr)
	}
	if err != nil {
		l.t.logSrtpError(rtcpPacket, false, err, l.t.w.nowMs())
		return false
	}
	if cap(out) > cap(l.sendBuf) {
		l.sendBuf = out[:cap(out)]
	}
	return l.send(*sel, out) == nil
}

func (l *webrtcLink) fillDump(m map[string]any) {
	for k, v := range l.info() {
		m[k] = v
	}
	// The transport's own drop counters are added to this map.
	m["packetsDropped"] = map[string]any{
		"tcpSendQueueFull":  l.droppedTcpSendQueue.Load(),
		"udpSendBufferFull": l.droppedUdpSendBuffer.Load(),
		"tcpFraming":        l.tcpFraming.Load(),
	}
}

func (l *webrtcLink) fillStats(m map[string]any) {
	info := l.info()
	m["type"] = "webrtc-transport"
	m["iceRole"] = "controlled"
	m["iceState"] = info["iceState"]
	if v, ok := info["iceSelectedTuple"]; ok {
		m["iceSelectedTuple"] = v
	}
	m["dtlsState"] = info["dtlsState"]
}

func (l *webrtcLink) close() {
	if l.closed.Swap(true) {
		return
	}
	l.iceMu.Lock()
	l.ice.Close()
	conns := make([]*netio.FramedConn, 0, len(l.tcpConns))
	for c := range l.tcpConns {
		conns = append(conns, c)
	}
	l.iceMu.Unlock()
	l.selected.Store(nil)
	l.dtlsMu.Lock()
	if l.dtlsPC != nil {
		l.dtlsPC.Close()
	}
	conn := l.dtlsConn
	l.dtlsMu.Unlock()
	if conn != nil {
		_ = conn.Close()
	}
	for _, s := range l.udp {
		s.conn.Close()
		s.sender.Close()
	}
	for _, ln := range l.tcp {
		ln.Close()
	}
	for _, c := range conns {
		c.Close()
	}
	if l.server != nil {
		l.server.removeLink(l)
	}
}
