package ortc

// Direct JSON encoding of the ORTC types. encoding/json re-validates and
// compacts the output of every MarshalJSON method it meets, once per nesting
// level, which made the control plane's responses (RtpParameters holding
// codecs holding parameters) several times dearer than their size. The
// append functions below write the same bytes encoding/json writes for
// these values (field order, omitempty, HTML-safe string escaping, float
// formatting, sorted map keys): jsonenc_test.go checks them against it.

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as json.Marshal encodes a string: quoted, with
// <, > and & escaped, invalid UTF-8 replaced by U+FFFD and U+2028/U+2029
// escaped.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONFloat appends f as json.Marshal encodes a float64 (ES6 number
// formatting). NaN and infinities have no JSON form: error.
func appendJSONFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, &json.UnsupportedValueError{Str: strconv.FormatFloat(f, 'g', -1, 64)}
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9, as encoding/json writes it.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// AppendJSONValue appends v as json.Marshal would. Scalars, map[string]any,
// []any, []int and this package's parameter types are written directly (what
// codec parameters and the control plane's responses hold); any other type
// goes through json.Marshal.
func AppendJSONValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return AppendJSONString(b, x), nil
	case bool:
		return appendBool(b, x), nil
	case float64:
		return appendJSONFloat(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil
		}
		return appendJSONMap(b, x)
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = AppendJSONValue(b, e); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case *RtpParameters:
		if x == nil {
			return append(b, "null"...), nil
		}
		return x.AppendJSON(b)
	case *RtpMapping:
		if x == nil {
			return append(b, "null"...), nil
		}
		return x.AppendJSON(b)
	case *RtpCapabilities:
		if x == nil {
			return append(b, "null"...), nil
		}
		return x.AppendJSON(b)
	case RtpParameters:
		return x.AppendJSON(b)
	case RtpMapping:
		return x.AppendJSON(b)
	case RtpCapabilities:
		return x.AppendJSON(b)
	case []int:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(e), 10)
		}
		return append(b, ']'), nil
	}
	out, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, out...), nil
}

// appendJSONMap writes a non-nil map with its keys sorted, as encoding/json
// does.
func appendJSONMap(b []byte, m map[string]any) ([]byte, error) {
	if len(m) == 0 {
		return append(b, "{}"...), nil
	}
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, k)
		b = append(b, ':')
		var err error
		if b, err = AppendJSONValue(b, m[k]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendParams writes codec or header extension parameters: {} when nil.
func appendParams(b []byte, p map[string]any) ([]byte, error) {
	if p == nil {
		return append(b, "{}"...), nil
	}
	return appendJSONMap(b, p)
}

func appendFeedback(b []byte, fbs []RtcpFeedback) []byte {
	b = append(b, '[')
	for i := range fbs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":`...)
		b = AppendJSONString(b, fbs[i].Type)
		b = append(b, `,"parameter":`...)
		b = AppendJSONString(b, fbs[i].Parameter)
		b = append(b, '}')
	}
	return append(b, ']')
}

// AppendJSON appends the codec's JSON (see MarshalJSON).
func (c *RtpCodecCapability) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"kind":`...)
	b = AppendJSONString(b, c.Kind)
	b = append(b, `,"mimeType":`...)
	b = AppendJSONString(b, c.MimeType)
	if c.PreferredPayloadType != nil {
		b = append(b, `,"preferredPayloadType":`...)
		b = strconv.AppendInt(b, int64(*c.PreferredPayloadType), 10)
	}
	return appendCodecTail(b, c.MimeType, c.ClockRate, c.Channels, c.Parameters, c.RtcpFeedback)
}

func (e *RtpHeaderExtension) appendJSON(b []byte) []byte {
	b = append(b, `{"kind":`...)
	b = AppendJSONString(b, e.Kind)
	b = append(b, `,"uri":`...)
	b = AppendJSONString(b, e.Uri)
	b = append(b, `,"preferredId":`...)
	b = strconv.AppendInt(b, int64(e.PreferredId), 10)
	b = append(b, `,"preferredEncrypt":`...)
	b = appendBool(b, e.PreferredEncrypt)
	b = append(b, `,"direction":`...)
	b = AppendJSONString(b, e.Direction)
	return append(b, '}')
}

// AppendJSON appends the capabilities' JSON (see MarshalJSON).
func (c *RtpCapabilities) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"codecs":[`...)
	for i := range c.Codecs {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = c.Codecs[i].AppendJSON(b); err != nil {
			return b, err
		}
	}
	b = append(b, `],"headerExtensions":[`...)
	for i := range c.HeaderExtensions {
		if i > 0 {
			b = append(b, ',')
		}
		b = c.HeaderExtensions[i].appendJSON(b)
	}
	return append(b, "]}"...), nil
}

// AppendJSON appends the codec's JSON (see MarshalJSON).
func (c *RtpCodecParameters) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"mimeType":`...)
	b = AppendJSONString(b, c.MimeType)
	b = append(b, `,"payloadType":`...)
	b = strconv.AppendInt(b, int64(c.PayloadType), 10)
	return appendCodecTail(b, c.MimeType, c.ClockRate, c.Channels, c.Parameters, c.RtcpFeedback)
}

// AppendJSON appends the header extension's JSON (see MarshalJSON).
func (e *RtpHeaderExtensionParameters) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"uri":`...)
	b = AppendJSONString(b, e.Uri)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, int64(e.Id), 10)
	b = append(b, `,"encrypt":`...)
	b = appendBool(b, e.Encrypt)
	b = append(b, `,"parameters":`...)
	b, err := appendParams(b, e.Parameters)
	if err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

