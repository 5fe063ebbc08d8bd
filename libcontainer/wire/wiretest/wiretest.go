// Package wiretest holds test helpers for the protocol's payload types:
// fill a value and check that package wire carries it as JSON would.
package wiretest

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/berth-runtime/berth/libcontainer/wire"
)

// Fill sets every value reachable from v (a settable value): in full mode
// to non-zero values (strings given str), otherwise to the empty ones
// JSON's omitempty drops (empty non-nil slices and maps, "", pointers to
// empty values). Tests of the protocol's types use it to compare a wire
// round trip with a JSON one.
func Fill(v reflect.Value, full bool, str string) {
	fill(v, full, str, 0)
}

func fill(v reflect.Value, full bool, str string, depth int) {
	if depth > 12 {
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(full)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if full {
			v.SetInt(-7)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if full {
			v.SetUint(7)
		}
	case reflect.Float32, reflect.Float64:
		if full {
			v.SetFloat(0.5)
		}
	case reflect.String:
		if full {
			v.SetString(str)
		}
	case reflect.Interface:
		if full {
			v.Set(reflect.ValueOf(map[string]any{"k": str, "n": 1.5}))
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), full, str, depth+1)
		v.Set(p)
	case reflect.Slice:
		n := 0
		if full {
			n = 2
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			fill(s.Index(i), full, str, depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(v.Index(i), full, str, depth+1)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		if full {
			for _, k := range []string{"b", "a"} {
				e := reflect.New(v.Type().Elem()).Elem()
				fill(e, full, str, depth+1)
				m.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
			}
		}
		v.Set(m)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), full, str, depth+1)
			}
		}
	}
}

// SameAsJSON checks that v (a pointer) comes out of a wire round trip
// exactly as out of a JSON one.
func SameAsJSON(t *testing.T, v any) {
	t.Helper()
	typ := reflect.TypeOf(v).Elem()
	viaJSON := reflect.New(typ).Interface()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json: %v", err)
	}
	if err := json.Unmarshal(data, viaJSON); err != nil {
		t.Fatalf("json: %v", err)
	}
	viaWire := reflect.New(typ).Interface()
	w, err := wire.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if err := wire.Unmarshal(w, viaWire); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if !reflect.DeepEqual(viaJSON, viaWire) {
		j, _ := json.Marshal(viaJSON)
		wj, _ := json.Marshal(viaWire)
		t.Fatalf("wire round trip differs from JSON's:\njson: %s\nwire: %s", j, wj)
	}
}
