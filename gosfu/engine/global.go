package engine

import (
	"encoding/json"
	"fmt"
	"runtime/debug"

	"github.com/gosfu/gosfu/gosfu/ortc"
)

// GlobalRequest answers requests that need no worker (ORTC helpers the
// Node layer calls synchronously). A panic fails the request.
func GlobalRequest(method string, data []byte) (resp []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, Errorf("internal error in %s: %v\n%s", method, r, debug.Stack())
		}
	}()
	var out any
	switch method {
	case "getSupportedRtpCapabilities":
		out = ortc.SupportedRtpCapabilities()
	case "canConsume":
		var req struct {
			ConsumableRtpParameters json.RawMessage `json:"consumableRtpParameters"`
			RtpCapabilities         json.RawMessage `json:"rtpCapabilities"`
		}
		if err := json.Unmarshal(data, &req); err != nil {
			return nil, TypeErrorf("invalid request: %v", err)
		}
		var consumable ortc.RtpParameters
		if err := json.Unmarshal(req.ConsumableRtpParameters, &consumable); err != nil {
			return nil, TypeErrorf("invalid consumableRtpParameters: %v", err)
		}
		// Apps ask before each consume with the same capabilities: they
		// are validated once (ortc's cache, as for consume).
		caps, fast, err := ortc.ValidateRtpCapabilitiesJSON(req.RtpCapabilities)
		if !fast {
			var v any
			if err := json.Unmarshal(req.RtpCapabilities, &v); err != nil {
				return nil, TypeErrorf("invalid request: %v", err)
			}
			caps, err = ortc.ValidateRtpCapabilities(v)
		}
		if err != nil {
			return nil, AsError(err)
		}
		ok, err := ortc.CanConsume(&consumable, caps)
		if err != nil {
			return nil, AsError(err)
		}
		out = ok
	default:
		return nil, Errorf("unknown method '%s'", method)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, Errorf("%s", fmt.Sprint(err))
	}
	return b, nil
}
