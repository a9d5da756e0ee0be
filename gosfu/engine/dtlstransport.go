package engine

// DTLS for WebRTC transports (mediasoup's DtlsTransport): once ICE is
// connected and connect() gave the remote fingerprints, a handshake runs
// over the selected ICE path; its keys set up SRTP (srtpsession.go) and
// its application data carries SCTP. Records reach it through
// dtlsPacketConn after dtlsfilter.go has dropped those pion would end the
// session on; certificates and fingerprints are in dtlscert.go.

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"

	"github.com/gosfu/gosfu/gosfu/ice"
	"github.com/gosfu/gosfu/gosfu/logger"
	"github.com/gosfu/gosfu/gosfu/netio"
)

// setDtlsState records the DTLS state and emits dtlsstatechange (with the
// remote certificate in PEM once connected).
func (l *webrtcLink) setDtlsState(state string, remoteCert string) {
	l.dtlsState.Store(state)
	l.t.log.Debugf(logger.TagDtls, "DTLS state %s [transportId:%s]", state, l.t.id)
	m := map[string]any{"dtlsState": state}
	if remoteCert != "" {
		m["dtlsRemoteCert"] = remoteCert
	}
	l.t.w.EmitJSON(l.t.id, "dtlsstatechange", m)
}

// srtpProfiles are the SRTP protection profiles offered in the DTLS
// use_srtp extension, most preferred first.
var srtpProfiles = []dtls.SRTPProtectionProfile{
	dtls.SRTP_AEAD_AES_256_GCM,
	dtls.SRTP_AEAD_AES_128_GCM,
	dtls.SRTP_AES128_CM_HMAC_SHA1_80,
	dtls.SRTP_AES128_CM_HMAC_SHA1_32,
}

// maybeStartDtls starts the handshake once, when ICE is connected and
// connect() has been called; it runs in its own goroutine.
func (l *webrtcLink) maybeStartDtls() {
	l.iceMu.Lock()
	st := l.ice.State()
	l.iceMu.Unlock()
	if st != ice.StateConnected && st != ice.StateCompleted {
		return
	}
	l.dtlsMu.Lock()
	if !l.connectCalled || l.dtlsStarted || l.closed.Load() {
		l.dtlsMu.Unlock()
		return
	}
	l.dtlsStarted = true
	role := l.dtlsRole
	pc := newDtlsPacketConn(l)
	l.dtlsPC = pc
	remote := l.remoteFingerprints
	l.dtlsMu.Unlock()
	l.setDtlsState("connecting", "")
	l.t.wg.Add(1)
	l.t.w.Go(func() {
		defer l.t.wg.Done()
		l.runDtls(pc, role, remote)
	})
}

