package libcontainer

import (
	"errors"
	"testing"

	"github.com/opencontainers/cgroups"
	"github.com/sirupsen/logrus"
)

// oomManager is a cgroup manager whose only working method is the OOM
// kill count.
type oomManager struct {
	cgroups.Manager
	kills uint64
	err   error
}

func (m oomManager) OOMKillCount() (uint64, error) { return m.kills, m.err }

func TestStartErrorOOM(t *testing.T) {
	initGone := &initSideError{errors.New("container init exited during set-up")}
	for _, tc := range []struct {
		name string
		mgr  cgroups.Manager
		want string
	}{
		{"no cgroup yet", nil, "unable to start container process: error during container init: container init exited during set-up"},
		{"no kill", oomManager{}, "unable to start container process: error during container init: container init exited during set-up"},
		{"count unreadable", oomManager{kills: 1, err: errors.New("no memory controller")}, "unable to start container process: error during container init: container init exited during set-up"},
		{"killed", oomManager{kills: 1}, "unable to start container process: container init was OOM-killed (memory limit too low?)"},
	} {
		cr := &creation{cg: &newCgroup{mgr: tc.mgr}}
		if got := cr.startError(initGone).Error(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	// --debug keeps the error the kill caused
	logrus.SetLevel(logrus.DebugLevel)
	defer logrus.SetLevel(logrus.InfoLevel)
	cr := &creation{cg: &newCgroup{mgr: oomManager{kills: 2}}}
	err := cr.startError(initGone)
	if want := "unable to start container process: container init was OOM-killed (memory limit too low?): container init exited during set-up"; err.Error() != want {
		t.Errorf("debug: %q, want %q", err, want)
	}
	if !errors.Is(err, initGone) {
		t.Error("debug: the original error is not wrapped")
	}
}
