package ice

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/pion/stun/v4"
)

const (
	tUfrag = "localufrag"
	tPwd   = "localpasswordlocalpassword"
)

// reqOpts describes a binding request; the zero value plus withDefaults
// is a valid request as a controlling ICE agent sends it.
type reqOpts struct {
	ufrag, pwd     string
	noPriority     bool
	noFingerprint  bool
	badFingerprint bool
	noIntegrity    bool
	noUsername     bool
	useCandidate   bool
	nomination     *uint32
	controlled     bool
	class          *stun.MessageClass
	method         *stun.Method
}

func nom(n uint32) *uint32 { return &n }

func buildReq(t testing.TB, o reqOpts) ([]byte, [stun.TransactionIDSize]byte) {
	t.Helper()
	if o.ufrag == "" {
		o.ufrag = tUfrag
	}
	if o.pwd == "" {
		o.pwd = tPwd
	}
	typ := stun.BindingRequest
	if o.class != nil {
		typ.Class = *o.class
	}
	if o.method != nil {
		typ.Method = *o.method
	}
	setters := []stun.Setter{stun.TransactionID, typ}
	if !o.noUsername {
		setters = append(setters, stun.NewUsername(o.ufrag+":remote"))
	}
	if !o.noPriority {
		setters = append(setters, stun.RawAttribute{Type: stun.AttrPriority, Value: []byte{0x6e, 0x7f, 0x1e, 0xff}})
	}
	tb := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	if o.controlled {
		setters = append(setters, stun.RawAttribute{Type: stun.AttrICEControlled, Value: tb})
	} else {
		setters = append(setters, stun.RawAttribute{Type: stun.AttrICEControlling, Value: tb})
	}
	if o.useCandidate {
		setters = append(setters, stun.RawAttribute{Type: stun.AttrUseCandidate})
	}
	if o.nomination != nil {
		v := make([]byte, 4)
		binary.BigEndian.PutUint32(v, *o.nomination)
		setters = append(setters, stun.RawAttribute{Type: attrGoogNomination, Value: v})
	}
	if !o.noIntegrity {
		setters = append(setters, stun.NewShortTermIntegrity(o.pwd))
	}
	if !o.noFingerprint {
		setters = append(setters, stun.Fingerprint)
	}
	m, err := stun.Build(setters...)
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(nil), m.Raw...)
	if o.badFingerprint {
		b[len(b)-1] ^= 0xff
	}
	return b, m.TransactionID
}

var remotes = map[string]netip.AddrPort{}

func remoteOf(path string) netip.AddrPort {
	if r, ok := remotes[path]; ok {
		return r
	}
	r := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(10000+len(remotes)))
	remotes[path] = r
	return r
}

// checkResponse decodes a response and returns its error code (0 for a
// success response); it checks the transaction id, FINGERPRINT, the
// MESSAGE-INTEGRITY made with pwd (when pwd is set) and XOR-MAPPED-ADDRESS.
func checkResponse(t *testing.T, resp []byte, tid [stun.TransactionIDSize]byte, remote netip.AddrPort, pwd string) int {
	t.Helper()
	m := &stun.Message{Raw: append([]byte(nil), resp...)}
	if err := m.Decode(); err != nil {
		t.Fatalf("response does not decode: %v", err)
	}
	if m.TransactionID != tid {
		t.Fatal("response transaction id differs")
	}
	if err := stun.Fingerprint.Check(m); err != nil {
		t.Fatalf("response FINGERPRINT: %v", err)
	}
	if pwd != "" {
		if err := stun.NewShortTermIntegrity(pwd).Check(m); err != nil {
			t.Fatalf("response MESSAGE-INTEGRITY: %v", err)
		}
	}
	if m.Type.Method != stun.MethodBinding && m.Type.Class == stun.ClassSuccessResponse {
		t.Fatalf("response method %v", m.Type.Method)
	}
	switch m.Type.Class {
	case stun.ClassSuccessResponse:
		var xa stun.XORMappedAddress
		if err := xa.GetFrom(m); err != nil {
			t.Fatalf("XOR-MAPPED-ADDRESS: %v", err)
		}
		if got := netip.AddrPortFrom(netip.MustParseAddr(xa.IP.String()), uint16(xa.Port)); got != remote {
			t.Fatalf("XOR-MAPPED-ADDRESS %v, want %v", got, remote)
		}
		return 0
	case stun.ClassErrorResponse:
		var ec stun.ErrorCodeAttribute
		if err := ec.GetFrom(m); err != nil {
			t.Fatalf("ERROR-CODE: %v", err)
		}
		return int(ec.Code)
	}
	t.Fatalf("response class %v", m.Type.Class)
	return -1
}

