package configs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// What a config asks for and berth does not apply is named, never dropped
// in silence. The runtime spec does not let a runtime fail on a property it
// does not know (it must ignore it), and runc runs a config that carries a
// section for another platform (windows, vm, ...): berth runs both too, as
// runc does, and warns of each in one line, naming every member it leaves
// out.

// maxNamed bounds the members one warning names; a document made of
// nothing else would otherwise print a line as long as itself.
const maxNamed = 20

// DecodeKnown decodes the JSON document data, read from name, into a new
// T as json.Unmarshal does, and warns of the members T has no field for.
func DecodeKnown[T any](name string, data []byte) (*T, error) {
	v := new(T)
	mayHaveUnknown, err := unmarshal(data, v)
	if err != nil {
		return nil, err
	}
	if mayHaveUnknown {
		WarnUnknown[T](name, data)
	}
	if p := nulMember(data); p != "" {
		return nil, &NULError{Doc: name, Member: p}
	}
	return v, nil
}

// NULError is DecodeKnown's refusal of a document that decoded but holds a
// NUL where the kernel would take the string.
type NULError struct {
	Doc, Member string
}

func (e *NULError) Error() string {
	return fmt.Sprintf("%s: %s contains a NUL byte (no path, argument or name the kernel takes can hold one)", e.Doc, e.Member)
}

// nulMember returns the path of the first string (or object key) of the
// JSON document data that holds a NUL, "" if none does. The kernel takes
// paths, arguments and names as C strings, so a NUL would cut one short or
// fail deep in the container's set-up with an error that names nothing.
// Annotations are not passed to the kernel and may hold anything. JSON
// can carry a NUL only as the escape \u0000, so a document without that
// text is not walked.
func nulMember(data []byte) string {
	if !bytes.Contains(data, []byte(`\u0000`)) {
		return ""
	}
	var doc any
	if json.Unmarshal(data, &doc) != nil {
		return ""
	}
	return walkNUL(doc, "")
}

func walkNUL(v any, path string) string {
	switch v := v.(type) {
	case string:
		if strings.IndexByte(v, 0) >= 0 {
			return path
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			p := memberPath(path, k)
			if path == "" && k == "annotations" {
				continue
			}
			if strings.IndexByte(k, 0) >= 0 {
				return p
			}
			if found := walkNUL(v[k], p); found != "" {
				return found
			}
		}
	case []any:
		for i, e := range v {
			if found := walkNUL(e, fmt.Sprintf("%s[%d]", path, i)); found != "" {
				return found
			}
		}
	}
	return ""
}

// WarnUnknown warns, in one line, of the members of the JSON value that
// data begins with that T has no field for, if there are any.
func WarnUnknown[T any](name string, data []byte) {
	if unknown := UnknownMembers(data, reflect.TypeFor[T]()); len(unknown) > 0 {
		logrus.Warnf("%s: unknown to berth (runtime-spec %s), not applied: %s", name, specs.Version, nameList(unknown))
	}
}

// warnOtherPlatforms warns of the sections of spec that are for another
// platform than Linux.
func warnOtherPlatforms(spec *specs.Spec) {
	var set []string
	for _, p := range []struct {
		name string
		set  bool
	}{
		{"solaris", spec.Solaris != nil}, {"windows", spec.Windows != nil}, {"vm", spec.VM != nil},
		{"zos", spec.ZOS != nil}, {"freebsd", spec.FreeBSD != nil},
	} {
		if p.set {
			set = append(set, p.name)
		}
	}
	if len(set) > 0 {
		logrus.Warnf("config.json: for another platform than Linux, not applied: %s", strings.Join(set, ", "))
	}
}

func nameList(names []string) string {
	if len(names) <= maxNamed {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxNamed], ", "), len(names)-maxNamed)
}

// UnknownMembers returns the members of the JSON value that data begins
// with which type t has no field for, as paths ("linux.foo",
// "mounts[2].bar", "linux.netDevices.eth0.baz"), in document order by
// level and by name within an object. Names match fields as encoding/json
// matches them: by the field's JSON name, else without regard to case.
// Data that is not JSON has none.
func UnknownMembers(data []byte, t reflect.Type) []string {
	var doc any
	if json.NewDecoder(bytes.NewReader(data)).Decode(&doc) != nil {
		return nil
	}
	var out []string
	walkUnknown(doc, t, "", &out)
	return out
}

func walkUnknown(v any, t reflect.Type, path string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch v := v.(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		switch t.Kind() {
		case reflect.Struct:
			fields := jsonFields(t)
			for _, k := range keys {
				ft, ok := fields.lookup(k)
				if !ok {
					*out = append(*out, memberPath(path, k))
					continue
				}
				walkUnknown(v[k], ft, memberPath(path, k), out)
			}
		case reflect.Map:
			for _, k := range keys {
				walkUnknown(v[k], t.Elem(), memberPath(path, k), out)
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, e := range v {
				walkUnknown(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), out)
			}
		}
	}
}

func memberPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// fieldSet maps the JSON names of a struct's fields to their types.
type fieldSet map[string]reflect.Type

func (f fieldSet) lookup(name string) (reflect.Type, bool) {
	if t, ok := f[name]; ok {
		return t, true
	}
	for n, t := range f {
		if strings.EqualFold(n, name) {
			return t, true
		}
	}
	return nil, false
}

// jsonFields lists the members encoding/json decodes into struct type t:
// exported fields by their tag's name (the field's name without one),
// those tagged "-" left out, and the fields of an untagged embedded struct
// as its own.
func jsonFields(t reflect.Type) fieldSet {
	fields := fieldSet{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				maps.Copy(fields, jsonFields(ft))
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = ft
	}
	return fields
}
