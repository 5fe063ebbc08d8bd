package wire_test

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	. "github.com/berth-runtime/berth/libcontainer/wire"
	. "github.com/berth-runtime/berth/libcontainer/wire/wiretest"
)

type sample struct {
	A       string            `json:"a"`
	B       []string          `json:"b,omitempty"`
	C       []string          `json:"c"`
	M       map[string]string `json:"m,omitempty"`
	N       map[string]string `json:"n"`
	P       *specs.User       `json:"p,omitempty"`
	Skip    string            `json:"-"`
	private string
	I       int  `json:"i,omitempty"`
	U       *int `json:"u,omitempty"`
	Z       bool `json:"z,omitzero"`
}

func TestSameAsJSON(t *testing.T) {
	for _, full := range []bool{true, false} {
		for _, str := range []string{"s", "ok \xff\xfe x\xc3", "ü→"} {
			var s sample
			Fill(reflect.ValueOf(&s).Elem(), full, str)
			s.private = "x"
			SameAsJSON(t, &s)

			var sp specs.Spec
			Fill(reflect.ValueOf(&sp).Elem(), full, str)
			SameAsJSON(t, &sp)
		}
	}
	// Zero values, nil slices and maps.
	SameAsJSON(t, &sample{})
	SameAsJSON(t, &specs.Spec{})
}

func TestNilAndEmpty(t *testing.T) {
	in := sample{C: []string{}, N: map[string]string{}}
	data, err := Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	var out sample
	if err := Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if out.C == nil || out.N == nil || out.B != nil || out.M != nil {
		t.Fatalf("nil and empty not kept apart: %#v", out)
	}
}

func TestMalformed(t *testing.T) {
	var sp specs.Spec
	Fill(reflect.ValueOf(&sp).Elem(), true, "value")
	data, err := Marshal(&sp)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(data); i++ {
		var out specs.Spec
		if err := Unmarshal(data[:i], &out); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", i, len(data))
		}
	}
	var out specs.Spec
	if err := Unmarshal(append(data, 0), &out); err == nil {
		t.Fatal("trailing byte: no error")
	}
	// A length larger than the data allocates nothing.
	var s sample
	if err := Unmarshal([]byte{0, 0xff, 0xff, 0xff, 0xff, 0x0f}, &s); err == nil {
		t.Fatal("huge length: no error")
	}
	if err := Unmarshal([]byte{}, s); err == nil {
		t.Fatal("non-pointer: no error")
	}
}

func TestRefuses(t *testing.T) {
	type inner struct{ X string }
	type outer struct {
		inner
		Y string
	}
	if _, err := Marshal(&outer{}); err == nil {
		t.Fatal("embedded field of an unexported type encoded")
	}
	if _, err := Marshal(map[int]string{1: "x"}); err == nil {
		t.Fatal("non-string map key encoded")
	}
	if _, err := Marshal(struct{ F func() }{}); err == nil {
		t.Fatal("func encoded")
	}
}

func FuzzUnmarshal(f *testing.F) {
	var sp specs.Spec
	Fill(reflect.ValueOf(&sp).Elem(), true, "v")
	data, _ := Marshal(&sp)
	f.Add(data)
	f.Add([]byte{})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		var out specs.Spec
		if err := Unmarshal(b, &out); err != nil {
			return
		}
		again, err := Marshal(&out)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var out2 specs.Spec
		if err := Unmarshal(again, &out2); err != nil || !reflect.DeepEqual(out, out2) {
			t.Fatalf("round trip of an accepted value: %v", err)
		}
	})
}