func (e *RtpEncodingParameters) appendJSON(b []byte) []byte {
	b = append(b, '{')
	n := len(b)
	sep := func(b []byte) []byte {
		if len(b) > n {
			return append(b, ',')
		}
		return b
	}
	if e.Ssrc != nil {
		b = append(b, `"ssrc":`...)
		b = strconv.AppendUint(b, uint64(*e.Ssrc), 10)
	}
	if e.Rid != "" {
		b = append(sep(b), `"rid":`...)
		b = AppendJSONString(b, e.Rid)
	}
	if e.CodecPayloadType != nil {
		b = append(sep(b), `"codecPayloadType":`...)
		b = strconv.AppendInt(b, int64(*e.CodecPayloadType), 10)
	}
	if e.Rtx != nil {
		b = append(sep(b), `"rtx":{"ssrc":`...)
		b = strconv.AppendUint(b, uint64(e.Rtx.Ssrc), 10)
		b = append(b, '}')
	}
	if e.Dtx != nil {
		b = append(sep(b), `"dtx":`...)
		b = appendBool(b, *e.Dtx)
	}
	if e.ScalabilityMode != "" {
		b = append(sep(b), `"scalabilityMode":`...)
		b = AppendJSONString(b, e.ScalabilityMode)
	}
	if e.MaxBitrate != nil {
		b = append(sep(b), `"maxBitrate":`...)
		b = strconv.AppendInt(b, int64(*e.MaxBitrate), 10)
	}
	return append(b, '}')
}

// AppendJSON appends the parameters' JSON (see MarshalJSON).
func (p *RtpParameters) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	if p.Mid != "" {
		b = append(b, `"mid":`...)
		b = AppendJSONString(b, p.Mid)
		b = append(b, ',')
	}
	b = append(b, `"codecs":[`...)
	var err error
	for i := range p.Codecs {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = p.Codecs[i].AppendJSON(b); err != nil {
			return b, err
		}
	}
	b = append(b, `],"headerExtensions":[`...)
	for i := range p.HeaderExtensions {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = p.HeaderExtensions[i].AppendJSON(b); err != nil {
			return b, err
		}
	}
	b = append(b, `],"encodings":[`...)
	for i := range p.Encodings {
		if i > 0 {
			b = append(b, ',')
		}
		b = p.Encodings[i].appendJSON(b)
	}
	b = append(b, `],"rtcp":{`...)
	if p.Rtcp.Cname != "" {
		b = append(b, `"cname":`...)
		b = AppendJSONString(b, p.Rtcp.Cname)
		b = append(b, ',')
	}
	b = append(b, `"reducedSize":`...)
	b = appendBool(b, p.Rtcp.ReducedSize)
	b = append(b, '}')
	if p.Msid != "" {
		b = append(b, `,"msid":`...)
		b = AppendJSONString(b, p.Msid)
	}
	return append(b, '}'), nil
}

// AppendJSON appends the mapping's JSON (see MarshalJSON).
func (m *RtpMapping) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"codecs":[`...)
	for i, c := range m.Codecs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"payloadType":`...)
		b = strconv.AppendInt(b, int64(c.PayloadType), 10)
		b = append(b, `,"mappedPayloadType":`...)
		b = strconv.AppendInt(b, int64(c.MappedPayloadType), 10)
		b = append(b, '}')
	}
	b = append(b, `],"encodings":[`...)
	for i := range m.Encodings {
		e := &m.Encodings[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if e.Ssrc != nil {
			b = append(b, `"ssrc":`...)
			b = strconv.AppendUint(b, uint64(*e.Ssrc), 10)
			b = append(b, ',')
		}
		if e.Rid != "" {
			b = append(b, `"rid":`...)
			b = AppendJSONString(b, e.Rid)
			b = append(b, ',')
		}
		if e.ScalabilityMode != "" {
			b = append(b, `"scalabilityMode":`...)
			b = AppendJSONString(b, e.ScalabilityMode)
			b = append(b, ',')
		}
		b = append(b, `"mappedSsrc":`...)
		b = strconv.AppendUint(b, uint64(e.MappedSsrc), 10)
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}

// appendCodecTail appends what codec capabilities and codec parameters
// share after their payload type: clockRate, channels (audio only),
// parameters and rtcpFeedback, and closes the object.
func appendCodecTail(b []byte, mimeType string, clockRate, channels int, params map[string]any, fb []RtcpFeedback) ([]byte, error) {
	b = append(b, `,"clockRate":`...)
	b = strconv.AppendInt(b, int64(clockRate), 10)
	if isAudioMimeType(mimeType) {
		b = append(b, `,"channels":`...)
		b = strconv.AppendInt(b, int64(channels), 10)
	}
	b = append(b, `,"parameters":`...)
	b, err := appendParams(b, params)
	if err != nil {
		return b, err
	}
	b = append(b, `,"rtcpFeedback":`...)
	b = appendFeedback(b, fb)
	return append(b, '}'), nil
}