// runDtls runs the DTLS handshake in the given role, checks the remote
// certificate against the fingerprints given to connect(), sets up SRTP and
// then hands the connection to SCTP or keeps reading it for alerts.
func (l *webrtcLink) runDtls(pc *dtlsPacketConn, role string, remote []DtlsFingerprint) {
	var remoteCert []byte
	verifyPeer := dtls.WithVerifyPeerCertificate(func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("no remote certificate")
		}
		if !checkRemoteFingerprint(raw[0], remote) {
			l.t.log.Warnf(logger.TagDtls, "remote DTLS certificate matches none of the %d fingerprints given to connect() [transportId:%s]", len(remote), l.t.id)
			return errors.New("remote certificate does not match any remote fingerprint")
		}
		l.t.log.Debugf(logger.TagDtls, "valid remote DTLS fingerprint [transportId:%s]", l.t.id)
		remoteCert = raw[0]
		return nil
	})
	common := []dtls.Option{
		dtls.WithCertificates(l.identity.cert),
		dtls.WithSRTPProtectionProfiles(srtpProfiles...),
		dtls.WithInsecureSkipVerify(true),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithLoggerFactory(l.t.w.log.PionFactory(logger.TagDtls)),
		verifyPeer,
	}
	var (
		conn *dtls.Conn
		err  error
	)
	if role == "client" {
		opts := make([]dtls.ClientOption, 0, len(common))
		for _, o := range common {
			opts = append(opts, o)
		}
		conn, err = dtls.ClientWithOptions(pc, pc.RemoteAddr(), opts...)
	} else {
		opts := make([]dtls.ServerOption, 0, len(common)+1)
		for _, o := range common {
			opts = append(opts, o)
		}
		opts = append(opts, dtls.WithClientAuth(dtls.RequireAnyClientCert))
		conn, err = dtls.ServerWithOptions(pc, pc.RemoteAddr(), opts...)
	}
	l.t.log.Debugf(logger.TagDtls, "DTLS handshake starting in local role %s [transportId:%s]", role, l.t.id)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = conn.HandshakeContext(ctx)
		cancel()
	}
	if err != nil {
		if !l.closed.Load() {
			l.t.log.Warn("DTLS handshake failed [transportId:%s, local role:%s]: %v", l.t.id, role, err)
			l.setDtlsState("failed", "")
		}
		if conn != nil {
			_ = conn.Close()
		}
		return
	}
	if err := l.setupSrtp(conn, role == "client"); err != nil {
		l.t.log.Warn("SRTP setup failed [transportId:%s]: %v", l.t.id, err)
		l.setDtlsState("failed", "")
		_ = conn.Close()
		return
	}
	l.dtlsMu.Lock()
	l.dtlsConn = conn
	l.dtlsMu.Unlock()
	certPem := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: remoteCert}))
	l.setDtlsState("connected", certPem)
	l.t.remoteConnected()
	dc := &dtlsAppConn{Conn: conn, onClosed: l.dtlsClosed}
	if l.t.sctp != nil {
		// DTLS application data is SCTP: the association reads it. If
		// the association ends (an ABORT from the remote), DTLS and media
		// go on: keep processing alerts.
		l.t.sctp.Start(dc, dc.keepReading)
		return
	}
	dc.keepReading()
}

// dtlsClosed runs when the DTLS session ends (alert or error).
func (l *webrtcLink) dtlsClosed() {
	if !l.closed.Load() {
		l.t.log.Warnf(logger.TagDtls, "DTLS session ended by the remote (alert or error) [transportId:%s]", l.t.id)
		l.srtpReady.Store(false)
		l.setDtlsState("closed", "")
	}
}

// dtlsAppConn is the DTLS connection as the SCTP association sees it. The
// association closing it (on an ABORT, or when the transport closes) must
// not end DTLS, which carries SRTP too: Close only ends the association's
// reads. A failed read means the DTLS session ended.
type dtlsAppConn struct {
	*dtls.Conn
	once       sync.Once
	onClosed   func()
	sctpClosed atomic.Bool
}

