// Package wire is the binary encoding of the payloads of the runtime ↔
// container process protocol (libcontainer/sync.go): the init config and
// the few small requests. Both ends are the same berth binary, so the
// format needs no versioning; it carries exactly what a JSON round trip
// of the same value would (see Marshal), so that the container process
// sees the same values it saw when the payloads were JSON, but decoding it
// in `berth init` takes neither encoding/json's machinery nor its
// per-type set-up, which a process that decodes one value pays in full.
//
// Values are encoded by kind: a bool as one byte, integers as varints, a
// string as its length and bytes (AppendString, CutString: the codec the
// sync frame's own strings use too), a pointer as 0 (nil) or 1 and the
// value, a slice or a map as 0 (nil) or its length plus one and the
// elements (a map's keys in sorted order, for a stable encoding), an
// array as its elements, a struct as its fields in order. An interface
// value (the spec has one, in a field Linux ignores) is 0 when nil, else
// 1 and its JSON as a string: only a value that has one pays for
// encoding/json. Other kinds are refused.
package wire

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// Marshal encodes v. A struct carries the fields encoding/json would:
// exported ones not tagged "-"; a field tagged omitempty (omitzero) whose
// value JSON would omit as empty (zero) is encoded as its zero value, and
// a string that is not valid UTF-8 has each invalid byte replaced by
// U+FFFD, as JSON's encoder does. A pointer is encoded as the value it
// points to (what Unmarshal decodes into).
func Marshal(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, errors.New("wire: marshal of a nil pointer")
		}
		rv = rv.Elem()
	}
	return appendValue(nil, rv)
}

// Unmarshal decodes data, which Marshal made from a value of the same
// type, into the value v points to. Malformed data is an error, never a
// panic, and no length in it makes Unmarshal allocate more than data's
// size in elements.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("wire: unmarshal into a non-pointer")
	}
	d := &decoder{buf: data}
	if err := d.value(rv.Elem(), 0); err != nil {
		return err
	}
	if len(d.buf) != 0 {
		return fmt.Errorf("wire: %d bytes after the value", len(d.buf))
	}
	return nil
}

// maxDepth bounds nesting: the protocol's types are far shallower, and a
// recursive type must not recurse forever on crafted data.
const maxDepth = 32

func appendValue(b []byte, v reflect.Value) ([]byte, error) {
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(b, v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.AppendUvarint(b, v.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return binary.AppendUvarint(b, math.Float64bits(v.Float())), nil
	case reflect.String:
		return AppendString(b, validUTF8(v.String())), nil
	case reflect.Pointer:
		if v.IsNil() {
			return append(b, 0), nil
		}
		return appendValue(append(b, 1), v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return append(b, 0), nil
		}
		return appendElems(binary.AppendUvarint(b, uint64(v.Len())+1), v)
	case reflect.Array:
		return appendElems(b, v)
	case reflect.Map:
		return appendMap(b, v)
	case reflect.Struct:
		return appendStruct(b, v)
	case reflect.Interface:
		if v.IsNil() {
			return append(b, 0), nil
		}
		j, err := json.Marshal(v.Interface())
		if err != nil {
			return nil, fmt.Errorf("wire: %w", err)
		}
		return AppendString(append(b, 1), string(j)), nil
	}
	return nil, fmt.Errorf("wire: cannot encode %s (%s)", v.Type(), v.Kind())
}

// AppendString appends s to b in the wire's encoding of a string: its
// length as a uvarint, then its bytes as they are. It is the one string
// codec of the protocol: Marshal's strings use it (after validUTF8, so
// that they read as JSON's would), and so do the sync frame's type and
// error (libcontainer/sync.go), which keep their bytes exactly.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// CutString reads a string that AppendString encoded at the start of b,
// and returns it and the bytes after it. A malformed length, or one that
// runs past the end of b, is an error (with a nil rest), never a panic,
// and allocates nothing.
func CutString(b []byte) (s string, rest []byte, err error) {
	raw, rest, err := cutBytes(b)
	if err != nil {
		return "", nil, err
	}
	return string(raw), rest, nil
}

// cutBytes is CutString without the copy: raw aliases b.
func cutBytes(b []byte) (raw, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, nil, errors.New("wire: bad string length")
	}
	b = b[k:]
	if n > uint64(len(b)) {
		return nil, nil, errShort
	}
	return b[:n], b[n:], nil
}

