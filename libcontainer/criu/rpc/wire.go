package rpc

import (
	"fmt"
	"strconv"
)

// Protobuf wire types (the two groups' types are refused: rpc.proto has
// no groups and protobuf deprecated them).
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// encoder writes a message's fields either in the wire format or, for
// debug logs, as text (name:value, space-separated); the messages' walk
// methods are the one list of their fields for both.
type encoder struct {
	b    []byte
	text bool
}

func text(walk func(*encoder)) string {
	e := encoder{text: true}
	walk(&e)
	return string(e.b)
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// key starts a field: its tag, or its name in text.
func (e *encoder) key(num, wire int, name string) {
	if e.text {
		if len(e.b) > 0 {
			e.b = append(e.b, ' ')
		}
		e.b = append(e.b, name...)
		e.b = append(e.b, ':')
		return
	}
	e.b = appendVarint(e.b, uint64(num)<<3|uint64(wire))
}

func (e *encoder) varint(num int, name string, v uint64, txt string) {
	e.key(num, wireVarint, name)
	if e.text {
		e.b = append(e.b, txt...)
		return
	}
	e.b = appendVarint(e.b, v)
}

// int32 is sign-extended to 64 bits, as protobuf encodes int32.
func (e *encoder) int32(num int, name string, v int32) {
	e.varint(num, name, uint64(int64(v)), strconv.Itoa(int(v)))
}

func (e *encoder) int32p(num int, name string, v *int32) {
	if v != nil {
		e.int32(num, name, *v)
	}
}

func (e *encoder) boolp(num int, name string, v *bool) {
	if v == nil {
		return
	}
	var n uint64
	if *v {
		n = 1
	}
	e.varint(num, name, n, strconv.FormatBool(*v))
}

func (e *encoder) string(num int, name, s string) {
	e.key(num, wireBytes, name)
	if e.text {
		e.b = strconv.AppendQuote(e.b, s)
		return
	}
	e.b = appendVarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) stringp(num int, name string, s *string) {
	if s != nil {
		e.string(num, name, *s)
	}
}

// walker is a message type: a pointer with a walk method.
type walker[T any] interface {
	*T
	walk(*encoder)
}

// message writes m (when not nil) as a length-delimited field.
func message[T any, P walker[T]](e *encoder, num int, name string, m P) {
	if m == nil {
		return
	}
	e.key(num, wireBytes, name)
	sub := encoder{text: e.text}
	m.walk(&sub)
	if e.text {
		e.b = append(e.b, '{')
		e.b = append(e.b, sub.b...)
		e.b = append(e.b, '}')
		return
	}
	e.b = appendVarint(e.b, uint64(len(sub.b)))
	e.b = append(e.b, sub.b...)
}

func messages[T any, P walker[T]](e *encoder, num int, name string, ms []P) {
	for _, m := range ms {
		message(e, num, name, m)
	}
}

// field is one decoded field: a varint or fixed value in v, the bytes of
// a length-delimited one in p.
type field struct {
	num, wire int
	v         uint64
	p         []byte
}

// wireError is a constant error (nothing made at start-up).
type wireError string

func (e wireError) Error() string { return string(e) }

const errTruncated = wireError("criu message: truncated")

func readVarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1, nil
		}
	}
	if len(b) >= 10 {
		return 0, 0, wireError("criu message: varint too long")
	}
	return 0, 0, errTruncated
}

// decode calls fn for each field of message b, in order. Fields of any
// wire type can be skipped by fn (unknown ones: it ignores them).
func decode(b []byte, fn func(field) error) error {
	for len(b) > 0 {
		tag, n, err := readVarint(b)
		if err != nil {
			return err
		}
		b = b[n:]
		f := field{num: int(tag >> 3), wire: int(tag & 7)}
		if f.num <= 0 || tag>>3 > 1<<29-1 {
			return fmt.Errorf("criu message: invalid field number %d", tag>>3)
		}
		switch f.wire {
		case wireVarint:
			f.v, n, err = readVarint(b)
		case wireFixed64, wireFixed32:
			n = 8
			if f.wire == wireFixed32 {
				n = 4
			}
			if len(b) < n {
				err = errTruncated
			}
		case wireBytes:
			var l uint64
			l, n, err = readVarint(b)
			if err == nil && l > uint64(len(b)-n) {
				err = errTruncated
			}
			if err == nil {
				f.p = b[n : n+int(l)]
				n += int(l)
			}
		default:
			err = fmt.Errorf("criu message: field %d has unsupported wire type %d", f.num, f.wire)
		}
		if err != nil {
			return err
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func (f field) want(wire int) error {
	if f.wire != wire {
		return fmt.Errorf("criu message: field %d has wire type %d, want %d", f.num, f.wire, wire)
	}
	return nil
}

func (f field) varint() (uint64, error) { return f.v, f.want(wireVarint) }

func (f field) bool() (bool, error) { return f.v != 0, f.want(wireVarint) }

func (f field) int32() (int32, error) { return int32(f.v), f.want(wireVarint) }

func (f field) string() (string, error) { return string(f.p), f.want(wireBytes) }

func (f field) message(unmarshal func([]byte) error) error {
	if err := f.want(wireBytes); err != nil {
		return err
	}
	return unmarshal(f.p)
}
