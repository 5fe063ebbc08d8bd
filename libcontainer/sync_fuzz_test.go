package libcontainer

import (
	"testing"

	"github.com/berth-runtime/berth/libcontainer/wire"
)

// FuzzDecodeSyncMsg: a frame body from a child running in an untrusted
// rootfs never panics the runtime; an accepted message has a known type
// and decodes the same after re-encoding. Seeds: testdata/fuzz/FuzzDecodeSyncMsg.
func FuzzDecodeSyncMsg(f *testing.F) {
	f.Add(encodeSyncMsg(syncMsg{Type: msgReady}))
	f.Add(encodeSyncMsg(syncMsg{Type: msgError, Error: "mount proc on /proc: permission denied"}))
	f.Add(encodeSyncMsg(syncMsg{Type: msgConfig, Payload: []byte{2, 'i', 'd'}}))
	f.Add(encodeSyncMsg(syncMsg{Type: "bogus"}))
	f.Add([]byte("\x05ready\xff"))
	f.Add([]byte(`{"type":"ready"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := decodeSyncMsg(body)
		if err != nil {
			return
		}
		switch m.Type {
		case msgConfig, msgCgroupJoin, msgCgroupReady, msgMountSource, msgMountSourceFd, msgHooks, msgHooksDone, msgSeccompFd, msgSeccompDone, msgReady, msgStart, msgError, msgLog:
		default:
			t.Fatalf("accepted unknown type %q", m.Type)
		}
		frame, err := encodeFrame(encodeSyncMsg(m))
		if err != nil {
			t.Fatalf("frame: %v", err)
		}
		m2, err := decodeSyncMsg(frame[4:])
		if err != nil || m2.Type != m.Type || m2.Error != m.Error || string(m2.Payload) != string(m.Payload) {
			t.Fatalf("round trip of %q: got %+v, %v", body, m2, err)
		}
		// A payload from an untrusted process never panics the runtime's
		// decoder either.
		var req mountSourceRequest
		_ = wire.Unmarshal(m.Payload, &req)
	})
}
