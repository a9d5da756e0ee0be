// Package ice is an ICE-lite server (RFC 8445 lite agent, controlled role)
// with mediasoup's rules: STUN binding requests must carry FINGERPRINT,
// PRIORITY and a MESSAGE-INTEGRITY made with the local password; USE-CANDIDATE
// or GOOG-NOMINATION select the tuple; at most 8 tuples; consent freshness
// moves the state to disconnected when requests stop.
//
// A Server owns no socket: the transport feeds it the STUN packets it
// receives (with an opaque path value telling where they came from) and
// sends the response it returns. It is not safe for concurrent use.
package ice

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/pion/stun/v4"

	"github.com/gosfu/gosfu/gosfu/logger"
)

// State is the ICE state, named as mediasoup names it.
type State string

// ICE states.
const (
	StateNew          State = "new"
	StateConnected    State = "connected"
	StateCompleted    State = "completed"
	StateDisconnected State = "disconnected"
	StateClosed       State = "closed"
)

// MaxTuples is how many candidate pairs a server keeps.
const MaxTuples = 8

// Consent timeout bounds in seconds (mediasoup's iceConsentTimeout).
const (
	DefaultConsentTimeoutSec = 30
	MinConsentTimeoutSec     = 10
	MaxConsentTimeoutSec     = 60
)

// attrGoogNomination is Chromium's renomination attribute (GOOG-NOMINATION).
const attrGoogNomination stun.AttrType = 0xC001

// ClampConsentTimeout applies mediasoup's bounds; 0 disables consent checks.
func ClampConsentTimeout(sec int) int {
	switch {
	case sec == 0:
		return 0
	case sec < MinConsentTimeoutSec:
		return MinConsentTimeoutSec
	case sec > MaxConsentTimeoutSec:
		return MaxConsentTimeoutSec
	}
	return sec
}

type tuple[P comparable] struct {
	path        P
	remote      netip.AddrPort
	lastValidMs int64
}

// Server is the ICE-lite state of one transport. P identifies a network
// path (socket + remote address, or a TCP connection).
type Server[P comparable] struct {
	ufrag, pwd       string
	oldUfrag, oldPwd string
	consentMs        int64

	state            State
	tuples           []tuple[P]
	selected         int // index in tuples, -1 when none
	remoteNomination uint32

	req  stun.Message
	resp stun.Message

	// log (nil: silent) writes the server's ice-tagged lines, each with
	// logID; refusals are rate-limited (a STUN flood must not flood logs).
	log       *logger.Named
	logID     string
	rlInvalid logger.RateLimit
	rlOldCred logger.RateLimit

	// onRemoved (nil: none) is told of every tuple the server drops.
	onRemoved func(P)
}

// SetOnTupleRemoved makes the server call fn with the path of every tuple
// it removes (consent expired, too many tuples, RemoveTuple), while the
// caller's lock is held: fn must only record the path. The owner then
// releases what the path holds (mediasoup closes a TCP tuple's connection).
func (s *Server[P]) SetOnTupleRemoved(fn func(P)) { s.onRemoved = fn }

// SetLogger makes the server log its ICE events (tag ice) to log, naming
// itself id in each line.
func (s *Server[P]) SetLogger(log *logger.Named, id string) {
	s.log, s.logID = log, id
}

// refused logs a rejected STUN packet, rate-limited. Arguments are plain
// strings so that nothing is built when the line is off.
func (s *Server[P]) refused(remote netip.AddrPort, nowMs int64, why, detail string) {
	if !s.log.On(logger.LevelWarn, logger.TagIce) {
		return
	}
	if ok, skipped := s.rlInvalid.Allow(nowMs); ok {
		s.log.Warnf(logger.TagIce, "%s%s [transportId:%s, remote:%s, suppressed:%d]", why, detail, s.logID, remote, skipped)
	}
}

// Result tells what processing a packet changed.
type Result struct {
	// Response must be sent back on the path the request came from; it is
	// valid until the next call. Nil when nothing is to be sent.
	Response []byte
	// StateChanged and SelectedChanged report transitions to emit.
	StateChanged    bool
	SelectedChanged bool
	// Valid tells that the packet was an authenticated binding request.
	Valid bool
}