func appendElems(b []byte, v reflect.Value) ([]byte, error) {
	var err error
	for i := 0; i < v.Len(); i++ {
		if b, err = appendValue(b, v.Index(i)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func appendMap(b []byte, v reflect.Value) ([]byte, error) {
	if v.IsNil() {
		return append(b, 0), nil
	}
	if v.Type().Key().Kind() != reflect.String {
		return nil, fmt.Errorf("wire: cannot encode %s: keys are not strings", v.Type())
	}
	keys := v.MapKeys()
	slices.SortFunc(keys, func(x, y reflect.Value) int { return strings.Compare(x.String(), y.String()) })
	b = binary.AppendUvarint(b, uint64(len(keys))+1)
	var err error
	for _, k := range keys {
		if b, err = appendValue(b, k); err != nil {
			return nil, err
		}
		if b, err = appendValue(b, v.MapIndex(k)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func appendStruct(b []byte, v reflect.Value) ([]byte, error) {
	t := v.Type()
	var err error
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		opts, carried, err := fieldOpts(f)
		if err != nil {
			return nil, err
		}
		if !carried {
			continue
		}
		fv := v.Field(i)
		if (opts.omitEmpty && isEmpty(fv)) || (opts.omitZero && fv.IsZero()) {
			fv = reflect.Zero(f.Type)
		}
		if b, err = appendValue(b, fv); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t, f.Name, err)
		}
	}
	return b, err
}

type tagOpts struct{ omitEmpty, omitZero bool }

// fieldOpts: whether JSON would carry field f, and its tag's options. An
// embedded struct of an exported type (whose fields JSON flattens into the
// outer object) is carried as one value; an embedded field of an
// unexported type is refused rather than guessed at.
func fieldOpts(f reflect.StructField) (tagOpts, bool, error) {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return tagOpts{}, false, nil
	}
	if f.Anonymous && !f.IsExported() {
		return tagOpts{}, false, fmt.Errorf("wire: embedded field %s of an unexported type is not supported", f.Name)
	}
	if !f.IsExported() {
		return tagOpts{}, false, nil
	}
	var o tagOpts
	_, rest, _ := strings.Cut(tag, ",")
	for rest != "" {
		var opt string
		opt, rest, _ = strings.Cut(rest, ",")
		switch opt {
		case "omitempty":
			o.omitEmpty = true
		case "omitzero":
			o.omitZero = true
		}
	}
	return o, true, nil
}

// isEmpty is encoding/json's notion of an empty value (omitempty).
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// validUTF8 replaces each byte of s that is not part of valid UTF-8 with
// U+FFFD, as encoding/json does.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	for _, r := range s {
		sb.WriteRune(r) // an invalid byte ranges as RuneError
	}
	return sb.String()
}

type decoder struct{ buf []byte }

var errShort = errors.New("wire: data ends inside a value")

func (d *decoder) byte() (byte, error) {
	if len(d.buf) == 0 {
		return 0, errShort
	}
	c := d.buf[0]
	d.buf = d.buf[1:]
	return c, nil
}

func (d *decoder) uvarint() (uint64, error) {
	x, n := binary.Uvarint(d.buf)
	if n <= 0 {
		return 0, errors.New("wire: bad unsigned integer")
	}
	d.buf = d.buf[n:]
	return x, nil
}

func (d *decoder) varint() (int64, error) {
	x, n := binary.Varint(d.buf)
	if n <= 0 {
		return 0, errors.New("wire: bad integer")
	}
	d.buf = d.buf[n:]
	return x, nil
}

