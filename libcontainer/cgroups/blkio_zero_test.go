package cgroups

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Docker 20.10 puts "blockIO": {"weight": 0} in every config.json it
// writes; 0 means "not set", as runc reads it.
func TestBlkioWeightZeroIsUnset(t *testing.T) {
	zero := uint16(0)
	res, err := ConvertResources(&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: &zero}})
	if err != nil {
		t.Fatalf("weight 0 refused: %v", err)
	}
	if res.BlkioWeight != 0 {
		t.Fatalf("BlkioWeight = %d, want 0 (unset)", res.BlkioWeight)
	}
}