// NewServer returns a server with the local credentials and consent
// timeout in seconds (already clamped; 0 disables consent checks).
func NewServer[P comparable](ufrag, pwd string, consentTimeoutSec int) *Server[P] {
	return &Server[P]{ufrag: ufrag, pwd: pwd, consentMs: int64(consentTimeoutSec) * 1000, state: StateNew, selected: -1}
}

// State returns the current state.
func (s *Server[P]) State() State { return s.state }

// Credentials returns the local username fragment and password.
func (s *Server[P]) Credentials() (string, string) { return s.ufrag, s.pwd }

// RestartIce installs new local credentials; requests with the old ones
// are still accepted until one with the new ones arrives.
func (s *Server[P]) RestartIce(ufrag, pwd string) {
	s.oldUfrag, s.oldPwd = s.ufrag, s.pwd
	s.ufrag, s.pwd = ufrag, pwd
}

// Selected returns the selected tuple.
func (s *Server[P]) Selected() (P, netip.AddrPort, bool) {
	if s.selected < 0 {
		var zero P
		return zero, netip.AddrPort{}, false
	}
	t := s.tuples[s.selected]
	return t.path, t.remote, true
}

// HasTuple reports whether media from path may be accepted.
func (s *Server[P]) HasTuple(path P) bool {
	for i := range s.tuples {
		if s.tuples[i].path == path {
			return true
		}
	}
	return false
}

// IsStun tells whether b looks like a STUN message (RFC 7983 demux).
func IsStun(b []byte) bool {
	return len(b) >= 20 && b[0] < 2 && b[4] == 0x21 && b[5] == 0x12 && b[6] == 0xA4 && b[7] == 0x42
}

var (
	errNoFingerprint = errors.New("no fingerprint")
	errNoPriority    = errors.New("no priority")
)

// Process handles one STUN packet from remote over path.
func (s *Server[P]) Process(b []byte, path P, remote netip.AddrPort, nowMs int64) Result {
	var res Result
	if s.state == StateClosed {
		return res
	}
	m := &s.req
	m.Raw = append(m.Raw[:0], b...)
	if err := m.Decode(); err != nil {
		s.refused(remote, nowMs, "ignoring invalid STUN packet: ", err.Error())
		return res
	}
	if m.Type.Class != stun.ClassRequest {
		// Indications and responses are not for an ICE-lite server.
		s.refused(remote, nowMs, "ignoring STUN message that is not a request: ", m.Type.Class.String())
		return res
	}
	if m.Type.Method != stun.MethodBinding {
		s.refused(remote, nowMs, "STUN request of unknown method, replying 400: ", m.Type.Method.String())
		res.Response = s.errorResponse(m, remote, stun.CodeBadRequest, "unknown method", "")
		return res
	}
	if !m.Contains(stun.AttrFingerprint) || stun.Fingerprint.Check(m) != nil {
		s.refused(remote, nowMs, "STUN Binding request without valid FINGERPRINT, replying 400", "")
		res.Response = s.errorResponse(m, remote, stun.CodeBadRequest, "missing FINGERPRINT attribute", "")
		return res
	}
	if !m.Contains(stun.AttrPriority) {
		s.refused(remote, nowMs, "STUN Binding request without PRIORITY, replying 400", "")
		res.Response = s.errorResponse(m, remote, stun.CodeBadRequest, "missing PRIORITY attribute", "")
		return res
	}
	pwd, ok := s.authenticate(m, nowMs)
	if !ok {
		s.refused(remote, nowMs, "STUN Binding request with wrong USERNAME or MESSAGE-INTEGRITY, replying 401", "")
		res.Response = s.errorResponse(m, remote, stun.CodeUnauthorized, "unauthorized", "")
		return res
	}
	if m.Contains(stun.AttrICEControlled) {
		s.refused(remote, nowMs, "STUN Binding request with ICE-CONTROLLED (role conflict), replying 487", "")
		res.Response = s.errorResponse(m, remote, stun.CodeRoleConflict, "role conflict", pwd)
		return res
	}
	hasUseCandidate := m.Contains(stun.AttrUseCandidate)
	var nomination uint32
	hasNomination := false
	if v, err := m.Get(attrGoogNomination); err == nil && len(v) >= 4 {
		nomination = uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
		hasNomination = true
	}
	res.Valid = true
	res.Response = s.successResponse(m, remote, pwd)
	prevState, prevSel := s.state, s.selectedPath()
	s.handleValid(path, remote, hasUseCandidate, hasNomination, nomination, nowMs)
	res.StateChanged = s.state != prevState
	res.SelectedChanged = s.selectedPath() != prevSel
	return res
}

