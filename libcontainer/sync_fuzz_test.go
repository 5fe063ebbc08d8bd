package libcontainer

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeSyncMsg: a frame body from a child running in an untrusted
// rootfs never panics the runtime; an accepted message has a known type
// and decodes the same after re-encoding. Seeds: testdata/fuzz/FuzzDecodeSyncMsg.
func FuzzDecodeSyncMsg(f *testing.F) {
	f.Add([]byte(`{"type":"ready"}`))
	f.Add([]byte(`{"type":"error","error":"mount proc on /proc: permission denied"}`))
	f.Add([]byte(`{"type":"config","payload":{"id":"x"}}`))
	f.Add([]byte(`{"type":"bogus"}`))
	f.Add([]byte(`{"type":"ready","payload":`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := decodeSyncMsg(body)
		if err != nil {
			return
		}
		switch m.Type {
		case msgConfig, msgCgroupJoin, msgCgroupReady, msgMountSource, msgMountSourceFd, msgHooks, msgHooksDone, msgSeccompFd, msgSeccompDone, msgReady, msgStart, msgError:
		default:
			t.Fatalf("accepted unknown type %q", m.Type)
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", m, err)
		}
		frame, err := encodeFrame(again)
		if err != nil {
			t.Fatalf("frame %d bytes: %v", len(again), err)
		}
		m2, err := decodeSyncMsg(frame[4:])
		if err != nil || m2.Type != m.Type || m2.Error != m.Error {
			t.Fatalf("round trip of %q: got %+v, %v", body, m2, err)
		}
	})
}
