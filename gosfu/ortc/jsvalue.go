package ortc

// Helpers that reproduce the JavaScript semantics (typeof, truthiness, strict
// equality, String() conversion) that mediasoup's validation relies on, applied
// to values decoded by encoding/json into `any`.
//
// Convention: a Go nil found inside a decoded map or array is JSON null. A
// missing map key is JS undefined. At the top level of a validator a nil
// argument is treated as JS undefined (an omitted argument).

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
)

// jsKind is the result of JavaScript's typeof for a decoded JSON value.
type jsKind int

const (
	kindUndefined jsKind = iota
	kindObject           // includes null and arrays, like typeof
	kindString
	kindNumber
	kindBoolean
	kindOther
)

// typeOf mimics `typeof v`. present=false means the property did not exist.
func typeOf(v any, present bool) jsKind {
	if !present {
		return kindUndefined
	}
	switch v.(type) {
	case nil, map[string]any, []any, []map[string]any:
		return kindObject
	case string:
		return kindString
	case bool:
		return kindBoolean
	}
	if _, ok := toNumber(v); ok {
		return kindNumber
	}
	return kindOther
}

// toNumber converts any Go numeric type (and json.Number) to float64.
func toNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return 0, false
		}
		return f, true
	}
	return 0, false
}

// truthy mimics JavaScript's ToBoolean. present=false is undefined.
func truthy(v any, present bool) bool {
	if !present || v == nil {
		return false
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x != ""
	case map[string]any, []any, []map[string]any:
		return true
	}
	if f, ok := toNumber(v); ok {
		return f != 0 && !math.IsNaN(f)
	}
	return true
}

// prop reads a property of a JS value. Only plain objects have named
// properties here; arrays and primitives yield undefined for every key the
// validators look up.
func prop(v any, key string) (any, bool) {
	if m, ok := v.(map[string]any); ok {
		x, ok := m[key]
		return x, ok
	}
	return nil, false
}

// asArray mimics Array.isArray and returns the elements.
func asArray(v any) ([]any, bool) {
	switch a := v.(type) {
	case []any:
		return a, true
	case []map[string]any:
		out := make([]any, len(a))
		for i, m := range a {
			out[i] = m
		}
		return out, true
	}
	return nil, false
}

// objectEntries mimics Object.keys() on an object-typed value (plain object or
// array) and returns key/value pairs in JavaScript's property order: array
// index keys ascending, then the other keys. The insertion order of the other
// keys is lost by encoding/json, so they are sorted for determinism.
func objectEntries(v any) ([]string, map[string]any) {
	switch o := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			ai, aok := arrayIndex(keys[i])
			bi, bok := arrayIndex(keys[j])
			switch {
			case aok && bok:
				return ai < bi
			case aok != bok:
				return aok
			default:
				return keys[i] < keys[j]
			}
		})
		return keys, o
	default:
		arr, ok := asArray(v)
		if !ok {
			return nil, nil
		}
		keys := make([]string, len(arr))
		m := make(map[string]any, len(arr))
		for i, x := range arr {
			k := strconv.Itoa(i)
			keys[i] = k
			m[k] = x
		}
		return keys, m
	}
}

// arrayIndex reports whether k is a canonical array index string.
func arrayIndex(k string) (uint64, bool) {
	if k == "" || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(k, 10, 32)
	if err != nil || n == math.MaxUint32 {
		return 0, false
	}
	return n, true
}

// jsString mimics String(v) / template-literal interpolation.
func jsString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	case map[string]any:
		return "[object Object]"
	}
	if arr, ok := asArray(v); ok {
		parts := make([]string, len(arr))
		for i, e := range arr {
			if e != nil {
				parts[i] = jsString(e)
			}
		}
		return strings.Join(parts, ",")
	}
	if f, ok := toNumber(v); ok {
		return jsNumberString(f)
	}
	return "[object Object]"
}

// jsNumberString formats a float64 the way JavaScript's Number#toString does.
func jsNumberString(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	exp = strings.TrimLeft(exp[1:], "0")
	if exp == "" {
		exp = "0"
	}
	return mant + "e" + string(sign) + exp
}

// jsStrictEqual mimics `a === b` for scalar JSON values; present=false means
// undefined.
func jsStrictEqual(a any, aok bool, b any, bok bool) bool {
	ka, kb := typeOf(a, aok), typeOf(b, bok)
	if ka != kb {
		return false
	}
	switch ka {
	case kindUndefined:
		return true
	case kindNumber:
		fa, _ := toNumber(a)
		fb, _ := toNumber(b)
		return fa == fb
	case kindString:
		return a.(string) == b.(string)
	case kindBoolean:
		return a.(bool) == b.(bool)
	case kindObject:
		// Only null === null can hold for the values handled here.
		return a == nil && b == nil
	}
	return false
}

// utf16Len returns the JavaScript string length (UTF-16 code units).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// isJSLineTerminator reports whether r is matched by `.` negation in JS
// regular expressions without the s flag.
func isJSLineTerminator(r rune) bool {
	return r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029'
}

// isJSWhitespace reports whether r is stripped by JS String trimming
// (WhiteSpace and LineTerminator productions).
func isJSWhitespace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680', '\u2028',
		'\u2029', '\u202f', '\u205f', '\u3000', '\ufeff':
		return true
	}
	return r >= '\u2000' && r <= '\u200a'
}

// toInt converts a JS number to int, truncating toward zero and saturating.
func toInt(f float64) int {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt
	case f <= math.MinInt64:
		return math.MinInt
	}
	return int(f)
}

// intIn reports whether f is an integer in [lo, hi] (NaN and infinities are
// not). mediasoup hands API numbers to its worker as fixed-width integers,
// silently wrapping or truncating the others (a payload type of 300 becomes
// 44, a clock rate of 48000.5 becomes 48000): gosfu refuses them instead.
func intIn(f, lo, hi float64) bool {
	return f >= lo && f <= hi && f == math.Trunc(f)
}

// ssrcValue checks an SSRC: an integer in [0, 2^32-1]. mediasoup wraps
// others (JavaScript's ToUint32: 2^40 becomes 0, -1 becomes 4294967295,
// 1.5 becomes 1), which only hides an application's bug: gosfu refuses
// them.
func ssrcValue(f float64) (uint32, bool) {
	if !intIn(f, 0, math.MaxUint32) {
		return 0, false
	}
	return uint32(f), true
}
