package engine

import (
	"errors"
	"fmt"

	"github.com/gosfu/gosfu/gosfu/ortc"
)

// Error is a failed request as JavaScript sees it: Name selects the error
// class the Node layer throws (Error, TypeError, UnsupportedError,
// InvalidStateError), Message is its text.
type Error struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Error class names understood by the Node layer.
const (
	ErrNameError        = "Error"
	ErrNameType         = "TypeError"
	ErrNameUnsupported  = "UnsupportedError"
	ErrNameInvalidState = "InvalidStateError"
)

// TypeErrorf returns an Error of class TypeError.
func TypeErrorf(format string, args ...any) *Error {
	return &Error{Name: ErrNameType, Message: fmt.Sprintf(format, args...)}
}

// Errorf returns an Error of class Error.
func Errorf(format string, args ...any) *Error {
	return &Error{Name: ErrNameError, Message: fmt.Sprintf(format, args...)}
}

// UnsupportedErrorf returns an Error of class UnsupportedError.
func UnsupportedErrorf(format string, args ...any) *Error {
	return &Error{Name: ErrNameUnsupported, Message: fmt.Sprintf(format, args...)}
}

// InvalidStateErrorf returns an Error of class InvalidStateError.
func InvalidStateErrorf(format string, args ...any) *Error {
	return &Error{Name: ErrNameInvalidState, Message: fmt.Sprintf(format, args...)}
}

// AsError converts any error into an *Error, keeping the class of the
// ortc package's typed errors.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var te *ortc.TypeError
	if errors.As(err, &te) {
		return &Error{Name: ErrNameType, Message: te.Error()}
	}
	var ue *ortc.UnsupportedError
	if errors.As(err, &ue) {
		return &Error{Name: ErrNameUnsupported, Message: ue.Error()}
	}
	return &Error{Name: ErrNameError, Message: err.Error()}
}
