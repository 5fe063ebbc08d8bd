package wire_test

import (
	"reflect"
	"strings"
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

// The string codec's bytes: a uvarint length, then the bytes as given
// (no UTF-8 repair: that is Marshal's, before it calls AppendString).
func TestAppendStringFormat(t *testing.T) {
	long := strings.Repeat("x", 300)
	for s, want := range map[string]string{
		"":             "\x00",
		"ready":        "\x05ready",
		"bad \xff utf": "\x09bad \xff utf",
		long:           "\xac\x02" + long,
	} {
		if got := string(AppendString([]byte("pre"), s)); got != "pre"+want {
			t.Errorf("AppendString(%q) = %q, want %q", s, got, "pre"+want)
		}
	}
	// Marshal's strings are the same codec, after JSON's UTF-8 repair.
	for s, want := range map[string]string{"": "", "ready": "ready", "a\xffb": "a\uFFFDb"} {
		data, err := Marshal(&s)
		if err != nil || string(data) != string(AppendString(nil, want)) {
			t.Errorf("Marshal(%q) = %q, %v; want AppendString(%q)", s, data, err, want)
		}
	}
}

func TestCutStringRoundTrip(t *testing.T) {
	in := []string{"", "ready", "mount proc on /proc: permission denied", "\x00\xff\xfe", strings.Repeat("é", 200), ""}
	var b []byte
	for _, s := range in {
		b = AppendString(b, s)
	}
	b = append(b, "tail"...)
	for i, want := range in {
		var got string
		var err error
		if got, b, err = CutString(b); err != nil || got != want {
			t.Fatalf("string %d: got %q, %v; want %q", i, got, err, want)
		}
	}
	if string(b) != "tail" {
		t.Fatalf("rest %q, want %q", b, "tail")
	}
}

func TestCutStringMalformed(t *testing.T) {
	enc := AppendString(nil, "mount-source")
	for i := 0; i < len(enc); i++ {
		if s, rest, err := CutString(enc[:i]); err == nil {
			t.Errorf("truncated to %d of %d bytes: got %q, rest %q", i, len(enc), s, rest)
		}
	}
	for name, b := range map[string][]byte{
		"empty input":         {},
		"length past the end": []byte("\x06ready"),
		"huge length":         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 'x'},
		"length over 64 bits": {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
		"length unfinished":   {0x80, 0x80},
		"max uint64 length":   {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		if s, rest, err := CutString(b); err == nil || s != "" || rest != nil {
			t.Errorf("%s: got %q, rest %q, err %v", name, s, rest, err)
		}
	}
	// Empty string followed by nothing, and by more.
	if s, rest, err := CutString([]byte{0}); err != nil || s != "" || len(rest) != 0 {
		t.Errorf("empty string: got %q, rest %q, %v", s, rest, err)
	}
	if s, rest, err := CutString([]byte{0, 7}); err != nil || s != "" || string(rest) != "\x07" {
		t.Errorf("empty string then a byte: got %q, rest %q, %v", s, rest, err)
	}
}

// FuzzCutString: any input is a string and a rest, or an error, never a
// panic; an accepted string re-encodes to the bytes it was cut from.
func FuzzCutString(f *testing.F) {
	f.Add([]byte("\x05ready"))
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, rest, err := CutString(b)
		if err != nil {
			return
		}
		enc := AppendString(nil, s)
		if string(enc)+string(rest) != string(b) {
			// A uvarint may have redundant leading bytes (0x80 0x00):
			// only the string and the rest must be what was cut.
			s2, rest2, err := CutString(append(enc, rest...))
			if err != nil || s2 != s || string(rest2) != string(rest) {
				t.Fatalf("round trip of %q: %q, %q, %v", b, s2, rest2, err)
			}
		}
	})
}
