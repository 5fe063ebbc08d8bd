package configs

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
)

func TestUnknownMembers(t *testing.T) {
	doc := `{
		"ociVersion": "1.3.0", "Process": {"args": ["sh"], "cwd": "/", "bogus": 1, "user": {"uid": 0, "umasK": 18, "x": [1]}},
		"mounts": [{"destination": "/a"}, {"destination": "/b", "extra": {"y": 1}}],
		"linux": {"netDevices": {"eth0": {"name": "e", "mtu": 1}}, "sysctl": {"a.b": "1"},
			"resources": {"unified": {"memory.max": "1"}, "devices": [{"allow": false, "nope": 0}]}},
		"annotations": {"k": "v"}, "top": null, "windows": {"layerFolders": ["x"]}
	}`
	got := UnknownMembers([]byte(doc), reflect.TypeFor[specs.Spec]())
	want := []string{"top", "Process.bogus", "Process.user.x", "mounts[1].extra", "linux.netDevices.eth0.mtu", "linux.resources.devices[0].nope"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := UnknownMembers([]byte(`{"ociVersion": "1.3.0", "linux": {}}`), reflect.TypeFor[specs.Spec]()); got != nil {
		t.Fatalf("known members reported: %q", got)
	}
	if got := UnknownMembers([]byte(`{"ociVersion": `), reflect.TypeFor[specs.Spec]()); got != nil {
		t.Fatalf("not JSON: %q", got)
	}
	// The first value only, as update reads it.
	if got := UnknownMembers([]byte(`{"pids": {"limit": 3}} {"x": 1}`), reflect.TypeFor[specs.LinuxResources]()); got != nil {
		t.Fatalf("data after the first value read: %q", got)
	}
}

func TestJSONFields(t *testing.T) {
	type inner struct {
		A int `json:"a"`
	}
	type outer struct {
		inner
		B       int `json:"b,omitempty"`
		C       int `json:"-"`
		D       int
		private int
	}
	got := slices.Sorted(func(yield func(string) bool) {
		for n := range jsonFields(reflect.TypeFor[outer]()) {
			if !yield(n) {
				return
			}
		}
	})
	if want := []string{"D", "a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// warnings runs f and returns the warnings it logged.
func warnings(t *testing.T, f func()) []string {
	t.Helper()
	hook := logtest.NewGlobal()
	defer logrus.StandardLogger().ReplaceHooks(make(logrus.LevelHooks))
	f()
	var out []string
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.WarnLevel {
			out = append(out, e.Message)
		}
	}
	return out
}

func TestParseSpecWarnsOfWhatItDoesNotApply(t *testing.T) {
	known := `{"ociVersion":"1.3.0","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"},"linux":{"namespaces":[{"type":"pid"}]}}`
	if w := warnings(t, func() {
		if _, err := ParseSpec([]byte(known)); err != nil {
			t.Fatal(err)
		}
	}); len(w) != 0 {
		t.Fatalf("a config berth knows whole: %q", w)
	}
	// Case as encoding/json matches it is not unknown.
	if w := warnings(t, func() { _, _ = ParseSpec([]byte(`{"OCIVERSION":"1.3.0","Linux":{}}`)) }); len(w) != 0 {
		t.Fatalf("names in another case: %q", w)
	}
	var spec *specs.Spec
	w := warnings(t, func() {
		var err error
		spec, err = ParseSpec([]byte(`{"ociVersion":"1.3.0","process":{"args":["sh"],"cwd":"/","futureField":true},"linux":{"foo":1},"vm":{"kernel":{"path":"/k"}},"windows":{}}`))
		if err != nil {
			t.Fatal(err)
		}
	})
	if len(w) != 2 || !strings.Contains(w[0], "config.json: unknown to berth (runtime-spec "+specs.Version+"), not applied: linux.foo, process.futureField") ||
		w[1] != "config.json: for another platform than Linux, not applied: windows, vm" {
		t.Fatalf("warnings %q", w)
	}
	// The rest of the document is decoded as before.
	if spec.Process == nil || spec.Process.Args[0] != "sh" {
		t.Fatalf("spec %+v", spec)
	}
	// A wrong type is an error, with json.Unmarshal's own text.
	if _, err := ParseSpec([]byte(`{"ociVersion":"1.3.0","process":{"args":"sh","zzz":1}}`)); err == nil || !strings.Contains(err.Error(), "cannot unmarshal") {
		t.Fatalf("wrong type: %v", err)
	}
}

func TestWarnUnknownBoundsTheLine(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 30 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"u` + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + `":1`)
	}
	b.WriteString("}")
	w := warnings(t, func() { WarnUnknown[specs.LinuxResources]("resources -", []byte(b.String())) })
	if len(w) != 1 || !strings.HasSuffix(w[0], " and 10 more") {
		t.Fatalf("warnings %q", w)
	}
}

func TestDecodeKnownRefusesNUL(t *testing.T) {
	for doc, want := range map[string]string{
		`{"process":{"args":["tr\u0000ue"]}}`:                    "process.args[0]",
		`{"mounts":[{"destination":"/a"},{"source":"p\u0000"}]}`: "mounts[1].source",
		`{"linux":{"sysctl":{"k\u0000":"1"}}}`:                   "linux.sysctl.k\x00",
		`{"hostname":"a\u0000b"}`:                                "hostname",
	} {
		_, err := DecodeKnown[specs.Spec]("config.json", []byte(doc))
		if err == nil || !strings.Contains(err.Error(), "config.json: "+want+" contains a NUL byte") {
			t.Errorf("%s: err = %v, want %q named", doc, err, want)
		}
	}
	for _, doc := range []string{
		`{"annotations":{"a":"b\u0000c"},"hostname":"h"}`, // not passed to the kernel
		`{"hostname":"a\\u0000b"}`,                        // a backslash, then "u0000"
	} {
		if _, err := DecodeKnown[specs.Spec]("config.json", []byte(doc)); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
}
