package ortc

// A fast path for decoding control-plane requests. encoding/json checks the
// whole input with its byte-at-a-time scanner before decoding it, then scans
// it again while decoding, and builds `any` trees slowly; for consume's 4 kB
// of capabilities that was most of the request's cost. The reader below
// accepts only what it decodes exactly as encoding/json does and reports
// anything else (malformed JSON, a number out of float64's range, an
// unexpected type or key spelling, excessive nesting) as not handled, so
// callers fall back to encoding/json, which then produces its usual result
// or error: the fast path changes no behaviour. jsondec_test.go compares
// both on generated and fuzzed inputs.

import (
	"encoding/json"
	"strconv"
	"sync"
	"unicode/utf8"
)

// maxFastDepth bounds nesting on the fast path (encoding/json allows 10000;
// deeper inputs take the slow path).
const maxFastDepth = 200

type jsonReader struct {
	b     []byte
	i     int
	depth int
}

func (r *jsonReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// str reads the string literal starting at r.b[r.i] ('"'). With build it
// returns the decoded string, else it only checks the literal.
func (r *jsonReader) str(build bool) (string, bool) {
	start := r.i + 1
	for i := start; i < len(r.b); i++ {
		c := r.b[i]
		if c == '"' {
			r.i = i + 1
			if !build {
				return "", true
			}
			return string(r.b[start:i]), true
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return r.strSlow(build)
		}
	}
	return "", false
}

// strSlow handles literals with escapes or non-ASCII bytes: it finds the
// end, checking escapes and control characters as encoding/json's scanner
// does, and leaves the decoding (escapes, U+FFFD for invalid UTF-8) to
// encoding/json itself.
func (r *jsonReader) strSlow(build bool) (string, bool) {
	q := r.i
	plain := true // no escapes, valid UTF-8: the bytes are the string
	for i := q + 1; i < len(r.b); {
		c := r.b[i]
		switch {
		case c == '"':
			r.i = i + 1
			if !build {
				return "", true
			}
			if plain {
				return string(r.b[q+1 : i]), true
			}
			var s string
			if json.Unmarshal(r.b[q:i+1], &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			plain = false
			if i+1 >= len(r.b) {
				return "", false
			}
			switch r.b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(r.b) {
					return "", false
				}
				for _, h := range r.b[i+2 : i+6] {
					if !isHex(h) {
						return "", false
					}
				}
				i += 6
			default:
				return "", false
			}
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			i++
		default:
			rr, size := utf8.DecodeRune(r.b[i:])
			if rr == utf8.RuneError && size == 1 {
				plain = false
			}
			i += size
		}
	}
	return "", false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// num reads a number literal (JSON grammar). With build it returns its
// float64 value as encoding/json computes it; a literal out of float64's
// range is not handled (encoding/json reports an error for it).
func (r *jsonReader) num(build bool) (float64, bool) {
	b, start := r.b, r.i
	i := start
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	if i >= len(b) || !isDigit(b[i]) {
		return 0, false
	}
	intStart := i
	if b[i] == '0' {
		i++
	} else {
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	intEnd := i
	simple := true
	if i < len(b) && b[i] == '.' {
		simple = false
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return 0, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		simple = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return 0, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	r.i = i
	if !build {
		return 0, true
	}
	if simple && intEnd-intStart <= 15 {
		// Exact in a float64, as strconv.ParseFloat would give it.
		var n uint64
		for _, d := range b[intStart:intEnd] {
			n = n*10 + uint64(d-'0')
		}
		f := float64(n)
		if neg {
			f = -f
		}
		return f, true
	}
	f, err := strconv.ParseFloat(string(b[start:i]), 64)
	return f, err == nil
}

func (r *jsonReader) lit(word string) bool {
	if len(r.b)-r.i < len(word) || string(r.b[r.i:r.i+len(word)]) != word {
		return false
	}
	r.i += len(word)
	return true
}

// value reads one JSON value at r.i (whitespace skipped before it). With
// build it returns what encoding/json decodes into an `any`.
func (r *jsonReader) value(build bool) (any, bool) {
	r.ws()
	if r.i >= len(r.b) {
		return nil, false
	}
	switch c := r.b[r.i]; {
	case c == '{':
		return r.object(build)
	case c == '[':
		return r.array(build)
	case c == '"':
		s, ok := r.str(build)
		if !ok || !build {
			return nil, ok
		}
		return s, true
	case c == '-' || isDigit(c):
		f, ok := r.num(build)
		if !ok || !build {
			return nil, ok
		}
		return f, true
	case c == 't':
		return true, r.lit("true")
	case c == 'f':
		return false, r.lit("false")
	case c == 'n':
		return nil, r.lit("null")
	}
	return nil, false
}

func (r *jsonReader) object(build bool) (any, bool) {
	var m map[string]any
	ok := r.members(func(keyLit, _ []byte, v any) bool {
		if build {
			key, ok := decodeKey(keyLit)
			if !ok {
				return false
			}
			if m == nil {
				m = make(map[string]any)
			}
			m[key] = v
		}
		return true
	}, build)
	if !ok || !build {
		return nil, ok
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, true
}

// members reads an object at r.i, calling member for each member in order
// with its key's literal (checked, quotes included), its raw value and
// (with build) its decoded value.
func (r *jsonReader) members(member func(keyLit, raw []byte, v any) bool, build bool) bool {
	if r.depth++; r.depth > maxFastDepth {
		return false
	}
	r.i++ // '{'
	r.ws()
	if r.i < len(r.b) && r.b[r.i] == '}' {
		r.i++
		r.depth--
		return true
	}
	for {
		r.ws()
		if r.i >= len(r.b) || r.b[r.i] != '"' {
			return false
		}
		keyStart := r.i
		if _, ok := r.str(false); !ok {
			return false
		}
		keyLit := r.b[keyStart:r.i]
		r.ws()
		if r.i >= len(r.b) || r.b[r.i] != ':' {
			return false
		}
		r.i++
		r.ws()
		start := r.i
		v, ok := r.value(build)
		if !ok || !member(keyLit, r.b[start:r.i], v) {
			return false
		}
		r.ws()
		if r.i >= len(r.b) {
			return false
		}
		switch r.b[r.i] {
		case ',':
			r.i++
		case '}':
			r.i++
			r.depth--
			return true
		default:
			return false
		}
	}
}

func (r *jsonReader) array(build bool) (any, bool) {
	if r.depth++; r.depth > maxFastDepth {
		return nil, false
	}
	r.i++ // '['
	var a []any
	if build {
		a = make([]any, 0, 4)
	}
	r.ws()
	if r.i < len(r.b) && r.b[r.i] == ']' {
		r.i++
		r.depth--
		return a, true
	}
	for {
		v, ok := r.value(build)
		if !ok {
			return nil, false
		}
		if build {
			a = append(a, v)
		}
		r.ws()
		if r.i >= len(r.b) {
			return nil, false
		}
		switch r.b[r.i] {
		case ',':
			r.i++
		case ']':
			r.i++
			r.depth--
			if !build {
				return nil, true
			}
			return a, true
		default:
			return nil, false
		}
	}
}

// ParseJSON decodes b as json.Unmarshal does into an `any` (objects as
// map[string]any, arrays as []any, numbers as float64). ok is false for
// whatever the fast path does not handle, valid or not: decode it with
// encoding/json then.
func ParseJSON(b []byte) (v any, ok bool) {
	r := jsonReader{b: b}
	if v, ok = r.value(true); !ok {
		return nil, false
	}
	r.ws()
	if r.i != len(b) {
		return nil, false
	}
	return v, true
}

// JSONField is a destination for DecodeJSONObject: Dest is a *string,
// *bool, **bool, *float64, **float64, *any, *[]byte or *json.RawMessage
// (the raw value, aliasing the input rather than copied), or a
// json.Unmarshaler (called with the raw value of each occurrence, as
// encoding/json calls it; an error means not handled).
type JSONField struct {
	Name string
	Dest any
}

// DecodeJSONObject decodes the JSON object b into fields as json.Unmarshal
// decodes it into a struct with those fields (names matched exactly), and
// reports whether it did. It reports false (the destinations then hold
// partial results) for anything whose result it cannot guarantee to be
// json.Unmarshal's with a nil error: not an object, malformed JSON, a key
// matching a field only case-insensitively or holding non-ASCII bytes, a
// value of the wrong type (encoding/json would fail), a number out of range.
// The caller then decodes with encoding/json.
func DecodeJSONObject(b []byte, fields []JSONField) bool {
	r := jsonReader{b: b}
	r.ws()
	if r.i >= len(b) || b[r.i] != '{' {
		return false
	}
	ok := r.members(func(keyLit, raw []byte, _ any) bool {
		key := keyLit[1 : len(keyLit)-1]
		for i := 0; i < len(key); i++ {
			if key[i] == '\\' || key[i] >= utf8.RuneSelf {
				// Decoded, then compared (an escaped key names the
				// field too).
				k, ok := decodeKey(keyLit)
				return ok && matchField(k, fields, raw)
			}
		}
		return matchField(string(key), fields, raw)
	}, false)
	if !ok {
		return false
	}
	r.ws()
	return r.i == len(b)
}

// matchField stores raw into the field named key. A key naming no field is
// skipped unless encoding/json would match it to one case-insensitively (or
// might, holding non-ASCII bytes): not handled.
func matchField(key string, fields []JSONField, raw []byte) bool {
	for _, f := range fields {
		if key == f.Name {
			return setField(f.Dest, raw)
		}
	}
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			return false
		}
	}
	for _, f := range fields {
		if len(key) == len(f.Name) && asciiEqualFold(key, f.Name) {
			return false
		}
	}
	return true
}

// decodeKey decodes a checked string literal.
func decodeKey(lit []byte) (string, bool) {
	r := jsonReader{b: lit}
	return r.str(true)
}

func asciiEqualFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// setField stores the raw (already checked) value into dest with
// encoding/json's rules for that destination type.
func setField(dest any, raw []byte) bool {
	isNull := string(raw) == "null"
	switch d := dest.(type) {
	case *[]byte:
		*d = raw
		return true
	case *json.RawMessage:
		*d = raw
		return true
	case *any:
		v, ok := ParseJSON(raw)
		if ok {
			*d = v
		}
		return ok
	case *string:
		if isNull {
			return true
		}
		if raw[0] != '"' {
			return false
		}
		r := jsonReader{b: raw}
		s, ok := r.str(true)
		if ok {
			*d = s
		}
		return ok
	case *bool:
		switch string(raw) {
		case "null":
		case "true":
			*d = true
		case "false":
			*d = false
		default:
			return false
		}
		return true
	case **bool:
		switch string(raw) {
		case "null":
			*d = nil
		case "true":
			v := true
			*d = &v
		case "false":
			v := false
			*d = &v
		default:
			return false
		}
		return true
	case *float64:
		if isNull {
			return true
		}
		r := jsonReader{b: raw}
		f, ok := r.num(true)
		if ok {
			*d = f
		}
		return ok
	case **float64:
		if isNull {
			*d = nil
			return true
		}
		r := jsonReader{b: raw}
		f, ok := r.num(true)
		if ok {
			*d = &f
		}
		return ok
	case json.Unmarshaler:
		return d.UnmarshalJSON(raw) == nil
	}
	return false
}

// Validated capabilities are kept by the exact bytes they came from: an
// endpoint consumes every producer with the same capabilities object, and
// decoding and validating its 4 kB each time was most of consume's cost.
const (
	capsCacheEntries = 64
	capsCacheMaxRaw  = 64 << 10
)

type capsEntry struct {
	caps *RtpCapabilities
	used uint64
}

var capsCache struct {
	mu    sync.Mutex
	clock uint64
	m     map[string]*capsEntry
}

func cachedCaps(raw []byte) *RtpCapabilities {
	capsCache.mu.Lock()
	defer capsCache.mu.Unlock()
	e := capsCache.m[string(raw)]
	if e == nil {
		return nil
	}
	capsCache.clock++
	e.used = capsCache.clock
	return e.caps
}

func storeCaps(raw []byte, caps *RtpCapabilities) {
	if len(raw) > capsCacheMaxRaw {
		return
	}
	capsCache.mu.Lock()
	defer capsCache.mu.Unlock()
	if capsCache.m == nil {
		capsCache.m = make(map[string]*capsEntry, capsCacheEntries)
	}
	if len(capsCache.m) >= capsCacheEntries {
		// Evict the least recently used (a scan: misses are rare).
		var oldest string
		least := ^uint64(0)
		for k, e := range capsCache.m {
			if e.used < least {
				oldest, least = k, e.used
			}
		}
		delete(capsCache.m, oldest)
	}
	capsCache.clock++
	capsCache.m[string(raw)] = &capsEntry{caps: caps, used: capsCache.clock}
}

// ValidateRtpCapabilitiesJSON is ValidateRtpCapabilities of the JSON value
// raw (empty raw: undefined), with the results of valid capabilities kept
// in a small LRU cache keyed by the exact bytes. The capabilities returned
// may be shared with other callers: treat them as read-only. ok is false
// when raw is not handled by ParseJSON: decode it with encoding/json and
// call ValidateRtpCapabilities.
func ValidateRtpCapabilitiesJSON(raw []byte) (caps *RtpCapabilities, ok bool, err error) {
	if len(raw) == 0 {
		caps, err = ValidateRtpCapabilities(nil)
		return caps, true, err
	}
	if caps = cachedCaps(raw); caps != nil {
		return caps, true, nil
	}
	v, ok := ParseJSON(raw)
	if !ok {
		return nil, false, nil
	}
	if caps, err = ValidateRtpCapabilities(v); err != nil {
		return nil, true, err
	}
	storeCaps(raw, caps)
	return caps, true, nil
}
