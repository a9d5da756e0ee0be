package engine

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/gosfu/gosfu/gosfu/netio"
)

// plainLink is the network half of a PlainTransport: one UDP socket (two
// without rtcp-mux), optional SRTP with keys exchanged out of band.
type plainLink struct {
	t        *Transport
	conn     *net.UDPConn
	rtcpConn *net.UDPConn
	// sender and rtcpSender send on conn and rtcpConn without ever
	// waiting for room in the socket's send buffer.
	sender     *netio.UDPSender
	rtcpSender *netio.UDPSender
	rtcpMux    bool
	comedia    bool

	localTuple     netio.Tuple
	localRtcpTuple netio.Tuple
	remote         atomic.Pointer[netip.AddrPort]
	remoteRtcp     atomic.Pointer[netip.AddrPort]
	connectCalled  atomic.Bool

	enableSrtp bool
	stateMu    sync.Mutex // guards the SRTP setup below during connect
	srtpSuite  string
	localSrtp  SrtpParameters
	localKey   []byte
	// srtpReady is set once both contexts exist; the packet paths read the
	// contexts only after seeing it.
	srtpReady   atomic.Bool
	srtpSend    *srtp.Context // guarded by sendMu
	srtpRecvRtp *srtp.Context // used only by the RTP socket goroutine
	srtpRecvRtc *srtp.Context // used only by the goroutine reading RTCP

	// sctpConn carries the SCTP association over the UDP tuple (nil
	// without enableSctp).
	sctpConn *udpSctpConn

	sendMu  sync.Mutex
	sendBuf []byte // SRTP output, grown by the first send
	// sendHdr is the header EncryptRTP parses into (guarded by sendMu): a
	// nil header makes pion allocate one, and its extensions, per packet.
	sendHdr rtp.Header

	// droppedUdpSendBuffer counts packets (RTP, RTCP, SCTP) dropped
	// because the socket's send buffer was full.
	droppedUdpSendBuffer atomic.Uint64
}

