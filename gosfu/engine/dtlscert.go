package engine

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"sync"

	"github.com/pion/dtls/v3/pkg/crypto/fingerprint"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
)

// DtlsFingerprint is mediasoup's DtlsFingerprint.
type DtlsFingerprint struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

// fingerprintAlgorithms are the algorithms a transport advertises, in
// mediasoup's order.
var fingerprintAlgorithms = []struct {
	name string
	hash crypto.Hash
}{
	{"sha-1", crypto.SHA1},
	{"sha-224", crypto.SHA224},
	{"sha-256", crypto.SHA256},
	{"sha-384", crypto.SHA384},
	{"sha-512", crypto.SHA512},
}

// dtlsIdentity is a worker's DTLS certificate and its fingerprints.
type dtlsIdentity struct {
	cert         tls.Certificate
	x509         *x509.Certificate
	fingerprints []DtlsFingerprint
}

// dtlsIdentity returns the worker's certificate: the one loaded from the
// settings' files or one generated on first use.
func (w *Worker) dtlsIdentity() (*dtlsIdentity, error) {
	w.dtlsOnce.Do(func() {
		var cert tls.Certificate
		if w.DtlsCertificate != nil {
			cert = *w.DtlsCertificate
		} else {
			var err error
			if cert, err = selfsign.GenerateSelfSigned(); err != nil {
				w.dtlsErr = err
				return
			}
		}
		x, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			w.dtlsErr = err
			return
		}
		id := &dtlsIdentity{cert: cert, x509: x}
		for _, a := range fingerprintAlgorithms {
			v, err := fingerprint.Fingerprint(x, a.hash)
			if err != nil {
				continue
			}
			// mediasoup prints fingerprints in uppercase.
			id.fingerprints = append(id.fingerprints, DtlsFingerprint{Algorithm: a.name, Value: strings.ToUpper(v)})
		}
		w.dtls = id
	})
	return w.dtls, w.dtlsErr
}

// dtlsOnceState is embedded in Worker.
type dtlsOnceState struct {
	dtlsOnce sync.Once
	dtls     *dtlsIdentity
	dtlsErr  error
}

// checkRemoteFingerprint matches a peer certificate against the remote
// fingerprints (leniently: case-insensitive).
func checkRemoteFingerprint(raw []byte, remote []DtlsFingerprint) bool {
	x, err := x509.ParseCertificate(raw)
	if err != nil {
		return false
	}
	for _, fp := range remote {
		h, err := fingerprint.HashFromString(strings.ToLower(fp.Algorithm))
		if err != nil {
			continue
		}
		v, err := fingerprint.Fingerprint(x, h)
		if err != nil {
			continue
		}
		if strings.EqualFold(v, fp.Value) {
			return true
		}
	}
	return false
}
