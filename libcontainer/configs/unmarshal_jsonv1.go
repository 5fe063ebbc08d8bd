//go:build !goexperiment.jsonv2

package configs

import "encoding/json"

// unmarshal decodes data into v (a pointer) with json.Unmarshal. Built
// without GOEXPERIMENT=jsonv2 (the Makefile sets it), encoding/json has no
// decode that refuses unknown members and reads data in place, so the
// caller always looks for them itself.
func unmarshal(data []byte, v any) (mayHaveUnknown bool, err error) {
	return true, json.Unmarshal(data, v)
}
