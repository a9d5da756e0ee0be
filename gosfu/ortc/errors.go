package ortc

import "errors"

// TypeError is returned where mediasoup throws a JavaScript TypeError
// (invalid or malformed input). The engine should surface it to JavaScript as
// a TypeError carrying Message verbatim.
type TypeError struct {
	Message string
}

// Error returns the message, identical to mediasoup's.
func (e *TypeError) Error() string { return e.Message }

// UnsupportedError is returned where mediasoup throws its UnsupportedError
// (well-formed input that mediasoup cannot handle, e.g. an unsupported codec).
type UnsupportedError struct {
	Message string
}

// Error returns the message, identical to mediasoup's.
func (e *UnsupportedError) Error() string { return e.Message }

// JSErrorClass names the JavaScript error class the engine must use for an
// error returned by this package: "TypeError", "UnsupportedError" or "Error"
// (any other error, e.g. payload type exhaustion). It returns "" for nil.
func JSErrorClass(err error) string {
	if err == nil {
		return ""
	}
	var te *TypeError
	if errors.As(err, &te) {
		return "TypeError"
	}
	var ue *UnsupportedError
	if errors.As(err, &ue) {
		return "UnsupportedError"
	}
	return "Error"
}

func typeErr(msg string) error        { return &TypeError{Message: msg} }
func unsupportedErr(msg string) error { return &UnsupportedError{Message: msg} }

// nullPropErr reproduces the native V8 TypeError raised when mediasoup reads a
// property of a null array element (e.g. `codecs: [null]`).
func nullPropErr(key string) error {
	return typeErr("Cannot read properties of null (reading '" + key + "')")
}