// step is one packet (or tick / ICE restart / tuple removal) and what it
// must do.
type step struct {
	path    string
	req     reqOpts
	now     int64
	tick    bool   // call Tick(now) instead of Process
	restart string // RestartIce(restart, restart+"-pwd-xxxxxxxxxxxxxxxx")
	remove  bool   // RemoveTuple(path)

	code        int    // 0 success, >0 error code, -1 no response
	respPwd     string // password the response must be signed with ("" → tPwd on success and 487)
	state       State
	selected    string // "" → none
	stateChange bool
	selChange   bool
}

func TestIceStateMachine(t *testing.T) {
	uc := reqOpts{useCandidate: true}
	indication := stun.ClassIndication
	successClass := stun.ClassSuccessResponse
	allocate := stun.MethodAllocate
	restartPwd := func(u string) string { return u + "-pwd-xxxxxxxxxxxxxxxx" }

	tests := []struct {
		name    string
		consent int
		steps   []step
	}{
		{"new to connected without nomination", 30, []step{
			{path: "a", code: 0, state: StateConnected, selected: "a", stateChange: true, selChange: true},
			{path: "a", code: 0, state: StateConnected, selected: "a"},
			// A second tuple is stored but does not take over while connected.
			{path: "b", code: 0, state: StateConnected, selected: "a"},
		}},
		{"new to completed with USE-CANDIDATE", 30, []step{
			{path: "a", req: uc, code: 0, state: StateCompleted, selected: "a", stateChange: true, selChange: true},
			{path: "b", code: 0, state: StateCompleted, selected: "a"},
			{path: "b", req: uc, code: 0, state: StateCompleted, selected: "b", selChange: true},
		}},
		{"connected then USE-CANDIDATE on another tuple", 30, []step{
			{path: "a", code: 0, state: StateConnected, selected: "a", stateChange: true, selChange: true},
			{path: "b", req: uc, code: 0, state: StateCompleted, selected: "b", stateChange: true, selChange: true},
		}},
		{"GOOG-NOMINATION only when greater than the last", 30, []step{
			{path: "a", req: reqOpts{nomination: nom(1)}, code: 0, state: StateCompleted, selected: "a", stateChange: true, selChange: true},
			{path: "b", req: reqOpts{nomination: nom(1)}, code: 0, state: StateCompleted, selected: "a"},
			{path: "b", req: reqOpts{nomination: nom(0)}, code: 0, state: StateCompleted, selected: "a"},
			{path: "b", req: reqOpts{nomination: nom(2)}, code: 0, state: StateCompleted, selected: "b", selChange: true},
			{path: "a", req: reqOpts{nomination: nom(2)}, code: 0, state: StateCompleted, selected: "b"},
			{path: "a", req: reqOpts{nomination: nom(5)}, code: 0, state: StateCompleted, selected: "a", selChange: true},
			// A plain check (keepalive) does not change the selection.
			{path: "b", code: 0, state: StateCompleted, selected: "a"},
		}},
		{"GOOG-NOMINATION zero does not complete", 30, []step{
			{path: "a", req: reqOpts{nomination: nom(0)}, code: 0, state: StateNew},
			{path: "a", req: reqOpts{nomination: nom(1)}, code: 0, state: StateCompleted, selected: "a", stateChange: true, selChange: true},
		}},
		{"401 on wrong credentials", 30, []step{
			{path: "a", req: reqOpts{pwd: "wrongpassword"}, code: 401, state: StateNew},
			{path: "a", req: reqOpts{ufrag: "otherufrag"}, code: 401, state: StateNew},
			{path: "a", req: reqOpts{noIntegrity: true}, code: 401, state: StateNew},
			{path: "a", req: reqOpts{noUsername: true}, code: 401, state: StateNew},
			{path: "a", code: 0, state: StateConnected, selected: "a", stateChange: true, selChange: true},
			// After connecting, a bad request changes nothing.
			{path: "b", req: reqOpts{pwd: "wrongpassword", useCandidate: true}, code: 401, state: StateConnected, selected: "a"},
		}},
		{"487 when ICE-CONTROLLED", 30, []step{
			{path: "a", req: reqOpts{controlled: true, useCandidate: true}, code: 487, state: StateNew},
		}},
		{"400 without PRIORITY or FINGERPRINT", 30, []step{
			{path: "a", req: reqOpts{noPriority: true}, code: 400, state: StateNew},
			{path: "a", req: reqOpts{noFingerprint: true}, code: 400, state: StateNew},
			{path: "a", req: reqOpts{badFingerprint: true}, code: 400, state: StateNew},
			{path: "a", req: reqOpts{noPriority: true, useCandidate: true}, code: 400, state: StateNew},
		}},
		{"non-binding and non-requests", 30, []step{
			{path: "a", req: reqOpts{method: &allocate}, code: 400, state: StateNew},
			{path: "a", req: reqOpts{class: &indication}, code: -1, state: StateNew},
			{path: "a", req: reqOpts{class: &successClass}, code: -1, state: StateNew},
		}},
		{"max 8 tuples keeps the selected one", 30, []step{
			{path: "t0", req: uc, code: 0, state: StateCompleted, selected: "t0", stateChange: true, selChange: true},
			{path: "t1", code: 0, state: StateCompleted, selected: "t0"},
			{path: "t2", code: 0, state: StateCompleted, selected: "t0"},
			{path: "t3", code: 0, state: StateCompleted, selected: "t0"},
			{path: "t4", code: 0, state: StateCompleted, selected: "t0"},
			{path: "t5", code: 0, state: StateCompleted, selected: "t0"},
			{path: "t6", code: 0, state: StateCompleted, selected: "t0"},
			{path: "t7", code: 0, state: StateCompleted, selected: "t0"},
			{path: "t8", code: 0, state: StateCompleted, selected: "t0"},
			{path: "t9", req: uc, code: 0, state: StateCompleted, selected: "t9", selChange: true},
		}},
		{"consent timeout to disconnected and back", 10, []step{
			{path: "a", now: 0, req: uc, code: 0, state: StateCompleted, selected: "a", stateChange: true, selChange: true},
			{tick: true, now: 5000, state: StateCompleted, selected: "a"},
			{path: "a", now: 6000, code: 0, state: StateCompleted, selected: "a"},
			{tick: true, now: 16000, state: StateCompleted, selected: "a"},
			{tick: true, now: 16001, state: StateDisconnected, stateChange: true, selChange: true},
			{tick: true, now: 40000, state: StateDisconnected},
			{path: "a", now: 41000, code: 0, state: StateConnected, selected: "a", stateChange: true, selChange: true},
		}},
		{"consent timeout of the selected tuple moves to another", 10, []step{
			{path: "a", now: 0, req: uc, code: 0, state: StateCompleted, selected: "a", stateChange: true, selChange: true},
			{path: "b", now: 8000, code: 0, state: StateCompleted, selected: "a"},
			{tick: true, now: 12000, state: StateCompleted, selected: "b", selChange: true},
			{tick: true, now: 18001, state: StateDisconnected, stateChange: true, selChange: true},
		}},
		{"consent disabled", 0, []step{
			{path: "a", now: 0, code: 0, state: StateConnected, selected: "a", stateChange: true, selChange: true},
			{tick: true, now: 1 << 40, state: StateConnected, selected: "a"},
		}},
		{"tuple removal", 30, []step{
			{path: "a", req: uc, code: 0, state: StateCompleted, selected: "a", stateChange: true, selChange: true},
			{path: "b", code: 0, state: StateCompleted, selected: "a"},
			{path: "b", remove: true, state: StateCompleted, selected: "a"},
			{path: "x", remove: true, state: StateCompleted, selected: "a"},
			{path: "a", remove: true, state: StateDisconnected, stateChange: true, selChange: true},
		}},
		{"ICE restart accepts old credentials until the new ones are used", 30, []step{
			{path: "a", req: uc, code: 0, state: StateCompleted, selected: "a", stateChange: true, selChange: true},
			{restart: "newufrag", state: StateCompleted, selected: "a"},
			{path: "a", code: 0, respPwd: tPwd, state: StateCompleted, selected: "a"},
			{path: "b", req: reqOpts{ufrag: "newufrag", pwd: "wrong"}, code: 401, state: StateCompleted, selected: "a"},
			{path: "a", code: 0, respPwd: tPwd, state: StateCompleted, selected: "a"},
			{path: "b", req: reqOpts{ufrag: "newufrag", pwd: restartPwd("newufrag"), useCandidate: true}, code: 0,
				respPwd: restartPwd("newufrag"), state: StateCompleted, selected: "b", selChange: true},
			{path: "a", code: 401, state: StateCompleted, selected: "b"},
			{path: "a", req: reqOpts{ufrag: "newufrag", pwd: restartPwd("newufrag")}, code: 0, respPwd: restartPwd("newufrag"),
				state: StateCompleted, selected: "b"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer[string](tUfrag, tPwd, tc.consent)
			if s.State() != StateNew {
				t.Fatalf("initial state %s", s.State())
			}
			for i, st := range tc.steps {
				var stateChange, selChange bool
				switch {
				case st.restart != "":
					s.RestartIce(st.restart, restartPwd(st.restart))
					if u, p := s.Credentials(); u != st.restart || p != restartPwd(st.restart) {
						t.Fatalf("step %d: credentials %s %s", i, u, p)
					}
				case st.tick:
					stateChange, selChange = s.Tick(st.now)
				case st.remove:
					stateChange, selChange = s.RemoveTuple(st.path)
					if s.HasTuple(st.path) {
						t.Fatalf("step %d: tuple %s still present", i, st.path)
					}
				default:
					b, tid := buildReq(t, st.req)
					had := s.HasTuple(st.path)
					res := s.Process(b, st.path, remoteOf(st.path), st.now)
					stateChange, selChange = res.StateChanged, res.SelectedChanged
					if st.code < 0 {
						if res.Response != nil {
							t.Fatalf("step %d: unexpected response", i)
						}
					} else {
						if res.Response == nil {
							t.Fatalf("step %d: no response, want %d", i, st.code)
						}
						pwd := ""
						if st.code == 0 || st.code == 487 {
							pwd = st.respPwd
							if pwd == "" {
								pwd = tPwd
							}
						}
						if code := checkResponse(t, res.Response, tid, remoteOf(st.path), pwd); code != st.code {
							t.Fatalf("step %d: code %d, want %d", i, code, st.code)
						}
					}
					if res.Valid != (st.code == 0) {
						t.Fatalf("step %d: Valid %v", i, res.Valid)
					}
					if st.code == 0 && !s.HasTuple(st.path) {
						t.Fatalf("step %d: tuple %s not stored", i, st.path)
					}
					if st.code != 0 && !had && s.HasTuple(st.path) {
						t.Fatalf("step %d: rejected request stored a tuple", i)
					}
				}
				if s.State() != st.state {
					t.Fatalf("step %d: state %s, want %s", i, s.State(), st.state)
				}
				p, remote, ok := s.Selected()
				if st.selected == "" {
					if ok {
						t.Fatalf("step %d: selected %s, want none", i, p)
					}
				} else if !ok || p != st.selected || remote != remoteOf(st.selected) {
					t.Fatalf("step %d: selected %q (%v), want %q", i, p, ok, st.selected)
				}
				if stateChange != st.stateChange || selChange != st.selChange {
					t.Fatalf("step %d: changes state=%v selected=%v, want %v %v", i, stateChange, selChange, st.stateChange, st.selChange)
				}
			}
		})
	}
}

func TestIceMaxTuples(t *testing.T) {
	s := NewServer[string](tUfrag, tPwd, 30)
	paths := []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"}
	b, _ := buildReq(t, reqOpts{useCandidate: true})
	s.Process(b, paths[0], remoteOf(paths[0]), 0)
	for i, p := range paths[1:] {
		b, _ := buildReq(t, reqOpts{})
		s.Process(b, p, remoteOf(p), int64(i+1))
	}
	n := 0
	for _, p := range paths {
		if s.HasTuple(p) {
			n++
		}
	}
	if n != MaxTuples {
		t.Fatalf("%d tuples stored, want %d", n, MaxTuples)
	}
	if !s.HasTuple("t0") || !s.HasTuple("t9") || s.HasTuple("t1") || s.HasTuple("t2") {
		t.Fatal("the oldest non-selected tuples must be dropped first")
	}
	if p, _, _ := s.Selected(); p != "t0" {
		t.Fatalf("selected %s", p)
	}
}

func TestIceClosed(t *testing.T) {
	s := NewServer[string](tUfrag, tPwd, 30)
	b, _ := buildReq(t, reqOpts{useCandidate: true})
	s.Process(b, "a", remoteOf("a"), 0)
	s.Close()
	if s.State() != StateClosed || s.HasTuple("a") {
		t.Fatal("close must clear the tuples")
	}
	if _, _, ok := s.Selected(); ok {
		t.Fatal("selected after close")
	}
	if res := s.Process(b, "a", remoteOf("a"), 1); res.Response != nil || res.Valid || res.StateChanged {
		t.Fatal("closed server processed a request")
	}
	if sc, sel := s.Tick(1 << 40); sc || sel {
		t.Fatal("closed server ticked")
	}
}

func TestIceClampConsentTimeout(t *testing.T) {
	for _, c := range []struct{ in, want int }{{0, 0}, {1, 10}, {9, 10}, {10, 10}, {30, 30}, {60, 60}, {61, 60}, {1000, 60}, {-5, 10}} {
		if got := ClampConsentTimeout(c.in); got != c.want {
			t.Errorf("ClampConsentTimeout(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestIceIsStun(t *testing.T) {
	b, _ := buildReq(t, reqOpts{})
	if !IsStun(b) {
		t.Fatal("binding request not recognised")
	}
	for _, c := range [][]byte{nil, b[:19], {0x80, 0, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {22, 0xfe, 0xfd}} {
		if IsStun(c) {
			t.Fatalf("% x recognised as STUN", c)
		}
	}
}

// FuzzProcess feeds arbitrary packets (seeded with valid and invalid
// requests) to a server in every state: it must never panic, every
// response must decode, and only valid requests may change the state.
func FuzzProcess(f *testing.F) {
	seeds := []reqOpts{
		{}, {useCandidate: true}, {nomination: nom(3)}, {controlled: true}, {noPriority: true},
		{noFingerprint: true}, {pwd: "bad"}, {noIntegrity: true}, {noUsername: true},
	}
	for _, o := range seeds {
		b, _ := buildReq(f, o)
		f.Add(b, uint8(0))
		f.Add(b[:len(b)/2], uint8(1))
	}
	f.Add([]byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(2))
	f.Add([]byte{0, 1, 0xff, 0xfc, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0xff, 0xff}, uint8(3))
	good, _ := buildReq(f, reqOpts{useCandidate: true})
	f.Fuzz(func(t *testing.T, b []byte, mode uint8) {
		s := NewServer[int](tUfrag, tPwd, 10)
		if mode&1 == 1 {
			s.Process(good, 1, remoteOf("a"), 0)
		}
		if mode&2 == 2 {
			s.RestartIce("u2", "p2p2p2p2p2p2p2p2p2p2p2")
		}
		before := s.State()
		res := s.Process(b, int(mode), netip.AddrPortFrom(netip.MustParseAddr("::1"), 9), 5)
		if res.Response != nil {
			m := &stun.Message{Raw: append([]byte(nil), res.Response...)}
			if err := m.Decode(); err != nil {
				t.Fatalf("response does not decode: %v", err)
			}
		}
		if !res.Valid && (s.State() != before || res.StateChanged || res.SelectedChanged) {
			t.Fatal("an invalid packet changed the state")
		}
		s.Tick(1 << 20)
		s.RemoveTuple(int(mode))
		_ = IsStun(b)
	})
}
