package libcontainer

import "testing"

func TestProcUserNSPid(t *testing.T) {
	for path, want := range map[string]string{
		"/proc/1/ns/user":     "1",
		"/proc/12345/ns/user": "12345",
	} {
		if got, ok := procUserNSPid(path); !ok || got != want {
			t.Errorf("procUserNSPid(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
	for _, path := range []string{
		"", "/proc//ns/user", "/proc/self/ns/user", "/proc/12/ns/net", "/proc/12/ns/user/",
		"/proc/1a/ns/user", "proc/1/ns/user", "/run/ns/user", "/proc/1/../2/ns/user", "/proc/-1/ns/user",
	} {
		if got, ok := procUserNSPid(path); ok {
			t.Errorf("procUserNSPid(%q) = %q, true; want no match", path, got)
		}
	}
}