// count reads a slice's or map's length-plus-one; nil is 0. Each element
// takes at least one byte, which bounds what the length may claim.
func (d *decoder) count() (n int, isNil bool, err error) {
	x, err := d.uvarint()
	if err != nil {
		return 0, false, err
	}
	if x == 0 {
		return 0, true, nil
	}
	if x-1 > uint64(len(d.buf)) {
		return 0, false, errShort
	}
	return int(x - 1), false, nil
}

func (d *decoder) value(v reflect.Value, depth int) error {
	if depth > maxDepth {
		return errors.New("wire: nested too deeply")
	}
	switch v.Kind() {
	case reflect.Bool:
		c, err := d.byte()
		if err != nil {
			return err
		}
		if c > 1 {
			return errors.New("wire: bad bool")
		}
		v.SetBool(c == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, err := d.varint()
		if err != nil {
			return err
		}
		if v.OverflowInt(x) {
			return fmt.Errorf("wire: %d overflows %s", x, v.Type())
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		x, err := d.uvarint()
		if err != nil {
			return err
		}
		if v.OverflowUint(x) {
			return fmt.Errorf("wire: %d overflows %s", x, v.Type())
		}
		v.SetUint(x)
	case reflect.Float32, reflect.Float64:
		x, err := d.uvarint()
		if err != nil {
			return err
		}
		v.SetFloat(math.Float64frombits(x))
	case reflect.String:
		s, rest, err := CutString(d.buf)
		if err != nil {
			return err
		}
		v.SetString(s)
		d.buf = rest
	case reflect.Pointer:
		c, err := d.byte()
		if err != nil {
			return err
		}
		switch c {
		case 0:
			v.SetZero()
			return nil
		case 1:
			p := reflect.New(v.Type().Elem())
			if err := d.value(p.Elem(), depth+1); err != nil {
				return err
			}
			v.Set(p)
		default:
			return errors.New("wire: bad pointer")
		}
	case reflect.Slice:
		n, isNil, err := d.count()
		if err != nil || isNil {
			return err
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			if err := d.value(s.Index(i), depth+1); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := d.value(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		return d.mapValue(v, depth)
	case reflect.Struct:
		return d.structValue(v, depth)
	case reflect.Interface:
		return d.interfaceValue(v)
	default:
		return fmt.Errorf("wire: cannot decode %s (%s)", v.Type(), v.Kind())
	}
	return nil
}

func (d *decoder) mapValue(v reflect.Value, depth int) error {
	if v.Type().Key().Kind() != reflect.String {
		return fmt.Errorf("wire: cannot decode %s: keys are not strings", v.Type())
	}
	n, isNil, err := d.count()
	if err != nil || isNil {
		return err
	}
	m := reflect.MakeMapWithSize(v.Type(), n)
	kt, et := v.Type().Key(), v.Type().Elem()
	for i := 0; i < n; i++ {
		k, e := reflect.New(kt).Elem(), reflect.New(et).Elem()
		if err := d.value(k, depth+1); err != nil {
			return err
		}
		if err := d.value(e, depth+1); err != nil {
			return err
		}
		m.SetMapIndex(k, e)
	}
	v.Set(m)
	return nil
}

func (d *decoder) structValue(v reflect.Value, depth int) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		_, carried, err := fieldOpts(t.Field(i))
		if err != nil {
			return err
		}
		if !carried {
			continue
		}
		if err := d.value(v.Field(i), depth+1); err != nil {
			return fmt.Errorf("%s.%s: %w", t, t.Field(i).Name, err)
		}
	}
	return nil
}

func (d *decoder) interfaceValue(v reflect.Value) error {
	c, err := d.byte()
	if err != nil {
		return err
	}
	switch c {
	case 0:
		v.SetZero()
		return nil
	case 1:
	default:
		return errors.New("wire: bad interface value")
	}
	j, rest, err := cutBytes(d.buf)
	if err != nil {
		return err
	}
	p := reflect.New(v.Type())
	if err := json.Unmarshal(j, p.Interface()); err != nil {
		return fmt.Errorf("wire: %w", err)
	}
	d.buf = rest
	v.Set(p.Elem())
	return nil
}