func (c *dtlsAppConn) Read(p []byte) (int, error) {
	if c.sctpClosed.Load() {
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Read(p)
	if err != nil {
		if c.sctpClosed.Load() {
			return 0, net.ErrClosed
		}
		c.once.Do(c.onClosed)
	}
	return n, err
}

// Close ends the association's use of the connection: a read in progress
// returns at once.
func (c *dtlsAppConn) Close() error {
	c.sctpClosed.Store(true)
	return c.Conn.SetReadDeadline(time.Unix(1, 0))
}

// Deadlines belong to the DTLS connection, not to the association.
func (c *dtlsAppConn) SetDeadline(time.Time) error      { return nil }
func (c *dtlsAppConn) SetReadDeadline(time.Time) error  { return nil }
func (c *dtlsAppConn) SetWriteDeadline(time.Time) error { return nil }

// keepReading reads the DTLS connection when nothing else does, so that
// alerts (close_notify) are processed; application data is dropped.
func (c *dtlsAppConn) keepReading() {
	_ = c.Conn.SetReadDeadline(time.Time{})
	rb := netio.NewReadBuffer()
	defer rb.Release()
	debug.SetPanicOnFault(true) // a fault in the mapped buffer panics, not aborts
	buf := rb.B
	for {
		if _, err := c.Conn.Read(buf); err != nil {
			c.once.Do(c.onClosed)
			return
		}
	}
}

// dtlsPacketConn feeds DTLS records from the ICE paths to pion/dtls and
// sends its records on the selected path.
type dtlsPacketConn struct {
	l         *webrtcLink
	in        chan []byte
	done      chan struct{}
	closeOnce sync.Once
	raddr     *net.UDPAddr

	// The read deadline: pion/dtls interrupts a blocked ReadFrom by
	// setting one in the past when a handshake fails or times out.
	dlMu         sync.Mutex
	readDeadline time.Time
	dlChanged    chan struct{}
}

// dtlsQueue bounds the DTLS records waiting for pion/dtls's reader. After
// the handshake they carry SCTP: a browser sends bursts of hundreds of
// one-message datagrams (about 500 back to back from Chromium), which a
// short queue would cut, costing unordered channels messages and ordered
// ones retransmissions.
const dtlsQueue = 2048

// newDtlsPacketConn returns the packet conn of l's DTLS session.
func newDtlsPacketConn(l *webrtcLink) *dtlsPacketConn {
	return &dtlsPacketConn{l: l, in: make(chan []byte, dtlsQueue), done: make(chan struct{}), raddr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9},
		dlChanged: make(chan struct{})}
}

// push queues a DTLS datagram received on an ICE path for pion/dtls.
func (c *dtlsPacketConn) push(b []byte) {
	cp := append([]byte(nil), b...)
	select {
	case c.in <- cp:
	case <-c.done:
	default:
		// Never block the socket's goroutine (it carries RTP, and on a
		// WebRtcServer other transports): drop and count; DTLS and
		// reliable SCTP retransmit.
		c.l.t.logDrop(logger.LevelWarn, logger.TagDtls, &c.l.t.logRL.dtlsDrop, c.l.t.w.nowMs(), "DTLS receive queue full, record dropped")
		c.l.t.drops.dtlsQueue.Add(1)
	}
}

func (c *dtlsPacketConn) RemoteAddr() net.Addr { return c.raddr }

// ReadFrom returns the next queued datagram, honouring the read deadline.
func (c *dtlsPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		c.dlMu.Lock()
		deadline, changed := c.readDeadline, c.dlChanged
		c.dlMu.Unlock()
		var expired <-chan time.Time
		var timer *time.Timer
		if !deadline.IsZero() {
			d := time.Until(deadline)
			if d <= 0 {
				return 0, nil, os.ErrDeadlineExceeded
			}
			timer = time.NewTimer(d)
			expired = timer.C
		}
		select {
		case b := <-c.in:
			if timer != nil {
				timer.Stop()
			}
			return copy(p, b), c.raddr, nil
		case <-c.done:
			if timer != nil {
				timer.Stop()
			}
			return 0, nil, net.ErrClosed
		case <-expired:
			return 0, nil, os.ErrDeadlineExceeded
		case <-changed:
			if timer != nil {
				timer.Stop()
			}
		}
	}
}

// WriteTo sends a DTLS datagram on the selected ICE path.
func (c *dtlsPacketConn) WriteTo(p []byte, _ net.Addr) (int, error) {
	select {
	case <-c.done:
		return 0, net.ErrClosed
	default:
	}
	if err := c.l.sendRaw(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *dtlsPacketConn) Close() error {
	c.closeOnce.Do(func() { close(c.done) })
	return nil
}

func (c *dtlsPacketConn) LocalAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
}
func (c *dtlsPacketConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

func (c *dtlsPacketConn) SetReadDeadline(t time.Time) error {
	c.dlMu.Lock()
	c.readDeadline = t
	close(c.dlChanged)
	c.dlChanged = make(chan struct{})
	c.dlMu.Unlock()
	return nil
}

func (c *dtlsPacketConn) SetWriteDeadline(time.Time) error { return nil }
