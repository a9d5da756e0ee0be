package codecs

import "errors"

// ErrShortPayload is returned when a payload is too short for the fields its
// header announces.
var ErrShortPayload = errors.New("codecs: payload too short")