type selKey[P comparable] struct {
	ok   bool
	path P
}

func (s *Server[P]) selectedPath() selKey[P] {
	if s.selected < 0 {
		return selKey[P]{}
	}
	return selKey[P]{true, s.tuples[s.selected].path}
}

// authenticate checks USERNAME and MESSAGE-INTEGRITY against the current
// credentials, then the previous ones (during an ICE restart).
func (s *Server[P]) authenticate(m *stun.Message, nowMs int64) (string, bool) {
	uname, err := m.Get(stun.AttrUsername)
	if err != nil || !m.Contains(stun.AttrMessageIntegrity) {
		return "", false
	}
	local, _, found := strings.Cut(string(uname), ":")
	if !found {
		return "", false
	}
	if local == s.ufrag && stun.NewShortTermIntegrity(s.pwd).Check(m) == nil {
		// The new credentials are in use: forget the old ones.
		if s.oldUfrag != "" {
			s.log.Debugf(logger.TagIce, "new ICE credentials in use [transportId:%s]", s.logID)
		}
		s.oldUfrag, s.oldPwd = "", ""
		return s.pwd, true
	}
	if s.oldUfrag != "" && local == s.oldUfrag && stun.NewShortTermIntegrity(s.oldPwd).Check(m) == nil {
		if s.log.On(logger.LevelDebug, logger.TagIce) {
			if ok, _ := s.rlOldCred.Allow(nowMs); ok {
				s.log.Debugf(logger.TagIce, "STUN request with the ICE credentials before restartIce() [transportId:%s]", s.logID)
			}
		}
		return s.oldPwd, true
	}
	return "", false
}

func (s *Server[P]) handleValid(path P, remote netip.AddrPort, useCandidate, hasNomination bool, nomination uint32, nowMs int64) {
	idx := s.addTuple(path, remote, nowMs)
	newNomination := hasNomination && nomination > s.remoteNomination
	nominate := func() {
		s.selected = idx
		if newNomination {
			s.remoteNomination = nomination
		}
	}
	switch s.state {
	case StateNew, StateDisconnected:
		if !useCandidate && !hasNomination {
			s.state = StateConnected
			s.selected = idx
		} else if newNomination || !hasNomination {
			s.state = StateCompleted
			nominate()
		}
	case StateConnected:
		if (useCandidate || hasNomination) && (newNomination || !hasNomination) {
			s.state = StateCompleted
			nominate()
		}
	case StateCompleted:
		if (useCandidate || hasNomination) && (newNomination || useCandidate) {
			nominate()
		}
	}
}

// addTuple stores (or refreshes) a tuple and returns its index.
func (s *Server[P]) addTuple(path P, remote netip.AddrPort, nowMs int64) int {
	for i := range s.tuples {
		if s.tuples[i].path == path {
			s.tuples[i].lastValidMs = nowMs
			return i
		}
	}
	s.tuples = append(s.tuples, tuple[P]{path: path, remote: remote, lastValidMs: nowMs})
	s.log.Debugf(logger.TagIce, "ICE tuple added [transportId:%s, remote:%s, tuples:%d]", s.logID, remote, len(s.tuples))
	if len(s.tuples) > MaxTuples {
		// Drop the oldest tuple that is not selected.
		for i := range s.tuples {
			if i != s.selected {
				s.log.Warnf(logger.TagIce, "too many ICE tuples, removing the oldest one [transportId:%s, remote:%s]", s.logID, s.tuples[i].remote)
				s.removeAt(i)
				break
			}
		}
	}
	return len(s.tuples) - 1
}

