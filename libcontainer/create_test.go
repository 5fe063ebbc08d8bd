package libcontainer

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/cgroups"
	"github.com/sirupsen/logrus"
)

// oomManager is a cgroup manager whose only working methods are the OOM
// kill count and the paths (a cgroup2 directory, when dir is set).
type oomManager struct {
	cgroups.Manager
	kills uint64
	err   error
	dir   string
}

func (m oomManager) OOMKillCount() (uint64, error) { return m.kills, m.err }

func (m oomManager) GetPaths() map[string]string {
	if m.dir == "" {
		return map[string]string{"memory": "/nonexistent"}
	}
	return map[string]string{"": m.dir}
}

// v2Dir is a cgroup2 directory whose memory.events counts oom events.
func v2Dir(t *testing.T, oom string) string {
	dir := t.TempDir()
	events := "low 0\nhigh 0\nmax 3\noom " + oom + "\noom_kill 0\noom_group_kill 0\n"
	if err := os.WriteFile(filepath.Join(dir, "memory.events"), []byte(events), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestStartErrorOOM(t *testing.T) {
	initGone := &initSideError{errors.New("container init exited during set-up")}
	const plain = "unable to start container process: error during container init: container init exited during set-up"
	for _, tc := range []struct {
		name string
		mgr  cgroups.Manager
		want string
	}{
		{"no cgroup yet", nil, plain},
		{"no kill", oomManager{}, plain},
		{"count unreadable", oomManager{kills: 1, err: errors.New("no memory controller")}, plain},
		{"killed", oomManager{kills: 1}, "unable to start container process: container init was OOM-killed (memory limit too low?)"},
		{"v2, no oom event", oomManager{dir: v2Dir(t, "0")}, plain},
		{"v2, at the limit without a kill", oomManager{dir: v2Dir(t, "2")},
			"unable to start container process: container init ran out of memory at its cgroup's limit (memory limit too low?)"},
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
