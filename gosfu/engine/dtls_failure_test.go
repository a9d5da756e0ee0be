package engine

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/fingerprint"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// selfSigned is a DTLS certificate and its sha-256 fingerprint.
func selfSigned(t testing.TB) (dtls.Option, string) {
	t.Helper()
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	x, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	fp, err := fingerprint.Fingerprint(x, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return dtls.WithCertificates(cert), fp
}

// TestDtlsFingerprintMismatch: when the certificate the remote presents
// matches none of the fingerprints given to connect(), in either DTLS
// role, dtlsState becomes 'failed' (a dtlsstatechange after 'connecting',
// as mediasoup), no media is forwarded, and a dtls-tagged line names the
// mismatch. The same exchange with the right fingerprint connects and
// forwards, so the harness can tell the two apart.
func TestDtlsFingerprintMismatch(t *testing.T) {
	for _, tc := range []struct {
		name       string
		remoteRole string // the role the remote gives to connect()
		mismatch   bool
	}{
		{"gosfu DTLS server, client certificate mismatch", "client", true},
		{"gosfu DTLS client, server certificate mismatch", "server", true},
		{"gosfu DTLS server, matching", "client", false},
		{"gosfu DTLS client, matching", "server", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &pionEvents{}
			settings, _ := json.Marshal(map[string]any{"logLevel": "debug", "logTags": []string{"dtls"}, "rtcMinPort": 40000, "rtcMaxPort": 49999})
			w, err := NewWorker(settings, rec)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close(); w.Wait() })
			routerID, caps := setupPionRouter(t, w)
			id, info := createPionTransport(t, w, routerID, pionCase{}, "")
			pionRequest(t, w, "transport.produce", id, map[string]any{
				"producerId": "p", "kind": "video",
				"rtpParameters": map[string]any{
					"codecs":    []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000}},
					"encodings": []any{map[string]any{"ssrc": 1111}},
				},
			})
			pionRequest(t, w, "router.createDirectTransport", routerID, map[string]any{"transportId": "d"})
			pionRequest(t, w, "transport.consume", "d", map[string]any{"consumerId": "c", "producerId": "p", "rtpCapabilities": caps})

			certOpt, fp := selfSigned(t)
			if tc.mismatch {
				_, fp = selfSigned(t) // another certificate's
			}
			pionRequest(t, w, "transport.connect", id, map[string]any{
				"dtlsParameters": map[string]any{"role": tc.remoteRole, "fingerprints": []any{map[string]any{"algorithm": "sha-256", "value": fp}}},
			})

			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: info.IceCandidates[0].Port}
			req := stunRequest(t, info.IceParameters.UsernameFragment, info.IceParameters.Password, true, true, true)
			if r := exchange(t, c, to, req, 5*time.Second); r == nil || stunErrorCode(t, r) != 0 {
				t.Fatalf("binding request: reply % x", r)
			}
			_ = c.SetReadDeadline(time.Time{})

			opts := []dtls.Option{certOpt,
				dtls.WithSRTPProtectionProfiles(dtls.SRTP_AES128_CM_HMAC_SHA1_80),
				dtls.WithInsecureSkipVerify(true),
				dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret)}
			var conn *dtls.Conn
			isClient := tc.remoteRole == "client"
			if isClient {
				co := make([]dtls.ClientOption, 0, len(opts))
				for _, o := range opts {
					co = append(co, o)
				}
				conn, err = dtls.ClientWithOptions(noClose{c}, to, co...)
			} else {
				so := make([]dtls.ServerOption, 0, len(opts)+1)
				for _, o := range opts {
					so = append(so, o)
				}
				so = append(so, dtls.WithClientAuth(dtls.RequireAnyClientCert))
				conn, err = dtls.ServerWithOptions(noClose{c}, to, so...)
			}
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			hsErr := conn.HandshakeContext(ctx)
			cancel()
			defer conn.Close()

			want := "connected"
			if tc.mismatch {
				want = "failed"
				if hsErr == nil {
					t.Error("the remote's handshake succeeded")
				}
			} else if hsErr != nil {
				t.Fatalf("handshake: %v", hsErr)
			}
			waitFor(t, "dtlsState "+want, 10*time.Second, func() bool { return rec.has(id, "dtlsstatechange", "dtlsState", want) })
			var states []string
			for _, e := range rec.eventsOf(id, "dtlsstatechange") {
				var m map[string]any
				_ = json.Unmarshal(e, &m)
				states = append(states, m["dtlsState"].(string))
				if _, ok := m["dtlsRemoteCert"]; ok && tc.mismatch {
					t.Error("dtlsRemoteCert given for a mismatching certificate")
				}
			}
			if strings.Join(states, ",") != "connecting,"+want {
				t.Errorf("dtlsstatechange %v, want connecting,%s", states, want)
			}
			if st := transportStats(t, w, id)["dtlsState"]; st != want {
				t.Errorf("getStats dtlsState %v, want %s", st, want)
			}

			// Media: SRTP with the session's keys when the remote has them,
			// else the plain packets an attacker could send.
			var send func(b []byte) []byte
			if hsErr == nil {
				state, _ := conn.ConnectionState()
				cfg := srtp.Config{Profile: srtp.ProtectionProfileAes128CmHmacSha1_80}
				if err := cfg.ExtractSessionKeysFromDTLS(&state, isClient); err != nil {
					t.Fatal(err)
				}
				sc, err := srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, cfg.Profile)
				if err != nil {
					t.Fatal(err)
				}
				send = func(b []byte) []byte {
					out, err := sc.EncryptRTP(nil, b, nil)
					if err != nil {
						t.Fatal(err)
					}
					return out
				}
			} else {
				send = func(b []byte) []byte { return b }
			}
			const n = 5
			for i := uint16(1); i <= n; i++ {
				p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: i, Timestamp: 3000 * uint32(i), SSRC: 1111}, Payload: []byte{0x10, 0, 0, 0, 0}}
				b, _ := p.Marshal()
				if _, err := c.WriteToUDP(send(b), to); err != nil {
					t.Fatal(err)
				}
			}
			if tc.mismatch {
				// Every packet is dropped for want of SRTP keys, none
				// forwarded.
				waitFor(t, "the packets dropped", 10*time.Second, func() bool {
					return dumpDrops(t, w, "transport.dump", id)["srtp"] >= n
				})
				if got := len(rec.eventsOf("c", "rtp")); got != 0 {
					t.Errorf("%d packets forwarded after a failed DTLS handshake", got)
				}
			} else {
				waitFor(t, "the packets forwarded", 10*time.Second, func() bool { return len(rec.eventsOf("c", "rtp")) == n })
			}

			named := false
			for _, l := range rec.logLines(t) {
				named = named || (l.hasTag("dtls") && strings.Contains(l.Msg, "fingerprint") && strings.Contains(l.Msg, id) &&
					(strings.Contains(l.Msg, "matches none") || strings.Contains(l.Msg, "mismatch")))
			}
			if named != tc.mismatch {
				t.Errorf("a dtls line names a fingerprint mismatch: %t, want %t", named, tc.mismatch)
			}
		})
	}
}

// noClose keeps the socket (the ICE tuple) open when pion/dtls closes its
// connection on a failed handshake, so that media can still be sent.
type noClose struct{ *net.UDPConn }

func (noClose) Close() error { return nil }

// eventsOf returns the payloads target emitted as ev.
func (r *pionEvents) eventsOf(target, ev string) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out [][]byte
	for _, e := range r.events {
		if e.target == target && e.name == ev {
			out = append(out, e.data)
		}
	}
	return out
}
