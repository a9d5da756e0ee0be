package engine

// SRTP sessions (mediasoup's SrtpSession): pion/srtp contexts that protect
// what a transport sends and unprotect what it receives. A WebRTC
// transport keys them from its DTLS handshake (setupSrtp); plain and pipe
// transports from keys exchanged out of band (newSrtpKey, newSrtpContext).

import (
	"crypto/rand"
	"encoding/base64"
	"errors"

	"github.com/pion/dtls/v3"
	"github.com/pion/srtp/v3"

	"github.com/gosfu/gosfu/gosfu/logger"
)

// srtpSuites maps mediasoup's SRTP crypto suite names to pion profiles.
var srtpSuites = map[string]srtp.ProtectionProfile{
	"AEAD_AES_256_GCM":        srtp.ProtectionProfileAeadAes256Gcm,
	"AEAD_AES_128_GCM":        srtp.ProtectionProfileAeadAes128Gcm,
	"AES_CM_128_HMAC_SHA1_80": srtp.ProtectionProfileAes128CmHmacSha1_80,
	"AES_CM_128_HMAC_SHA1_32": srtp.ProtectionProfileAes128CmHmacSha1_32,
}

// srtpReplayWindow is the replay protection window mediasoup uses.
const srtpReplayWindow = 1024

// SrtpParameters is mediasoup's SrtpParameters.
type SrtpParameters struct {
	CryptoSuite string `json:"cryptoSuite"`
	KeyBase64   string `json:"keyBase64"`
}

// srtpMasterLength is the master key plus salt length of profile.
func srtpMasterLength(profile srtp.ProtectionProfile) int {
	k, _ := profile.KeyLen()
	s, _ := profile.SaltLen()
	return k + s
}

// newSrtpKey returns a random master key and salt for suite, both as
// mediasoup's SrtpParameters and raw.
func newSrtpKey(suite string) (SrtpParameters, []byte) {
	key := make([]byte, srtpMasterLength(srtpSuites[suite]))
	_, _ = rand.Read(key)
	return SrtpParameters{CryptoSuite: suite, KeyBase64: base64.StdEncoding.EncodeToString(key)}, key
}

// newSrtpContext creates an SRTP context for suite from a master key and
// salt; inbound contexts get replay protection.
func newSrtpContext(suite string, master []byte, inbound bool) (*srtp.Context, error) {
	profile := srtpSuites[suite]
	kl, err := profile.KeyLen()
	if err != nil {
		return nil, err
	}
	var opts []srtp.ContextOption
	if inbound {
		opts = append(opts, srtp.SRTPReplayProtection(srtpReplayWindow), srtp.SRTCPReplayProtection(srtpReplayWindow))
	}
	return srtp.CreateContext(master[:kl], master[kl:], profile, opts...)
}

// setupSrtp creates l's SRTP send and receive contexts from the keys of
// the completed DTLS handshake conn.
func (l *webrtcLink) setupSrtp(conn *dtls.Conn, isClient bool) error {
	prof, ok := conn.SelectedSRTPProtectionProfile()
	if !ok {
		return errors.New("no SRTP protection profile negotiated")
	}
	state, ok := conn.ConnectionState()
	if !ok {
		return errors.New("no DTLS connection state")
	}
	profile := srtp.ProtectionProfile(prof)
	cfg := srtp.Config{Profile: profile}
	if err := cfg.ExtractSessionKeysFromDTLS(&state, isClient); err != nil {
		return err
	}
	send, err := srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, profile)
	if err != nil {
		return err
	}
	recv, err := srtp.CreateContext(cfg.Keys.RemoteMasterKey, cfg.Keys.RemoteMasterSalt, profile,
		srtp.SRTPReplayProtection(srtpReplayWindow), srtp.SRTCPReplayProtection(srtpReplayWindow))
	if err != nil {
		return err
	}
	l.sendMu.Lock()
	l.srtpSend = send
	l.sendMu.Unlock()
	l.recvMu.Lock()
	l.srtpRecv = recv
	l.recvMu.Unlock()
	l.srtpReady.Store(true)
	l.t.log.Debugf(logger.TagSrtp, "SRTP sessions created [transportId:%s, profile:%s]", l.t.id, profile)
	return nil
}
