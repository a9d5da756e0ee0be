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
	case "validateRtpCapabilities", "validateRtpParameters", "validateSctpStreamParameters", "generateRouterRtpCapabilities":
		out, err = validateGlobal(method, data)
	case "getProducerRtpParametersMapping", "getConsumableRtpParameters", "getConsumerRtpParameters", "getPipeConsumerRtpParameters":
		out, err = ortcGlobal(method, data)
	default:
		return nil, Errorf("unknown method '%s'", method)
	}
	if err != nil {
		return nil, AsError(err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, Errorf("%s", fmt.Sprint(err))
	}
	return b, nil
}

// validateGlobal runs one of mediasoup's validate-and-normalize helpers (or
// the router's capabilities generation) on the request's "value", and
// answers the normalized value (gosfu/ortc's: what produce, consume and
// createRouter use).
func validateGlobal(method string, data []byte) (any, error) {
	var req struct {
		Value any `json:"value"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	switch method {
	case "validateRtpCapabilities":
		return ortc.ValidateRtpCapabilities(req.Value)
	case "validateRtpParameters":
		return ortc.ValidateRtpParameters(req.Value)
	case "validateSctpStreamParameters":
		return ortc.ValidateSctpStreamParameters(req.Value)
	default: // generateRouterRtpCapabilities
		return ortc.GenerateRouterRtpCapabilities(req.Value)
	}
}

// ortcGlobal runs one of mediasoup's ORTC mapping helpers. Parameters and
// capabilities are validated first, so that bad input gets the TypeError
// produce or consume would give rather than a wrong answer.
func ortcGlobal(method string, data []byte) (any, error) {
	var req struct {
		Kind                    string          `json:"kind"`
		RtpParameters           any             `json:"rtpParameters"`
		RtpCapabilities         any             `json:"rtpCapabilities"`
		RtpMapping              json.RawMessage `json:"rtpMapping"`
		ConsumableRtpParameters any             `json:"consumableRtpParameters"`
		Pipe                    bool            `json:"pipe"`
		EnableRtx               bool            `json:"enableRtx"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	switch method {
	case "getProducerRtpParametersMapping":
		p, caps, err := validParamsAndCaps(req.RtpParameters, req.RtpCapabilities)
		if err != nil {
			return nil, err
		}
		return ortc.GetProducerRtpParametersMapping(p, caps)
	case "getConsumableRtpParameters":
		p, caps, err := validParamsAndCaps(req.RtpParameters, req.RtpCapabilities)
		if err != nil {
			return nil, err
		}
		var mapping ortc.RtpMapping
		if err := json.Unmarshal(req.RtpMapping, &mapping); err != nil {
			return nil, TypeErrorf("invalid rtpMapping: %v", err)
		}
		return ortc.GetConsumableRtpParameters(req.Kind, p, caps, &mapping), nil
	case "getConsumerRtpParameters":
		p, caps, err := validParamsAndCaps(req.ConsumableRtpParameters, req.RtpCapabilities)
		if err != nil {
			return nil, err
		}
		return ortc.GetConsumerRtpParameters(p, caps, req.Pipe, req.EnableRtx)
	default: // getPipeConsumerRtpParameters
		p, err := ortc.ValidateRtpParameters(req.ConsumableRtpParameters)
		if err != nil {
			return nil, err
		}
		return ortc.GetPipeConsumerRtpParameters(p, req.EnableRtx), nil
	}
}

// validParamsAndCaps validates RTP parameters and capabilities.
func validParamsAndCaps(rawParams, rawCaps any) (*ortc.RtpParameters, *ortc.RtpCapabilities, error) {
	p, err := ortc.ValidateRtpParameters(rawParams)
	if err != nil {
		return nil, nil, err
	}
	caps, err := ortc.ValidateRtpCapabilities(rawCaps)
	if err != nil {
		return nil, nil, err
	}
	return p, caps, nil
}