func (s *Server[P]) removeAt(i int) {
	path := s.tuples[i].path
	// slices.Delete clears the freed slot: no closed connection is kept.
	s.tuples = slices.Delete(s.tuples, i, i+1)
	if s.onRemoved != nil {
		s.onRemoved(path)
	}
	switch {
	case s.selected == i:
		s.selected = -1
	case s.selected > i:
		s.selected--
	}
}

// RemoveTuple forgets a path (e.g. a closed TCP connection). When it was
// the selected one another tuple is selected, or the state becomes
// disconnected.
func (s *Server[P]) RemoveTuple(path P) (stateChanged, selectedChanged bool) {
	for i := range s.tuples {
		if s.tuples[i].path == path {
			wasSelected := s.selected == i
			s.log.Debugf(logger.TagIce, "ICE tuple removed [transportId:%s, remote:%s, selected:%t]", s.logID, s.tuples[i].remote, wasSelected)
			s.removeAt(i)
			if wasSelected {
				return s.afterSelectedLoss()
			}
			return false, false
		}
	}
	return false, false
}

func (s *Server[P]) afterSelectedLoss() (stateChanged, selectedChanged bool) {
	if (s.state == StateConnected || s.state == StateCompleted) && len(s.tuples) > 0 {
		s.selected = 0
		return false, true
	}
	if s.state == StateConnected || s.state == StateCompleted {
		s.state = StateDisconnected
		s.remoteNomination = 0
		return true, true
	}
	return false, false
}

// Tick applies consent freshness: tuples without a valid request within
// the consent timeout are removed.
func (s *Server[P]) Tick(nowMs int64) (stateChanged, selectedChanged bool) {
	if s.consentMs == 0 || (s.state != StateConnected && s.state != StateCompleted) {
		return false, false
	}
	for i := 0; i < len(s.tuples); {
		if nowMs-s.tuples[i].lastValidMs > s.consentMs {
			wasSelected := s.selected == i
			s.log.Warnf(logger.TagIce, "ICE consent expired, removing tuple [transportId:%s, remote:%s, selected:%t, silentMs:%d]",
				s.logID, s.tuples[i].remote, wasSelected, nowMs-s.tuples[i].lastValidMs)
			s.removeAt(i)
			if wasSelected {
				sc, sel := s.afterSelectedLoss()
				stateChanged = stateChanged || sc
				selectedChanged = selectedChanged || sel
			}
			continue
		}
		i++
	}
	return stateChanged, selectedChanged
}

// Close moves the server to closed.
func (s *Server[P]) Close() {
	s.state = StateClosed
	s.tuples = nil
	s.selected = -1
}

func xorAddr(remote netip.AddrPort) *stun.XORMappedAddress {
	return &stun.XORMappedAddress{IP: net.IP(remote.Addr().Unmap().AsSlice()), Port: int(remote.Port())}
}

func (s *Server[P]) successResponse(req *stun.Message, remote netip.AddrPort, pwd string) []byte {
	r := &s.resp
	r.Reset()
	err := r.Build(
		stun.NewTransactionIDSetter(req.TransactionID),
		stun.NewType(stun.MethodBinding, stun.ClassSuccessResponse),
		xorAddr(remote),
		stun.NewShortTermIntegrity(pwd),
		stun.Fingerprint,
	)
	if err != nil {
		return nil
	}
	return r.Raw
}

func (s *Server[P]) errorResponse(req *stun.Message, remote netip.AddrPort, code stun.ErrorCode, reason, pwd string) []byte {
	r := &s.resp
	r.Reset()
	setters := []stun.Setter{
		stun.NewTransactionIDSetter(req.TransactionID),
		stun.NewType(req.Type.Method, stun.ClassErrorResponse),
		&stun.ErrorCodeAttribute{Code: code, Reason: []byte(reason)},
	}
	if pwd != "" {
		setters = append(setters, stun.NewShortTermIntegrity(pwd))
	}
	setters = append(setters, stun.Fingerprint)
	if err := r.Build(setters...); err != nil {
		return nil
	}
	return r.Raw
}