func (r *Router) createPlainTransport(data []byte) (any, error) {
	var req struct {
		TransportID     string            `json:"transportId"`
		ListenInfo      *netio.ListenInfo `json:"listenInfo"`
		RtcpListenInfo  *netio.ListenInfo `json:"rtcpListenInfo"`
		RtcpMux         *bool             `json:"rtcpMux"`
		Comedia         bool              `json:"comedia"`
		EnableSrtp      bool              `json:"enableSrtp"`
		SrtpCryptoSuite string            `json:"srtpCryptoSuite"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	sctpCfg, err := decodeSctpOptions(data, false)
	if err != nil {
		return nil, err
	}
	if req.ListenInfo == nil {
		return nil, TypeErrorf("missing listenInfo")
	}
	if req.ListenInfo.Protocol != "" && req.ListenInfo.Protocol != "udp" {
		return nil, TypeErrorf("unsupported listen protocol")
	}
	if req.RtcpListenInfo != nil && req.RtcpListenInfo.Protocol != "" && req.RtcpListenInfo.Protocol != "udp" {
		return nil, TypeErrorf("unsupported RTCP listen protocol")
	}
	rtcpMux := req.RtcpMux == nil || *req.RtcpMux
	l := &plainLink{rtcpMux: rtcpMux, comedia: req.Comedia, enableSrtp: req.EnableSrtp}
	if req.EnableSrtp {
		if req.SrtpCryptoSuite == "" {
			return nil, TypeErrorf("missing srtpCryptoSuite")
		}
		if _, ok := srtpSuites[req.SrtpCryptoSuite]; !ok {
			return nil, TypeErrorf("invalid/unsupported srtpCryptoSuite")
		}
		l.srtpSuite = req.SrtpCryptoSuite
		l.localSrtp, l.localKey = newSrtpKey(l.srtpSuite)
	}
	s := r.w.Settings
	conn, err := netio.ListenUDP(*req.ListenInfo, s.RtcMinPort, s.RtcMaxPort)
	if err != nil {
		return nil, listenError(err)
	}
	l.conn = conn
	if l.sender, err = netio.NewUDPSender(conn); err != nil {
		conn.Close()
		return nil, listenError(err)
	}
	l.localTuple = netio.LocalTuple(conn.LocalAddr().(*net.UDPAddr).AddrPort(), req.ListenInfo.AnnouncedAddress, "udp")
	if !rtcpMux {
		info := *req.ListenInfo
		info.Port = 0
		if req.RtcpListenInfo != nil {
			info = *req.RtcpListenInfo
		}
		rc, err := netio.ListenUDP(info, s.RtcMinPort, s.RtcMaxPort)
		if err != nil {
			conn.Close()
			return nil, listenError(err)
		}
		l.rtcpConn = rc
		if l.rtcpSender, err = netio.NewUDPSender(rc); err != nil {
			conn.Close()
			rc.Close()
			return nil, listenError(err)
		}
		l.localRtcpTuple = netio.LocalTuple(rc.LocalAddr().(*net.UDPAddr).AddrPort(), info.AnnouncedAddress, "udp")
	}
	t := newTransport(r, req.TransportID, "plain")
	useSendSocket(t, l.sender, conn, *req.ListenInfo)
	if l.rtcpConn != nil {
		info := *req.ListenInfo
		if req.RtcpListenInfo != nil {
			info = *req.RtcpListenInfo
		}
		useSendSocket(t, l.rtcpSender, l.rtcpConn, info)
	}
	l.enableSctp(t, sctpCfg)
	if err := l.start(t, l); err != nil {
		return nil, err
	}
	return l.info(), nil
}

// start makes lk (l, or a link built on it) the network half of t,
// registers t and starts reading l's sockets.
func (l *plainLink) start(t *Transport, lk link) error {
	l.t = t
	t.link = lk
	if err := t.register(); err != nil {
		l.close()
		return err
	}
	t.wg.Add(1)
	t.w.Go(func() {
		defer t.wg.Done()
		l.readLoop(l.conn, true)
	})
	if l.rtcpConn != nil {
		t.wg.Add(1)
		t.w.Go(func() {
			defer t.wg.Done()
			l.readLoop(l.rtcpConn, false)
		})
	}
	return nil
}

// enableSctp gives t an SCTP association over l's UDP tuple.
func (l *plainLink) enableSctp(t *Transport, cfg *sctpConfig) {
	if cfg == nil {
		return
	}
	t.sctp = newSctpAssociation(t, *cfg)
	l.sctpConn = newUdpSctpConn(l)
}

// maybeStartSctp starts the association once the remote tuple is known,
// as mediasoup connects it when its transport is connected.
func (l *plainLink) maybeStartSctp() {
	if l.sctpConn != nil && l.remote.Load() != nil {
		l.t.sctp.Start(l.sctpConn, nil)
	}
}

// listenError maps socket errors: invalid listen info is a TypeError,
// anything else (ports exhausted, bind failures) an Error.
func listenError(err error) error {
	if errors.Is(err, netio.ErrInvalid) {
		return TypeErrorf("%s", err.Error())
	}
	return Errorf("%s", err.Error())
}

func (l *plainLink) tuple() netio.Tuple {
	if r := l.remote.Load(); r != nil {
		return l.localTuple.WithRemote(*r)
	}
	return l.localTuple
}

func (l *plainLink) rtcpTuple() (netio.Tuple, bool) {
	if l.rtcpMux {
		return netio.Tuple{}, false
	}
	if r := l.remoteRtcp.Load(); r != nil {
		return l.localRtcpTuple.WithRemote(*r), true
	}
	return l.localRtcpTuple, true
}

func (l *plainLink) info() map[string]any {
	m := map[string]any{"tuple": l.tuple(), "rtcpMux": l.rtcpMux, "comedia": l.comedia}
	if rt, ok := l.rtcpTuple(); ok {
		m["rtcpTuple"] = rt
	}
	if l.enableSrtp {
		l.stateMu.Lock()
		m["srtpParameters"] = l.localSrtp
		l.stateMu.Unlock()
	}
	l.t.fillSctpInfo(m)
	return m
}

func (l *plainLink) connected() bool {
	if l.remote.Load() == nil {
		return false
	}
	return !l.enableSrtp || l.srtpReady.Load()
}

func (l *plainLink) handleRequest(method string, data []byte) (any, bool, error) {
	if method != "transport.connect" {
		return nil, false, nil
	}
	out, err := l.connect(data)
	return out, true, err
}

func (l *plainLink) connect(data []byte) (any, error) {
	var req struct {
		IP             *string         `json:"ip"`
		Port           *float64        `json:"port"`
		RtcpPort       *float64        `json:"rtcpPort"`
		SrtpParameters *SrtpParameters `json:"srtpParameters"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	if l.connectCalled.Load() {
		return nil, Errorf("connect() already called")
	}
	if !l.enableSrtp && req.SrtpParameters != nil {
		return nil, TypeErrorf("invalid srtpParameters (SRTP not enabled)")
	}
	var sendCtx, recvRtp, recvRtcp *srtp.Context
	if l.enableSrtp {
		if req.SrtpParameters == nil {
			return nil, TypeErrorf("missing srtpParameters (SRTP enabled)")
		}
		suite := req.SrtpParameters.CryptoSuite
		if _, ok := srtpSuites[suite]; !ok {
			return nil, TypeErrorf("invalid/unsupported srtpParameters.cryptoSuite")
		}
		l.stateMu.Lock()
		if suite != l.srtpSuite {
			l.srtpSuite = suite
			l.localSrtp, l.localKey = newSrtpKey(suite)
		}
		localKey := l.localKey
		l.stateMu.Unlock()
		remoteKey, err := base64.StdEncoding.DecodeString(req.SrtpParameters.KeyBase64)
		if err != nil || len(remoteKey) != srtpMasterLength(srtpSuites[suite]) {
			return nil, TypeErrorf("invalid decoded SRTP key length")
		}
		if sendCtx, err = newSrtpContext(suite, localKey, false); err != nil {
			return nil, Errorf("error creating SRTP sending session: %v", err)
		}
		if recvRtp, err = newSrtpContext(suite, remoteKey, true); err != nil {
			return nil, Errorf("error creating SRTP receiving session: %v", err)
		}
		if recvRtcp, err = newSrtpContext(suite, remoteKey, true); err != nil {
			return nil, Errorf("error creating SRTP receiving session: %v", err)
		}
	}
	var remote, remoteRtcp *netip.AddrPort
	if !l.comedia {
		if req.IP == nil {
			return nil, TypeErrorf("missing ip")
		}
		if req.Port == nil {
			return nil, TypeErrorf("missing port")
		}
		ip, err := netip.ParseAddr(*req.IP)
		if err != nil {
			return nil, Errorf("invalid IP '%s'", *req.IP)
		}
		if l.rtcpMux && req.RtcpPort != nil {
			return nil, TypeErrorf("cannot set rtcpPort with rtcpMux enabled")
		}
		if !l.rtcpMux && req.RtcpPort == nil {
			return nil, TypeErrorf("missing rtcpPort (required with rtcpMux disabled)")
		}
		port, err := portArg("port", *req.Port)
		if err != nil {
			return nil, err
		}
		ap := netip.AddrPortFrom(ip, port)
		remote = &ap
		if !l.rtcpMux {
			rtcpPort, err := portArg("rtcpPort", *req.RtcpPort)
			if err != nil {
				return nil, err
			}
			rp := netip.AddrPortFrom(ip, rtcpPort)
			remoteRtcp = &rp
		}
	}
	if l.connectCalled.Swap(true) {
		return nil, Errorf("connect() already called")
	}
	if l.enableSrtp {
		l.sendMu.Lock()
		l.srtpSend = sendCtx
		l.sendMu.Unlock()
		// The readers pick these up after seeing srtpReady.
		l.srtpRecvRtp = recvRtp
		l.srtpRecvRtc = recvRtcp
		l.srtpReady.Store(true)
	}
	if remote != nil {
		l.remote.Store(remote)
	}
	if remoteRtcp != nil {
		l.remoteRtcp.Store(remoteRtcp)
	}
	if l.connected() {
		l.t.remoteConnected()
	}
	l.maybeStartSctp()
	out := map[string]any{"tuple": l.tuple()}
	if rt, ok := l.rtcpTuple(); ok {
		out["rtcpTuple"] = rt
	}
	if l.enableSrtp {
		l.stateMu.Lock()
		out["srtpParameters"] = l.localSrtp
		l.stateMu.Unlock()
	}
	return out, nil
}

// portArg checks a remote port given to connect(): an integer in
// [1, 65535], never wrapped into range.
func portArg(name string, v float64) (uint16, error) {
	if v < 1 || v > 65535 || v != math.Trunc(v) {
		return 0, TypeErrorf("%s must be an integer in [1, 65535]", name)
	}
	return uint16(v), nil
}

func isRtcp(b []byte) bool {
	return len(b) >= 4 && b[0]>>6 == 2 && b[1] >= 192 && b[1] <= 223
}

func isRtp(b []byte) bool {
	return len(b) >= 12 && b[0]>>6 == 2 && !(b[1] >= 192 && b[1] <= 223)
}

// readLoop reads one socket until it is closed. It is the packet path of
// the transport: decrypt, demultiplex and forward without leaving this
// goroutine.
func (l *plainLink) readLoop(conn *net.UDPConn, rtpSocket bool) {
	rb := netio.NewReadBuffer()
	defer rb.Release()
	debug.SetPanicOnFault(true) // a fault in the mapped buffer panics, not aborts
	buf := rb.B
	var hdr rtp.Header
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		b := buf[:n]
		now := l.t.w.nowMs()
		switch kind := classifyPlainPacket(b); {
		case kind == packetRtcp:
			l.receiveRtcp(b, from, rtpSocket, now)
		case kind == packetRtp && rtpSocket:
			l.receiveRtp(b, from, &hdr, now)
		case kind == packetSctp && rtpSocket && l.sctpConn != nil:
			l.receiveSctp(b, from)
		default:
			l.t.drops.unknownType.Add(1)
		}
	}
}

