package configs

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The seed corpora are in testdata/fuzz/<FuzzName>/; `go test` runs them
// as regression cases, `go test -fuzz FuzzName` explores from them.

// FuzzParseSpec: no input may panic the parser or the validator, and a
// spec that parses survives a round trip through its own encoding.
func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(`{"ociVersion":"1.3.0","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"},"linux":{}}`))
	f.Add([]byte(`{"ociVersion":"1.3.0"} {"trailing":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := ParseSpec(data)
		if err != nil {
			return
		}
		// The bundle does not exist: Validate must fail cleanly or pass,
		// never panic, whatever the fields hold.
		_ = Validate(spec, "/nonexistent-berth-fuzz-bundle")
		if spec.Process != nil {
			_ = ValidateProcess(spec.Process)
		}
		again, err := json.Marshal(spec)
		if err != nil {
			t.Fatalf("re-encode parsed spec: %v", err)
		}
		if _, err := ParseSpec(again); err != nil {
			t.Fatalf("re-parse own encoding %s: %v", again, err)
		}
	})
}

// FuzzValidateID: an accepted ID matches the documented pattern and is
// exactly one path component under the state root.
func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"abc", "a.b-c_d+e", ".", "..", "../x", "a/b", "", "-a", "a\x00b", strings.Repeat("a", 1025)} {
		f.Add(s)
	}
	// Made here, not at package level: TestMountOptionTablesAreStatic
	// checks that the package's initialisation allocates nothing.
	idPattern := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_+.-]*$`)
	f.Fuzz(func(t *testing.T, id string) {
		if ValidateID(id) != nil {
			return
		}
		if !idPattern.MatchString(id) || id == "." || id == ".." || len(id) > MaxIDLength {
			t.Fatalf("accepted bad id %q", id)
		}
		root := "/run/berth"
		p := filepath.Join(root, id)
		if filepath.Dir(p) != root || filepath.Base(p) != id {
			t.Fatalf("id %q escapes the root: %s", id, p)
		}
	})
}

// FuzzParseMountOptions: options never panic; a flag is never both set
// and cleared; data passed to mount(2) holds no NUL.
func FuzzParseMountOptions(f *testing.F) {
	f.Add("ro,nosuid,rbind,rprivate,mode=755")
	f.Add("rw,ro,rw,noexec,exec,rro,rrw")
	f.Add("idmap")
	f.Add("size=65536k\x00,x")
	f.Fuzz(func(t *testing.T, joined string) {
		opts := strings.Split(joined, ",")
		mf, err := ParseMountOptions(opts)
		if err != nil {
			return
		}
		if mf.Flags&mf.ClearFlags != 0 {
			t.Fatalf("%q: flags %#x both set and cleared (%#x)", opts, mf.Flags, mf.ClearFlags)
		}
		for _, d := range mf.Data {
			if strings.IndexByte(d, 0) >= 0 {
				t.Fatalf("%q: NUL in mount data %q", opts, d)
			}
		}
		for _, p := range mf.Propagation {
			if p&^(unix.MS_SHARED|unix.MS_SLAVE|unix.MS_PRIVATE|unix.MS_UNBINDABLE|unix.MS_REC) != 0 {
				t.Fatalf("%q: propagation %#x has other flags", opts, p)
			}
		}
	})
}
