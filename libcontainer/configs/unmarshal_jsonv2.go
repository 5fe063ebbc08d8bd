//go:build goexperiment.jsonv2

package configs

import (
	"encoding/json"
	jsonv2 "encoding/json/v2"
	"reflect"
)

// unmarshal decodes data into v (a pointer) as json.Unmarshal does, and
// tells whether data may hold members v's type has no field for. With
// encoding/json on its second implementation, a first decode that refuses
// such members is json.Unmarshal itself plus that check, so a document
// without them (every config a client writes for this version of the
// spec) is decoded once, at no extra cost.
func unmarshal(data []byte, v any) (mayHaveUnknown bool, err error) {
	if jsonv2.Unmarshal(data, v, json.DefaultOptionsV1(), jsonv2.RejectUnknownMembers(true)) == nil {
		return false, nil
	}
	// Refused: decode again from scratch, leniently, for json.Unmarshal's
	// own error text or the value. Whatever the first error was, the
	// caller then looks for the unknown members itself.
	reflect.ValueOf(v).Elem().SetZero()
	return true, json.Unmarshal(data, v)
}