func (l *plainLink) receiveRtp(b []byte, from netip.AddrPort, hdr *rtp.Header, now int64) {
	if l.enableSrtp {
		if !l.srtpReady.Load() {
			l.t.drops.srtp.Add(1)
			return
		}
		if !l.checkTuple(from, false) {
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
		out, err := l.srtpRecvRtp.DecryptRTP(b[:0], b, hdr)
		if err != nil {
			l.t.drops.srtp.Add(1)
			l.t.logSrtpError(false, true, err, now)
			return
		}
		if !l.learnTuple(from, false) {
			return
		}
		l.t.receiveDecryptedRtp(out, hdr, n, now)
		return
	}
	if !l.learnTuple(from, false) {
		return
	}
	l.t.ReceiveRtp(b, hdr, now)
}

func (l *plainLink) receiveRtcp(b []byte, from netip.AddrPort, rtpSocket bool, now int64) {
	rtcpPath := !rtpSocket
	if l.enableSrtp {
		if !l.srtpReady.Load() {
			l.t.drops.srtp.Add(1)
			return
		}
		if !l.checkTuple(from, rtcpPath) {
			return
		}
		// RTCP on the RTP socket (rtcp-mux) shares that goroutine; without
		// mux the RTCP socket has its own context.
		ctx := l.srtpRecvRtc
		if rtpSocket {
			ctx = l.srtpRecvRtp
		}
		out, err := ctx.DecryptRTCP(b[:0], b, nil)
		if err != nil {
			l.t.drops.srtp.Add(1)
			l.t.logSrtpError(true, true, err, now)
			return
		}
		b = out
	}
	if !l.learnTuple(from, rtcpPath) {
		return
	}
	l.t.ReceiveRtcp(b, now)
}

// checkTuple drops packets from anyone but the known remote; while the
// remote is still unknown under comedia, anyone may try.
func (l *plainLink) checkTuple(from netip.AddrPort, rtcpPath bool) bool {
	p := l.remote.Load()
	if rtcpPath {
		p = l.remoteRtcp.Load()
	}
	if p == nil {
		if l.comedia {
			return true
		}
		l.t.drops.unknownTuple.Add(1)
		l.t.logUnknownRemote(from)
		return false
	}
	if *p != from {
		l.t.drops.unknownTuple.Add(1)
		l.t.logUnknownRemote(from)
		return false
	}
	return true
}

// learnTuple accepts a packet from from, learning it as the remote tuple
// under comedia.
func (l *plainLink) learnTuple(from netip.AddrPort, rtcpPath bool) bool {
	ptr := &l.remote
	if rtcpPath {
		ptr = &l.remoteRtcp
	}
	if p := ptr.Load(); p != nil {
		if *p != from {
			l.t.drops.unknownTuple.Add(1)
			l.t.logUnknownRemote(from)
			return false
		}
		return true
	}
	if !l.comedia {
		l.t.drops.unknownTuple.Add(1)
		l.t.logUnknownRemote(from)
		return false
	}
	f := from
	if !ptr.CompareAndSwap(nil, &f) {
		return *ptr.Load() == from
	}
	l.t.logTupleLearned(from, rtcpPath)
	if rtcpPath {
		rt, _ := l.rtcpTuple()
		l.t.w.EmitJSON(l.t.id, "rtcptuple", map[string]any{"rtcpTuple": rt})
	} else {
		l.t.w.EmitJSON(l.t.id, "tuple", map[string]any{"tuple": l.tuple()})
		// Consumers waiting for a remote may start now.
		l.t.remoteConnected()
		l.maybeStartSctp()
	}
	return true
}

func (l *plainLink) sendRtp(_ *Consumer, b []byte) bool {
	dst := l.remote.Load()
	if dst == nil {
		return false
	}
	return l.send(l.sender, b, *dst, false)
}

func (l *plainLink) sendRtcp(b []byte) bool {
	if l.rtcpMux {
		dst := l.remote.Load()
		if dst == nil {
			return false
		}
		return l.send(l.sender, b, *dst, true)
	}
	dst := l.remoteRtcp.Load()
	if dst == nil {
		return false
	}
	return l.send(l.rtcpSender, b, *dst, true)
}

func (l *plainLink) send(sender *netio.UDPSender, b []byte, dst netip.AddrPort, rtcpPacket bool) bool {
	l.sendMu.Lock()
	defer l.sendMu.Unlock()
	out := b
	if l.enableSrtp {
		if l.srtpSend == nil {
			return false
		}
		var err error
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
	}
	return l.sendUDP(sender, out, dst) == nil
}

// sendUDP sends b without waiting: a packet the socket's send buffer has
// no room for is dropped and counted (NACK/RTX and SCTP recover), as
// mediasoup's uv_udp_try_send drops it.
func (l *plainLink) sendUDP(sender *netio.UDPSender, b []byte, dst netip.AddrPort) error {
	err := sender.TrySendTo(b, dst)
	if err == netio.ErrSendBufferFull {
		l.droppedUdpSendBuffer.Add(1)
	}
	return err
}

func (l *plainLink) fillDump(m map[string]any) {
	for k, v := range l.info() {
		m[k] = v
	}
	l.fillSendDrops(m)
}

// fillSendDrops adds the link's send-side drop counters to
// m["packetsDropped"] (the transport's own are added to that map).
func (l *plainLink) fillSendDrops(m map[string]any) {
	m["packetsDropped"] = map[string]any{"udpSendBufferFull": l.droppedUdpSendBuffer.Load()}
}

func (l *plainLink) fillStats(m map[string]any) {
	m["type"] = "plain-rtp-transport"
	m["rtcpMux"] = l.rtcpMux
	m["comedia"] = l.comedia
	m["tuple"] = l.tuple()
	if rt, ok := l.rtcpTuple(); ok {
		m["rtcpTuple"] = rt
	}
}

func (l *plainLink) close() {
	if l.sctpConn != nil {
		l.sctpConn.Close()
	}
	if l.conn != nil {
		l.conn.Close()
		l.sender.Close()
	}
	if l.rtcpConn != nil {
		l.rtcpConn.Close()
		l.rtcpSender.Close()
	}
}
