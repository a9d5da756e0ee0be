package engine

import (
	"encoding/json"
	"net"

	"github.com/gosfu/gosfu/gosfu/netio"
)

// pipeSrtpSuite is the only SRTP crypto suite of pipe transports, as in
// mediasoup.
const pipeSrtpSuite = "AEAD_AES_256_GCM"

// pipeLink is the network half of a PipeTransport, which links two routers
// (of this engine or another SFU): a plain UDP link with rtcp-mux, no
// comedia, the remote given by connect() and, optionally, SRTP with
// AEAD_AES_256_GCM keys exchanged out of band. Its consumers are pipe
// consumers (every encoding of their producer) and its producers keep the
// CNAME they come with.
type pipeLink struct {
	*plainLink
	rtx bool
}

func (r *Router) createPipeTransport(data []byte) (any, error) {
	var req struct {
		TransportID string            `json:"transportId"`
		ListenInfo  *netio.ListenInfo `json:"listenInfo"`
		EnableRtx   bool              `json:"enableRtx"`
		EnableSrtp  bool              `json:"enableSrtp"`
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
	l := &plainLink{rtcpMux: true, enableSrtp: req.EnableSrtp}
	if req.EnableSrtp {
		l.srtpSuite = pipeSrtpSuite
		l.localSrtp, l.localKey = newSrtpKey(pipeSrtpSuite)
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
	pl := &pipeLink{plainLink: l, rtx: req.EnableRtx}
	t := newTransport(r, req.TransportID, "pipe")
	useSendSocket(t, l.sender, conn, *req.ListenInfo)
	l.enableSctp(t, sctpCfg)
	if err := l.start(t, pl); err != nil {
		return nil, err
	}
	return pl.info(), nil
}

func (pl *pipeLink) info() map[string]any {
	m := map[string]any{"tuple": pl.tuple(), "rtx": pl.rtx}
	if pl.enableSrtp {
		pl.stateMu.Lock()
		m["srtpParameters"] = pl.localSrtp
		pl.stateMu.Unlock()
	}
	pl.t.fillSctpInfo(m)
	return m
}

func (pl *pipeLink) handleRequest(method string, data []byte) (any, bool, error) {
	if method != "transport.connect" {
		return nil, false, nil
	}
	out, err := pl.connect(data)
	return out, true, err
}

// connect sets the remote {ip, port} and, with SRTP, the remote key, with
// mediasoup's checks: the remote must use AEAD_AES_256_GCM too.
func (pl *pipeLink) connect(data []byte) (any, error) {
	var req struct {
		IP             *string         `json:"ip"`
		Port           *float64        `json:"port"`
		SrtpParameters *SrtpParameters `json:"srtpParameters"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	if pl.connectCalled.Load() {
		return nil, Errorf("connect() already called")
	}
	if pl.enableSrtp && req.SrtpParameters != nil && req.SrtpParameters.CryptoSuite != pipeSrtpSuite {
		return nil, TypeErrorf("invalid/unsupported srtpParameters.cryptoSuite")
	}
	// The plain link does the rest (SRTP contexts, remote tuple, key frame
	// requests of waiting consumers); rtcpPort has no meaning here.
	plain, err := json.Marshal(req)
	if err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	if _, err := pl.plainLink.connect(plain); err != nil {
		return nil, err
	}
	return map[string]any{"tuple": pl.tuple()}, nil
}

func (pl *pipeLink) fillDump(m map[string]any) {
	for k, v := range pl.info() {
		m[k] = v
	}
	pl.fillSendDrops(m)
}

func (pl *pipeLink) fillStats(m map[string]any) {
	m["type"] = "pipe-transport"
	m["tuple"] = pl.tuple()
}

// pipeRtx tells whether a pipe transport's consumers use RTX (enableRtx).
func (t *Transport) pipeRtx() bool {
	if pl, ok := t.link.(*pipeLink); ok {
		return pl.rtx
	}
	return false
}
